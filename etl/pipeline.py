"""The stages of a night, each runnable on its own: load, build, publish, and ``nightly``
which chains them under the writer lock.

Progress and per-file accounting go to stderr; the functions return what happened so
the CLI can choose the exit code (0 all well, 1 a delivery rejected or a test failed).
"""

import json
import sys
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from sqlalchemy import Connection

from etl import db, gate, gate_two, transform
from etl import publish as publishing
from etl.checked_before import record_checked
from etl.config import Settings
from etl.crashpoints import maybe_crash
from etl.errors import DeliveryRejected
from etl.extract import unnamed_files
from etl.extract_ahead import Ahead, extracts_ahead
from etl.inbox import Delivery, discover
from etl.load import (
    DeliveryReport,
    FileReport,
    already_loaded,
    newer_loaded,
    record_rejection,
    register_site,
    write_delivery,
)
from etl.mapping import LoadedMapping, load_all_mappings
from etl.report import write_report
from etl.runs import finish_run, start_run, utc_now
from etl.stages import stage


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class NightResult:
    run_id: str
    deliveries: list[DeliveryReport] = field(default_factory=list)
    build: transform.BuildResult | None = None
    gate_two: gate.GateReport | None = None
    release: Path | None = None

    @property
    def rejected(self) -> list[DeliveryReport]:
        return [d for d in self.deliveries if d.status == "rejected"]

    @property
    def succeeded(self) -> bool:
        return (not self.rejected and (self.build is None or self.build.succeeded)
                and (self.gate_two is None or self.gate_two.passed))


class Loader:
    """Loads deliveries for one run; gate 1's GX project is set up on first use."""

    def __init__(self, connection: Connection, settings: Settings, run_id: str) -> None:
        self.connection, self.settings, self.run_id = connection, settings, run_id
        self.key = settings.require_pseudonym_key()
        self._gate: gate.GateOne | None = None

    @property
    def gate_one(self) -> gate.GateOne | None:
        return self._gate

    def load(self, inbox: Path, mappings: dict[str, LoadedMapping]) -> list[DeliveryReport]:
        """Load every new delivery in ``inbox``, per centre in export-date order."""
        entries = discover(inbox, mappings, self.settings.settle_seconds)
        deliveries = entries.deliveries
        for entry in entries.unclaimed:
            say(f"! {entry.name}: no centre mapping claims this inbox entry; left untouched")
        for entry, age in entries.arriving.items():
            say(f"~ {entry.name}: changed {age:.0f} s ago, less than PRRT_SETTLE_SECONDS="
                f"{self.settings.settle_seconds}: it may still be arriving; left for the "
                "next run")
        say(f"{len(deliveries)} deliver{'y' if len(deliveries) == 1 else 'ies'} in {inbox}")
        with db.checkpoints_deferred(self.connection):
            reports = [self._load_one(mappings[ahead.delivery.site], ahead) for ahead in
                       extracts_ahead(deliveries, self._wanted, self.settings, mappings,
                                      self.key)]
        with stage("raw_write"):
            db.checkpoint(self.connection)
        if self._gate is not None:
            with stage("gate_one"):
                self._gate.build_docs()
        return reports

    def _wanted(self, delivery: Delivery) -> bool:
        return not (delivery.misdated or already_loaded(self.connection, delivery)
                    or newer_loaded(self.connection, delivery))

    def _load_one(self, loaded: LoadedMapping, ahead: Ahead) -> DeliveryReport:
        connection, delivery = self.connection, ahead.delivery
        if already_loaded(connection, delivery):
            ahead.discard()
            say(f"= {delivery.name}: already loaded (same content), skipped")
            return DeliveryReport(delivery=delivery, status="skipped")
        register_site(connection, loaded, utc_now())
        say(f"> {delivery.name} ({delivery.site}, "
            f"{f'exported {delivery.export_date}' if delivery.export_date else 'undated'})")
        for name in unnamed_files(loaded.mapping, delivery):
            say(f"  {name}: not read, no extract of {loaded.path.name} names it")
        if delivery.misdated:
            say(f"x {delivery.name}: REJECTED: {delivery.misdated}")
            return record_rejection(connection, self.run_id, delivery, delivery.misdated,
                                    utc_now())
        newer = newer_loaded(connection, delivery)
        if newer is not None:
            ahead.discard()
            message = (f"exported {delivery.export_date}, before {newer[0]} (exported "
                       f"{newer[1]}), which is loaded: a snapshot older than the centre's "
                       "newest would roll back what the newer one brought. If its content "
                       "is current, resend it under a later export date")
            say(f"x {delivery.name}: REJECTED: {message}")
            return record_rejection(connection, self.run_id, delivery, message, utc_now())
        try:
            with stage("extract_wait"):
                extracted = ahead.result()
        except DeliveryRejected as rejection:
            say(f"x {delivery.name}: REJECTED: {rejection}")
            return record_rejection(connection, self.run_id, delivery, str(rejection),
                                    utc_now())
        maybe_crash("extract")
        with stage("gate_one"):
            if self._gate is None:
                say("  gate 1: setting up Great Expectations ...")
                self._gate = gate.GateOne(self.settings, self.run_id)
            checked = self._gate.check(connection, delivery, extracted)
        for warning in checked.warnings:
            say(f"  warning: {warning.target}: {warning.check_name}: {warning.message}")
        if not checked.passed:
            message = ("critical quality expectation(s) failed: "
                       + checked.describe(checked.critical_failures))
            _print_files(extracted.files)
            say(f"x {delivery.name}: REJECTED by gate 1: {message}")
            return record_rejection(connection, self.run_id, delivery, message, utc_now(),
                                    self._auditor(checked), extracted)
        say(f"  gate 1 passed ({len(checked.results)} expectations, "
            f"{len(checked.warnings)} warning(s))")
        maybe_crash("gate")
        with stage("raw_write"):
            report = write_delivery(connection, self.run_id, delivery, extracted, utc_now(),
                                    self._auditor(checked, loaded=delivery.site),
                                    checked.recognised)
        _print_accounting(report)
        return report

    def _auditor(self, checked: gate.GateReport, loaded: str | None = None):
        """Writes the gate's results for the delivery and, when it is ``loaded`` (the
        centre), the suites that checked its tables."""
        def write(connection: Connection, delivery_id: int) -> None:
            gate.record_results(connection, self.run_id, delivery_id, checked.results,
                                utc_now())
            if loaded is not None:
                record_checked(connection, loaded, delivery_id, checked.suites)
        return write


def load_deliveries(connection: Connection, settings: Settings, run_id: str, inbox: Path,
                    mappings: dict[str, LoadedMapping]) -> list[DeliveryReport]:
    """Load every new delivery in ``inbox`` (see ``Loader``)."""
    return Loader(connection, settings, run_id).load(inbox, mappings)


def _print_accounting(report: DeliveryReport) -> None:
    _print_files(report.files)
    for table, counts in report.merges.items():
        say(f"  raw.{table}: {counts.inserted} new, {counts.updated} changed, "
            f"{counts.withdrawn} withdrawn")


def _print_files(files: list[FileReport]) -> None:
    """Rows read, loaded, skipped and quarantined by reason, per file and table."""
    for file in files:
        if file.table is None and file.rows_read == 0:
            continue
        reasons = ", ".join(f"{reason} {count}" for reason, count in
                            sorted(file.quarantined.items()))
        target = f"raw.{file.table}" if file.table else "(selected by no extract)"
        skipped = f", skipped {file.rows_skipped} (empty)" if file.rows_skipped else ""
        say(f"  {file.file_name} -> {target}: read {file.rows_read}, "
            f"loaded {file.rows_loaded}{skipped}, quarantined {file.rows_quarantined}"
            + (f" ({reasons})" if reasons else ""))


def run_build(settings: Settings) -> transform.BuildResult:
    say("dbt build ...")
    with stage("dbt_build", children=True):
        result = transform.build(settings)
    if result.succeeded:
        say(f"dbt build passed ({result.nodes} nodes)")
    else:
        say(f"dbt build FAILED ({len(result.failures)} of {result.nodes} nodes):")
        for failure in result.failures:
            if not failure.node.startswith(("test.", "unit_test.")):  # tests: see gate 2
                say(f"  {failure.status}: {failure.node}: {failure.message}")
    return result


def nightly(settings: Settings, inbox: Path | None = None) -> NightResult:
    """Load new deliveries (gate 1), build and test (gate 2), publish when all passed."""
    settings.require_pseudonym_key()
    mappings = load_all_mappings(settings)  # a broken mapping stops the night at once
    with db.writer_lock(settings):
        with db.connect(settings) as connection:
            db.upgrade(connection)
            run_id = start_run(connection, "nightly")
            result = NightResult(run_id=run_id)
            loader = Loader(connection, settings, run_id)
            result.deliveries = loader.load(inbox or settings.inbox, mappings)
            needs_release = (publishing.unpublished_loads(connection) > 0
                             or publishing.current_release(settings) is None)
        docs = None
        if needs_release:
            result.build = run_build(settings)
            if result.build.succeeded:  # dbt needs the file to itself: before reconnecting
                with stage("docs", children=True):
                    docs = transform.generate_docs(settings)
        with db.connect(settings) as connection:
            if needs_release:
                with stage("gate_two"):
                    result.gate_two = check_gate_two(connection, settings, run_id,
                                                     result.build)
            if needs_release and result.build.succeeded and result.gate_two.passed:
                with stage("publish"):
                    result.release = publishing.publish(connection, settings, run_id, partial(
                        attach_release_files, gate_one=loader.gate_one, docs=docs,
                        summary=quality_summary(connection, run_id)))
                say(f"published {result.release / 'warehouse.duckdb'}")
            elif not needs_release:
                say("nothing new: the current release stays published")
            else:
                say("nothing published: the current release stays as it was")
            finish_run(connection, run_id, result.succeeded, _summary(result))
    return result


def attach_release_files(release: Path, gate_one: gate.GateOne | None, summary: str,
                         docs: Path | None) -> None:
    """What a night puts beside its release: Data Docs and the quality summary, the data
    dictionary (dbt docs) and the outcomes report."""
    gate.publish_quality(gate_one, release, summary)
    if docs is not None:
        publishing.attach_docs(release, docs)
    write_report(release)


def check_gate_two(connection: Connection, settings: Settings, run_id: str,
                   build: transform.BuildResult) -> gate.GateReport:
    """dbt's tests (already run by ``dbt build``) and, when the build passed, the marts
    against the published release."""
    shrinkage = gate_two.mart_shrinkage(connection, settings) if build.succeeded else []
    report = gate.GateReport(gate_two.dbt_test_results(build, connection) + shrinkage)
    with db.transaction(connection):
        gate.record_results(connection, run_id, None, report.results, utc_now())
    for failure in report.critical_failures:
        say(f"  gate 2 FAILED: {failure.target}: {failure.check_name}: {failure.message}")
    if report.passed:
        say(f"gate 2 passed ({len(report.results)} checks)")
    return report


def quality_summary(connection: Connection, run_id: str) -> str:
    """JSON summary of the gates behind a release: this run's checks and the gate 1
    results of every delivery loaded since the previous publication."""
    duck = connection.connection.driver_connection
    results = duck.execute(
        "SELECT g.gate, d.site_code, d.delivery_name, g.target, g.check_name, "
        "g.kahn_category, g.severity, g.passed, g.failures, g.message "
        "FROM meta.gate_result g LEFT JOIN meta.delivery d USING (delivery_id) "
        "WHERE g.run_id = ? OR d.processed_at > (SELECT coalesce(max(published_at), "
        "TIMESTAMP '1900-01-01') FROM meta.publication) ORDER BY g.gate_result_id",
        [run_id]).df()
    deliveries = duck.execute(
        "SELECT site_code, delivery_name, status, rows_read, rows_loaded, rows_skipped, "
        "rows_quarantined, message FROM meta.delivery WHERE run_id = ? ORDER BY site_code",
        [run_id]).df()
    return json.dumps({
        "run_id": run_id,
        "deliveries": deliveries.to_dict(orient="records"),
        "checks": int(len(results)),
        "failed": results[~results["passed"]].to_dict(orient="records"),
    }, indent=2, default=str)


def _summary(result: NightResult) -> str:
    parts = [f"{sum(d.status == s for d in result.deliveries)} {s}"
             for s in ("loaded", "skipped", "rejected")]
    for rejected in result.rejected:
        parts.append(f"rejected {rejected.delivery.name}: {rejected.message}")
    if result.build is not None and not result.build.succeeded:
        parts.append(f"dbt build failed: {', '.join(f.node for f in result.build.failures)}")
    if result.gate_two is not None and not result.gate_two.passed:
        parts.append("gate 2 failed: " + result.gate_two.describe(
            result.gate_two.critical_failures))
    return "; ".join(parts)

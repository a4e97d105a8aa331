"""The stages of a night, each runnable on its own: load, build, publish, and ``nightly``
which chains them under the writer lock.

Progress and per-file accounting go to stderr; the functions return what happened so
the CLI can choose the exit code (0 all well, 1 a delivery rejected or a test failed).
"""

import sys
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection

from etl import db, transform
from etl import publish as publishing
from etl.config import Settings
from etl.errors import DeliveryRejected
from etl.inbox import Delivery, discover
from etl.load import (
    DeliveryReport,
    already_loaded,
    extract_delivery,
    record_rejection,
    register_site,
    write_delivery,
)
from etl.mapping import LoadedMapping, load_all_mappings
from etl.runs import finish_run, start_run, utc_now


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class NightResult:
    run_id: str
    deliveries: list[DeliveryReport] = field(default_factory=list)
    build: transform.BuildResult | None = None
    release: Path | None = None

    @property
    def rejected(self) -> list[DeliveryReport]:
        return [d for d in self.deliveries if d.status == "rejected"]

    @property
    def succeeded(self) -> bool:
        return not self.rejected and (self.build is None or self.build.succeeded)


def load_deliveries(connection: Connection, settings: Settings, run_id: str, inbox: Path,
                    mappings: dict[str, LoadedMapping]) -> list[DeliveryReport]:
    """Load every new delivery in ``inbox``, per centre in export-date order."""
    key = settings.require_pseudonym_key()
    deliveries, unclaimed = discover(inbox, mappings)
    for entry in unclaimed:
        say(f"! {entry.name}: no centre mapping claims this inbox entry; left untouched")
    say(f"{len(deliveries)} deliver{'y' if len(deliveries) == 1 else 'ies'} in {inbox}")
    reports = []
    for delivery in deliveries:
        reports.append(_load_one(connection, mappings[delivery.site], delivery, run_id, key))
    return reports


def _load_one(connection: Connection, loaded: LoadedMapping, delivery: Delivery, run_id: str,
              key: bytes) -> DeliveryReport:
    if already_loaded(connection, delivery):
        say(f"= {delivery.name}: already loaded (same content), skipped")
        return DeliveryReport(delivery=delivery, status="skipped")
    register_site(connection, loaded, utc_now())
    say(f"> {delivery.name} ({delivery.site}, exported {delivery.export_date})")
    try:
        extracted = extract_delivery(loaded, delivery, key)
    except DeliveryRejected as rejection:
        say(f"x {delivery.name}: REJECTED: {rejection}")
        return record_rejection(connection, run_id, delivery, str(rejection), utc_now())
    report = write_delivery(connection, run_id, delivery, extracted, utc_now())
    for file in report.files:
        if file.table is None and file.rows_read == 0:
            continue
        reasons = ", ".join(f"{reason} {count}" for reason, count in
                            sorted(file.quarantined.items()))
        target = f"raw.{file.table}" if file.table else "(selected by no extract)"
        skipped = f", skipped {file.rows_skipped} (empty)" if file.rows_skipped else ""
        say(f"  {file.file_name} -> {target}: read {file.rows_read}, "
            f"loaded {file.rows_loaded}{skipped}, quarantined {file.rows_quarantined}"
            + (f" ({reasons})" if reasons else ""))
    for table, counts in report.merges.items():
        say(f"  raw.{table}: {counts.inserted} new, {counts.updated} changed, "
            f"{counts.withdrawn} withdrawn")
    return report


def run_build(settings: Settings) -> transform.BuildResult:
    say("dbt build ...")
    result = transform.build(settings)
    if result.succeeded:
        say(f"dbt build passed ({result.nodes} nodes)")
    else:
        say(f"dbt build FAILED ({len(result.failures)} of {result.nodes} nodes):")
        for failure in result.failures:
            say(f"  {failure.status}: {failure.node}: {failure.message}")
    return result


def nightly(settings: Settings, inbox: Path | None = None) -> NightResult:
    """Load new deliveries, build and test, and publish when everything passed."""
    settings.require_pseudonym_key()
    mappings = load_all_mappings(settings)  # a broken mapping stops the night at once
    with db.writer_lock(settings):
        with db.connect(settings) as connection:
            db.upgrade(connection)
            run_id = start_run(connection, "nightly")
            result = NightResult(run_id=run_id)
            result.deliveries = load_deliveries(connection, settings, run_id,
                                                inbox or settings.inbox, mappings)
            needs_release = (publishing.unpublished_loads(connection) > 0
                             or publishing.current_release(settings) is None)
        if needs_release:
            result.build = run_build(settings)
        with db.connect(settings) as connection:
            if needs_release and result.build.succeeded:
                result.release = publishing.publish(connection, settings, run_id)
                say(f"published {result.release / 'warehouse.duckdb'}")
            elif not needs_release:
                say("nothing new: the current release stays published")
            else:
                say("nothing published: the current release stays as it was")
            finish_run(connection, run_id, result.succeeded, _summary(result))
    return result


def _summary(result: NightResult) -> str:
    parts = [f"{sum(d.status == s for d in result.deliveries)} {s}"
             for s in ("loaded", "skipped", "rejected")]
    for rejected in result.rejected:
        parts.append(f"rejected {rejected.delivery.name}: {rejected.message}")
    if result.build is not None and not result.build.succeeded:
        parts.append(f"dbt build failed: {', '.join(f.node for f in result.build.failures)}")
    return "; ".join(parts)

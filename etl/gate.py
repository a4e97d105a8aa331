"""The quality gates: gate 1 before a delivery touches ``raw``, gate 2 (``etl.gate_two``)
before publishing.

Gate 1 runs the Great Expectations suites of ``expectations/`` over a delivery's
canonical frames (pandas: GX's SQL datasource returns empty results on DuckDB). A
failed critical expectation rejects the delivery; failed warnings are recorded and
reported. Results go to ``meta.gate_result`` in the same transaction as the delivery's
rows, and GX Data Docs (HTML) are built under ``build/gx/<run_id>/data_docs`` and
published beside the release.
"""

import copy
import os
import re
import shutil
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from etl.canonical import SOURCE_ROW
from etl.checked_before import (
    EVERY,
    NEW_OR_CHANGED,
    NONE,
    SHARING_KEYS,
    checked_suites,
    records_to_check,
    suite_digest,
)
from etl.config import Settings
from etl.inbox import Delivery
from etl.load import Extracted
from etl.severity import CRITICAL, WARNING, severity_of
from etl.snapshot import Recognised, preview_withdrawals
from models.base import metadata

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # never phone home
GATE1, GATE2 = "gate1", "gate2"
SAMPLE_SIZE = 5
# How a failing row is named, by the first of these a frame has: where the record came
# from (records, and the frames derived from them), or the delivery's file and table
ROW_NAMES = (["source_file", SOURCE_ROW], ["file", "table"], ["table"])


@dataclass(frozen=True)
class CheckResult:
    """One expectation or test, evaluated once (a row of ``meta.gate_result``)."""

    gate: str
    check_name: str
    target: str
    kahn_category: str | None
    severity: str
    passed: bool
    failures: int | None
    message: str


@dataclass
class GateReport:
    results: list[CheckResult] = field(default_factory=list)
    # table -> digest of the suite that checked it, recorded when the delivery is loaded
    suites: dict[str, str] = field(default_factory=dict)
    # table -> its records resent unchanged, as the withdrawal preview recognised them
    recognised: dict[str, Recognised] = field(default_factory=dict)

    @property
    def critical_failures(self) -> list[CheckResult]:
        return [r for r in self.results if not r.passed and r.severity == CRITICAL]

    @property
    def warnings(self) -> list[CheckResult]:
        return [r for r in self.results if not r.passed and r.severity == WARNING]

    @property
    def passed(self) -> bool:
        return not self.critical_failures

    def describe(self, results: list[CheckResult]) -> str:
        return "; ".join(f"{r.target}: {r.check_name}: {r.message}" for r in results)


class GateOne:
    """Gate 1 for one run: an in-memory GX project whose Data Docs are written to
    ``build/gx/<run_id>/data_docs`` (one suite per frame and centre, one validation run
    per delivery)."""

    def __init__(self, settings: Settings, run_id: str) -> None:
        import great_expectations as gx

        self._gx = gx
        self.docs_dir = settings.build_dir / "gx" / run_id / "data_docs"
        self._context = gx.get_context(mode="ephemeral")
        self._context.variables.progress_bars = {"globally": False,
                                                 "metric_calculations": False}
        self._context.add_data_docs_site(site_name="gate1", site_config={
            "class_name": "SiteBuilder",
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(self.docs_dir)},
        })
        # one dataframe asset for every suite: adding an asset (and its batch definition)
        # writes the whole project configuration again, which lists every asset added
        # before; a night 2 runs up to four parts of each suite, each its own definition
        # (``_validate_resent``). Making the definitions of every suite and part for four
        # centres (288) took 5.1 s with an asset each, 2.1 s with one (2026-12-07)
        self._batch = self._context.data_sources.add_pandas("deliveries").add_dataframe_asset(
            "frames").add_batch_definition_whole_dataframe("snapshot")
        self._definitions: dict[str, object] = {}
        from expectations.suites import DOMAINS

        self._domains = DOMAINS
        self._suites = [(frame_name, suite) for domain in DOMAINS
                        for frame_name, suite in domain.expectations().items()]
        self._digests = {frame_name: suite_digest(suite) for frame_name, suite in self._suites}

    def check(self, connection: Connection, delivery: Delivery, extracted: Extracted
              ) -> GateReport:
        """Every suite over its frame; when the same suite checked a table's records resent
        unchanged, its per-record expectations over the new and changed records only and
        its key's uniqueness over those and the resent ones sharing a key with another
        (``etl.checked_before``)."""
        frames = {name: frame for name, frame in extracted.tables.items()}
        for domain in self._domains:
            frames.update(domain.derived_frames(frames))
        frames["delivery_snapshot"], recognised = snapshot_changes(connection, delivery.site,
                                                                   extracted.tables)
        frames["delivery_files"] = file_quarantine(extracted)
        before = checked_suites(connection, delivery.site)
        report = GateReport(suites={name: self._digests[name] for name in extracted.tables
                                    if name in self._digests}, recognised=recognised)
        for frame_name, suite in self._suites:
            frame = frames.get(frame_name)
            if frame is None or frame.empty:
                continue
            known = recognised.get(frame_name)
            if known is None or not known.rows.any() or \
                    before.get(frame_name) != self._digests[frame_name]:
                report.results += self._validate(delivery, frame_name, frame, suite)
                continue
            report.results += self._validate_resent(delivery, frame_name, frame, suite, known)
        return report

    def _validate_resent(self, delivery: Delivery, frame_name: str, frame: pd.DataFrame,
                         suite: list, known: Recognised) -> list[CheckResult]:
        """The suite over a frame whose records resent unchanged it checked when they were
        loaded: each expectation over the records it must see (``etl.checked_before``)."""
        natural_key = metadata.tables[f"raw.{frame_name}"].info["natural_key"]
        parts: dict[str, list] = {NONE: [], EVERY: [], NEW_OR_CHANGED: [], SHARING_KEYS: []}
        for expectation in suite:
            parts[records_to_check(expectation, natural_key)].append(expectation)
        resent = known.rows
        sharing = known.shares_key if known.shares_key is not None else resent
        kept = int(resent.sum())
        # GX copies and hashes every row it is given: existence needs none of them
        results = self._validate(delivery, frame_name, frame.iloc[:0], parts[NONE], NONE)
        results += self._validate(delivery, frame_name, frame, parts[EVERY], EVERY)
        results += [replace(result, message=result.message + (
            f" [checked the {len(frame) - kept:,} new or changed records; the {kept:,} "
            "resent unchanged passed it when loaded]")) for result in self._validate(
            delivery, frame_name, frame[~resent], parts[NEW_OR_CHANGED], NEW_OR_CHANGED)]
        rechecked = ~resent | sharing
        others = len(frame) - int(rechecked.sum())
        results += [replace(result, message=result.message + (
            f" [checked the {len(frame) - others:,} records new, changed or sharing a key "
            f"with another; each of the {others:,} others resent unchanged is a current "
            "record whose key no other has]")) for result in self._validate(
            delivery, frame_name, frame[rechecked], parts[SHARING_KEYS], SHARING_KEYS)]
        return results

    def build_docs(self) -> None:
        """GX Data Docs (HTML) of every delivery this run checked."""
        self._context.build_data_docs(site_names=["gate1"])

    def _validate(self, delivery: Delivery, frame_name: str, frame: pd.DataFrame,
                  suite: list, part: str = "") -> list[CheckResult]:
        """``part`` names a part of the suite run on its own (its own GX definition)."""
        import great_expectations.expectations as gxe

        suite = [e for e in suite if isinstance(e, gxe.ExpectColumnToExist)
                 or _columns_of(e) <= set(frame.columns)]
        if not suite:
            return []
        name = ".".join(filter(None, [delivery.site, frame_name, part]))
        return self._run(name, suite, frame, frame_name, delivery)

    def _run(self, name: str, suite: list, frame: pd.DataFrame, frame_name: str,
             delivery: Delivery) -> list[CheckResult]:
        """GX sees only the columns the suite reads; a failure's rows are named from the
        whole ``frame`` by the index GX reports."""
        from great_expectations.core.run_identifier import RunIdentifier

        outcome = self._definition(name, suite).run(
            batch_parameters={"dataframe": _plain(frame[_present(frame, suite)])},
            run_id=RunIdentifier(run_name=delivery.name), result_format="SUMMARY")
        return [_result(frame_name, result, frame) for result in outcome.results]

    def _definition(self, name: str, suite: list):
        """One suite and validation definition per centre, frame and part of the suite,
        made once a run (all on the one dataframe asset)."""
        if name not in self._definitions:
            gx = self._gx
            stored = self._context.suites.add(gx.ExpectationSuite(
                name=name, expectations=[copy.copy(e) for e in suite]))  # one suite each
            self._definitions[name] = self._context.validation_definitions.add(
                gx.ValidationDefinition(name=name, data=self._batch, suite=stored))
        return self._definitions[name]


def _columns_of(expectation) -> set[str]:
    """The columns an expectation reads; one about a field the centre does not send (not
    in its mapping) does not apply to its deliveries."""
    kwargs = expectation.configuration.kwargs
    columns = {kwargs[k] for k in ("column", "column_A", "column_B") if kwargs.get(k)}
    columns |= set(kwargs.get("column_list") or [])
    condition = _condition_text(kwargs)
    if condition:
        columns.add(re.split(r"[<>=!]", condition, maxsplit=1)[0].strip())
    return columns


def _present(frame: pd.DataFrame, expectations: list) -> list[str]:
    """The columns of ``frame`` the expectations read (a missing one is their finding)."""
    wanted = set().union(*map(_columns_of, expectations))
    return [c for c in frame.columns if c in wanted]


def _condition_text(kwargs: dict) -> str | None:
    """A row condition as text (``item_no <= 28``) from GX's serialised form."""
    condition = kwargs.get("row_condition")
    if isinstance(condition, dict) and "column" in condition:
        return f"{condition['column']['name']} {condition['operator']} {condition['parameter']!r}"
    return None


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Nullable extension dtypes as plain NumPy ones, which every expectation understands:
    numbers as int64 (float64 when some are missing, which GX compares column-wise; as
    objects it calls Python per value), the others (text, flags) as objects."""
    plain = {}
    for column, dtype in frame.dtypes.items():
        if not isinstance(dtype, pd.api.extensions.ExtensionDtype):
            continue
        if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
            integers = pd.api.types.is_integer_dtype(dtype) and not frame[column].hasnans
            plain[column] = "int64" if integers else "float64"
        else:
            plain[column] = object
    # consolidated (a block per dtype, not per column): GX filters and copies the frame for
    # many of its metrics, and pandas consolidated every copy again (a seventh of gate 1)
    return frame.astype(plain).copy()


def _result(frame_name: str, result, frame: pd.DataFrame) -> CheckResult:
    config = result.expectation_config
    kwargs = config.kwargs
    columns = kwargs.get("column") or ", ".join(
        kwargs.get("column_list") or [kwargs.get(k) for k in ("column_A", "column_B")
                                      if kwargs.get(k)])
    condition = f" where {_condition_text(kwargs)}" if kwargs.get("row_condition") else ""
    details = result.result or {}
    failures = details.get("unexpected_count")
    message = config.meta.get("why", "")
    if not result.success:
        sample = [_shown(value) for value in details.get("partial_unexpected_list") or []]
        names = _row_names(frame, details.get("partial_unexpected_index_list") or [])
        if names:
            sample = ([f"{name}: {value}" for name, value in zip(names, sample, strict=True)]
                      if len(sample) == len(names) else names)
        if result.exception_info and result.exception_info.get("raised_exception"):
            message += f" (could not be evaluated: {result.exception_info['exception_message']})"
        elif sample:
            message += f" (e.g. {', '.join(str(v) for v in sample[:SAMPLE_SIZE])})"
        elif "observed_value" in details:
            message += f" (observed {details['observed_value']})"
    return CheckResult(
        gate=GATE1, check_name=f"{config.type}({columns}){condition}", target=frame_name,
        kahn_category=config.meta.get("kahn_category"),
        severity=severity_of(config), passed=bool(result.success),
        failures=failures, message=message)


def _row_names(frame: pd.DataFrame, index: list) -> list[str]:
    """The failing rows GX reports by index, named by ``ROW_NAMES`` (``lab.csv row 493``,
    ``qs.xpt / qlq_c30_item_response``); none when the frame has no such columns."""
    columns = next((c for c in ROW_NAMES if set(c) <= set(frame.columns)), None)
    if columns is None or not index or not frame.index.is_unique \
            or frame.index.isin(index).sum() != len(set(index)):
        return []
    rows = frame.loc[index, columns].astype(object).itertuples(index=False, name=None)
    if columns[-1] == SOURCE_ROW:
        return [f"{file} row {row}" for file, row in rows]
    return [" / ".join(str(v) for v in row if not pd.isna(v)) for row in rows]


def _shown(value: object) -> str:
    """A failing value as the message shows it: a float to four significant digits and
    never in exponent form (``0.9827``, ``12350``, ``0.0004``), a column pair's two
    values as ``(2024-03-20, 2024-04-01)``."""
    if isinstance(value, tuple | list):
        return f"({', '.join(map(_shown, value))})"
    if isinstance(value, float):
        return np.format_float_positional(value, precision=4, unique=False,
                                          fractional=False, trim="-")
    return str(value)


def snapshot_changes(connection: Connection, site: str, tables: dict[str, pd.DataFrame]
                     ) -> tuple[pd.DataFrame, dict[str, Recognised]]:
    """Per table: the centre's current records, and how many tonight's snapshot lacks;
    and per table, which of tonight's records are resent unchanged."""
    rows, recognised = [], {}
    for table_name, incoming in tables.items():
        preview = preview_withdrawals(connection, table_name, site, incoming)
        current = preview.current_records
        rows.append({"table": table_name, "current_records": current,
                     "incoming_records": preview.incoming_records,
                     "would_withdraw": preview.would_withdraw,
                     "withdrawn_share": preview.would_withdraw / current if current else 0.0})
        recognised[table_name] = preview.recognised
    return pd.DataFrame(rows), recognised


def file_quarantine(extracted: Extracted) -> pd.DataFrame:
    return pd.DataFrame([{
        "file": f.file_name, "table": f.table, "units_read": f.rows_read,
        "quarantined": f.rows_quarantined,
        "quarantined_share": f.rows_quarantined / f.rows_read if f.rows_read else 0.0,
    } for f in extracted.files])


def record_results(connection: Connection, run_id: str, delivery_id: int | None,
                   results: list[CheckResult], now: datetime) -> None:
    """Write gate results to ``meta.gate_result`` (inside the caller's transaction)."""
    if not results:
        return
    frame = pd.DataFrame([r.__dict__ for r in results]).assign(
        run_id=run_id, delivery_id=delivery_id, checked_at=now)
    duck = connection.connection.driver_connection
    duck.register("gate_results_frame", frame)
    try:
        connection.exec_driver_sql(
            "INSERT INTO meta.gate_result BY NAME SELECT * FROM gate_results_frame")
    finally:
        duck.unregister("gate_results_frame")


def publish_quality(gate_one: GateOne | None, release: Path, summary: str) -> None:
    """Data Docs of this run's gate 1 and the JSON quality summary, beside the release."""
    if gate_one is not None and gate_one.docs_dir.exists():
        shutil.copytree(gate_one.docs_dir, release / "data_docs", dirs_exist_ok=True)
    (release / "quality.json").write_text(summary, encoding="utf-8")

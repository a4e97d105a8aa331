"""The quality gates: gate 1 before a delivery touches ``raw``, gate 2 before publishing.

Gate 1 runs the Great Expectations suites of ``expectations/`` over a delivery's
canonical frames (pandas: GX's SQL datasource returns empty results on DuckDB). A
failed critical expectation rejects the delivery; failed warnings are recorded and
reported. Results go to ``meta.gate_result`` in the same transaction as the delivery's
rows, and GX Data Docs (HTML) are built under ``build/gx/<run_id>/data_docs`` and
published beside the release.

Gate 2 is ``dbt build``'s tests plus a comparison of every mart with the published
release: a mart that lost more than ``max_mart_shrink`` of its rows blocks publication.
"""

import copy
import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection

from etl.config import WAREHOUSE_FILE, Settings
from etl.inbox import Delivery
from etl.load import Extracted
from etl.transform import BuildResult
from expectations.thresholds import thresholds
from models.base import metadata

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # never phone home
GATE1, GATE2 = "gate1", "gate2"
SAMPLE_SIZE = 5


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

    @property
    def critical_failures(self) -> list[CheckResult]:
        return [r for r in self.results if not r.passed and r.severity == "critical"]

    @property
    def warnings(self) -> list[CheckResult]:
        return [r for r in self.results if not r.passed and r.severity == "warning"]

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
        self._source = self._context.data_sources.add_pandas("deliveries")
        self._definitions: dict[str, object] = {}
        from expectations.suites import DOMAINS

        self._domains = DOMAINS
        self._suites = [(frame_name, suite) for domain in DOMAINS
                        for frame_name, suite in domain.expectations().items()]

    def check(self, connection: Connection, delivery: Delivery, extracted: Extracted
              ) -> GateReport:
        frames = {name: frame for name, frame in extracted.tables.items()}
        for domain in self._domains:
            frames.update(domain.derived_frames(frames))
        frames["delivery_snapshot"] = snapshot_changes(connection, delivery.site,
                                                       extracted.tables)
        frames["delivery_files"] = file_quarantine(extracted)
        report = GateReport()
        for frame_name, suite in self._suites:
            frame = frames.get(frame_name)
            if frame is not None and not frame.empty:
                report.results += self._validate(delivery, frame_name, frame, suite)
        return report

    def build_docs(self) -> None:
        """GX Data Docs (HTML) of every delivery this run checked."""
        self._context.build_data_docs(site_names=["gate1"])

    def _validate(self, delivery: Delivery, frame_name: str, frame: pd.DataFrame,
                  suite: list) -> list[CheckResult]:
        import great_expectations.expectations as gxe
        from great_expectations.core.run_identifier import RunIdentifier

        suite = [e for e in suite if isinstance(e, gxe.ExpectColumnToExist)
                 or _columns_of(e) <= set(frame.columns)]
        if not suite:
            return []
        definition = self._definition(f"{delivery.site}.{frame_name}", suite)
        outcome = definition.run(batch_parameters={"dataframe": _plain(frame)},
                                 run_id=RunIdentifier(run_name=delivery.name),
                                 result_format="SUMMARY")
        return [_result(frame_name, result) for result in outcome.results]

    def _definition(self, name: str, suite: list):
        """One suite and validation definition per centre and frame, made once a run."""
        if name not in self._definitions:
            gx = self._gx
            batch = self._source.add_dataframe_asset(name).add_batch_definition_whole_dataframe(
                "snapshot")
            stored = self._context.suites.add(gx.ExpectationSuite(
                name=name, expectations=[copy.copy(e) for e in suite]))  # one suite each
            self._definitions[name] = self._context.validation_definitions.add(
                gx.ValidationDefinition(name=name, data=batch, suite=stored))
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


def _condition_text(kwargs: dict) -> str | None:
    """A row condition as text (``item_no <= 28``) from GX's serialised form."""
    condition = kwargs.get("row_condition")
    if isinstance(condition, dict) and "column" in condition:
        return f"{condition['column']['name']} {condition['operator']} {condition['parameter']!r}"
    return None


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Nullable extension dtypes as plain objects, which every expectation understands."""
    return frame.astype({c: object for c, t in frame.dtypes.items()
                         if isinstance(t, pd.api.extensions.ExtensionDtype)})


def _result(frame_name: str, result) -> CheckResult:
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
        sample = details.get("partial_unexpected_list") or []
        if result.exception_info and result.exception_info.get("raised_exception"):
            message += f" (could not be evaluated: {result.exception_info['exception_message']})"
        elif sample:
            message += f" (e.g. {', '.join(str(v) for v in sample[:SAMPLE_SIZE])})"
        elif "observed_value" in details:
            message += f" (observed {details['observed_value']})"
    return CheckResult(
        gate=GATE1, check_name=f"{config.type}({columns}){condition}", target=frame_name,
        kahn_category=config.meta.get("kahn_category"),
        severity=config.meta.get("severity", "critical"), passed=bool(result.success),
        failures=failures, message=message)


def snapshot_changes(connection: Connection, site: str, tables: dict[str, pd.DataFrame]
                     ) -> pd.DataFrame:
    """Per table: the centre's current records, and how many tonight's snapshot lacks."""
    rows = []
    duck = connection.connection.driver_connection
    for table_name, incoming in tables.items():
        key = metadata.tables[f"raw.{table_name}"].info["natural_key"]
        keys = incoming[key].drop_duplicates()
        duck.register("incoming_keys", keys)
        try:
            join = " AND ".join(f"c.{k} IS NOT DISTINCT FROM i.{k}" for k in key)
            current, missing = duck.execute(
                f"SELECT count(*), count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM "
                f"incoming_keys i WHERE {join})) FROM raw.{table_name} c WHERE c.site = ? "
                "AND c.valid_to IS NULL AND NOT c.is_withdrawn", [site]).fetchone()
        finally:
            duck.unregister("incoming_keys")
        rows.append({"table": table_name, "current_records": current,
                     "incoming_records": len(keys), "would_withdraw": missing,
                     "withdrawn_share": missing / current if current else 0.0})
    return pd.DataFrame(rows)


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


def dbt_test_results(build: BuildResult, connection: Connection | None = None
                     ) -> list[CheckResult]:
    """Gate 2: dbt's data and unit tests, as run by ``dbt build``, with a few offending
    rows of a failed data test (kept by ``store_failures`` in schema test_failures)."""
    results = []
    for test in build.tests:
        passed = test.status == "pass"
        message = test.message or test.status
        if not passed and test.relation and connection is not None:
            message += f"; offending rows: {offending_rows(connection, test.relation)}"
        results.append(CheckResult(
            gate=GATE2, check_name=test.node, target=_tested_model(test.node),
            kahn_category=None, severity="warning" if test.status == "warn" else "critical",
            passed=passed, failures=test.failures, message=message))
    return results


def _tested_model(node: str) -> str:
    """``test.prrt_warehouse.not_null_dim_patient_site.1a2b`` -> the test's name part."""
    parts = node.split(".")
    return parts[2] if len(parts) > 2 else node


def offending_rows(connection: Connection, relation: str) -> str:
    try:
        rows = connection.exec_driver_sql(f"SELECT * FROM {relation} LIMIT {SAMPLE_SIZE}")
        return "; ".join("(" + ", ".join(str(value) for value in row) + ")"
                         for row in rows.fetchall()) or "(none stored)"
    except Exception as error:  # noqa: BLE001 (a summary must not hide the failure itself)
        return f"(not readable: {error})"


def mart_shrinkage(connection: Connection, settings: Settings) -> list[CheckResult]:
    """Gate 2: every mart's row count against the published release."""
    max_shrink = float(thresholds()["max_mart_shrink"])
    current = settings.current_link / WAREHOUSE_FILE
    if not current.exists():
        return []
    sql = connection.exec_driver_sql
    sql(f"ATTACH '{current}' AS published (READ_ONLY)")
    try:
        tables = [t for (t,) in sql(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'published' "
            "AND schema_name = 'marts' ORDER BY 1").fetchall()]
        built = {t for (t,) in sql(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = 'marts'").fetchall()}
        results = []
        for table in tables:
            before = sql(f"SELECT count(*) FROM published.marts.{table}").scalar_one()
            after = sql(f"SELECT count(*) FROM marts.{table}").scalar_one() if table in built \
                else 0
            if table in built:
                results += _null_shift(connection, table)
            lost = (before - after) / before if before else 0.0
            results.append(CheckResult(
                gate=GATE2, check_name="row_count_against_published_release",
                target=f"marts.{table}", kahn_category="completeness", severity="critical",
                passed=lost <= max_shrink, failures=max(before - after, 0),
                message=f"{before} rows published, {after} rows now ({lost:.1%} lost; at "
                        f"most {max_shrink:.0%} may be lost, expectations/thresholds.yml)"))
        return results
    finally:
        connection.commit()  # DuckDB detaches only outside a transaction that read it
        sql("DETACH published")


def _null_shift(connection: Connection, table: str) -> list[CheckResult]:
    """Gate 2 distribution check (a warning): columns of a mart that became much emptier
    than in the published release, e.g. a centre stopped sending a field."""
    limit = float(thresholds()["max_null_share_increase"])
    columns = [c for (c,) in connection.exec_driver_sql(
        "SELECT p.column_name FROM duckdb_columns() p JOIN duckdb_columns() b USING "
        "(schema_name, table_name, column_name) WHERE p.database_name = 'published' AND "
        "b.database_name = current_database() AND p.schema_name = 'marts' AND "
        "p.table_name = ? ORDER BY p.column_index", (table,)).fetchall()]
    if not columns:
        return []
    shares = ", ".join(f'1 - count("{c}") / greatest(count(*), 1)' for c in columns)
    before = connection.exec_driver_sql(f"SELECT {shares} FROM published.marts.{table}").one()
    after = connection.exec_driver_sql(f"SELECT {shares} FROM marts.{table}").one()
    return [CheckResult(
        gate=GATE2, check_name=f"null_share_against_published_release({column})",
        target=f"marts.{table}", kahn_category="completeness", severity="warning",
        passed=(now - then) <= limit, failures=None,
        message=f"empty in {then:.1%} of published rows, {now:.1%} now (at most "
                f"{limit:.0%} more may be empty, expectations/thresholds.yml)")
        for column, then, now in zip(columns, before, after, strict=True)]


def publish_quality(gate_one: GateOne | None, release: Path, summary: str) -> None:
    """Data Docs of this run's gate 1 and the JSON quality summary, beside the release."""
    if gate_one is not None and gate_one.docs_dir.exists():
        shutil.copytree(gate_one.docs_dir, release / "data_docs", dirs_exist_ok=True)
    (release / "quality.json").write_text(summary, encoding="utf-8")

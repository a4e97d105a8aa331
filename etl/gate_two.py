"""Gate 2, before publishing: ``dbt build``'s data and unit tests, plus a comparison of
every mart with the published release: a mart that lost more than ``max_mart_shrink`` of
its rows blocks publication, a column that became much emptier is a warning."""

from sqlalchemy import Connection

from etl.config import WAREHOUSE_FILE, Settings
from etl.gate import GATE2, SAMPLE_SIZE, CheckResult
from etl.severity import CRITICAL, WARNING
from etl.transform import BuildResult
from expectations.thresholds import thresholds


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
            kahn_category=None, severity=WARNING if test.status == "warn" else CRITICAL,
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
                target=f"marts.{table}", kahn_category="completeness", severity=CRITICAL,
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
        target=f"marts.{table}", kahn_category="completeness", severity=WARNING,
        passed=(now - then) <= limit, failures=None,
        message=f"empty in {then:.1%} of published rows, {now:.1%} now (at most "
                f"{limit:.0%} more may be empty, expectations/thresholds.yml)")
        for column, then, now in zip(columns, before, after, strict=True)]

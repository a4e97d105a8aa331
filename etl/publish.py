"""Publish a release: a read-only copy of the marts, the analytic layer and the code lists,
switched in atomically.

Readers open ``$PRRT_HOME/current/warehouse.duckdb`` read-only. Publishing writes a new
file under ``releases/<run_id>/`` (never touching the current one), then replaces the
``current`` symlink with one rename, which is atomic: a reader that opens ``current``
gets either the old or the new release, whole. Open readers keep their file. Raw rows,
``meta`` and anything that could identify a patient are not copied. The analytic views
are re-created in the release (they read its own marts: their SQL names no database) and
exported as Parquet, one file per view or table, for tools that cannot open DuckDB.
"""

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection

from etl.config import WAREHOUSE_FILE, Settings
from etl.crashpoints import maybe_crash
from etl.db import transaction
from etl.errors import PrrtError
from etl.runs import utc_now
from etl.sql import identifier, literal

PUBLISHED_SCHEMAS = ("marts", "codes", "analytics")
ANALYTICS = "analytics"
PARQUET_DIR = "parquet"
DOCS_DIR = "docs"


def write_release(connection: Connection, settings: Settings, run_id: str,
                  attach: Callable[[Path], None] | None = None) -> Path:
    """Copy the published schemas, with their table and column comments, to a new file;
    ``attach`` adds files beside it (quality reports) before the release is complete."""
    settings.releases_dir.mkdir(parents=True, exist_ok=True)
    partial = settings.releases_dir / f".{run_id}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    release_file = partial / WAREHOUSE_FILE
    sql = connection.exec_driver_sql
    sql(f"ATTACH {literal(str(release_file))} AS release")
    try:
        for schema in PUBLISHED_SCHEMAS:
            sql(f"CREATE SCHEMA release.{schema}")
            tables = sql(
                "SELECT table_name, comment FROM duckdb_tables() "
                "WHERE database_name = current_database() AND schema_name = ? ORDER BY 1",
                (schema,),
            ).fetchall()
            for table, comment in tables:
                sql(f"CREATE TABLE release.{schema}.{table} AS SELECT * FROM {schema}.{table}")
                if comment:
                    sql(f"COMMENT ON TABLE release.{schema}.{table} IS {literal(comment)}")
                _copy_column_comments(connection, schema, table)
        _copy_views(connection, ANALYTICS)
        sql("CREATE TABLE release.main.release_info AS SELECT ? AS run_id, ? AS published_at",
            (run_id, utc_now()))
        connection.commit()
        _export_parquet(connection, ANALYTICS, partial / PARQUET_DIR)
        connection.commit()
    finally:
        sql("DETACH release")
    if attach is not None:
        attach(partial)
    final = settings.releases_dir / run_id
    os.rename(partial, final)
    return final


def _copy_views(connection: Connection, schema: str) -> None:
    """Re-create the schema's views in the release from their stored SQL, with comments."""
    sql = connection.exec_driver_sql
    build = sql("SELECT current_database()").scalar_one()
    views = sql("SELECT view_name, sql, comment FROM duckdb_views() WHERE database_name = "
                "current_database() AND schema_name = ? ORDER BY 1", (schema,)).fetchall()
    sql("USE release")
    try:
        for _, definition, _ in views:
            sql(definition)
    finally:
        sql(f"USE {build}")
    for view, _, comment in views:
        if comment:
            sql(f"COMMENT ON VIEW release.{schema}.{view} IS {literal(comment)}")
        _copy_column_comments(connection, schema, view)


def _export_parquet(connection: Connection, schema: str, folder: Path) -> None:
    """Every table and view of the release's ``schema`` as ``folder/<name>.parquet``."""
    folder.mkdir()
    names = connection.exec_driver_sql(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = 'release' AND "
        "schema_name = ? UNION SELECT view_name FROM duckdb_views() WHERE database_name = "
        "'release' AND schema_name = ? ORDER BY 1", (schema, schema)).scalars().all()
    for name in names:
        target = literal(str(folder / f"{name}.parquet"))
        connection.exec_driver_sql(
            f"COPY (SELECT * FROM release.{schema}.{name}) TO {target} (FORMAT parquet)")


def _copy_column_comments(connection: Connection, schema: str, table: str) -> None:
    columns = connection.exec_driver_sql(
        "SELECT column_name, comment FROM duckdb_columns() WHERE database_name = "
        "current_database() AND schema_name = ? AND table_name = ? AND comment IS NOT NULL",
        (schema, table),
    ).fetchall()
    for column, comment in columns:
        connection.exec_driver_sql(
            f'COMMENT ON COLUMN release.{schema}.{table}.{identifier(column)} IS {literal(comment)}'
        )


def attach_docs(release_dir: Path, page: Path) -> Path:
    """The data dictionary (dbt's static docs page) as ``docs/index.html`` of a release."""
    folder = release_dir / DOCS_DIR
    folder.mkdir(exist_ok=True)
    return Path(shutil.copyfile(page, folder / "index.html"))


def switch_current(settings: Settings, release_dir: Path) -> None:
    """Point ``current`` at ``release_dir`` with an atomic rename of a fresh symlink."""
    staging_link = settings.home / ".current.new"
    staging_link.unlink(missing_ok=True)
    staging_link.symlink_to(release_dir.relative_to(settings.home))
    os.replace(staging_link, settings.current_link)


def current_release(settings: Settings) -> str | None:
    link = settings.current_link
    return Path(os.readlink(link)).name if link.is_symlink() else None


def unpublished_loads(connection: Connection) -> int:
    """Deliveries loaded after the newest publication (e.g. a night whose build failed):
    the next night must build and publish them even when nothing new arrives."""
    return connection.exec_driver_sql(
        "SELECT count(*) FROM meta.delivery WHERE status = 'loaded' AND processed_at > "
        "(SELECT coalesce(max(published_at), TIMESTAMP '1900-01-01') FROM meta.publication)"
    ).scalar_one()


def record_publication(connection: Connection, run_id: str, release_dir: Path) -> None:
    with transaction(connection):
        connection.exec_driver_sql("UPDATE meta.publication SET is_current = false")
        connection.exec_driver_sql(
            "INSERT OR REPLACE INTO meta.publication (run_id, release_path, published_at, "
            "is_current) VALUES (?, ?, ?, true)",
            (run_id, str(release_dir), utc_now()),
        )


def prune_releases(settings: Settings) -> list[str]:
    """Keep the newest ``PRRT_KEEP_RELEASES`` releases (and always the current one)."""
    current = current_release(settings)
    releases = sorted(p for p in settings.releases_dir.iterdir()
                      if p.is_dir() and not p.name.startswith("."))
    removed = []
    for old in releases[: max(0, len(releases) - settings.keep_releases)]:
        if old.name != current:
            shutil.rmtree(old)
            removed.append(old.name)
    return removed


def publish(connection: Connection, settings: Settings, run_id: str,
            attach: Callable[[Path], None] | None = None) -> Path:
    release_dir = write_release(connection, settings, run_id, attach)
    maybe_crash("publish")
    switch_current(settings, release_dir)
    record_publication(connection, run_id, release_dir)
    prune_releases(settings)
    return release_dir


def rollback(connection: Connection, settings: Settings) -> Path:
    """Point ``current`` back at the release published before the current one."""
    current = current_release(settings)
    releases = sorted(p.name for p in settings.releases_dir.glob("*")
                      if p.is_dir() and not p.name.startswith("."))
    earlier = [name for name in releases if current is None or name < current]
    if not earlier:
        raise PrrtError(f"No release before {current} in {settings.releases_dir} to roll back to")
    target = settings.releases_dir / earlier[-1]
    switch_current(settings, target)
    record_publication(connection, earlier[-1], target)
    return target

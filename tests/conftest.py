"""Shared fixtures: an isolated PRRT_HOME per test and the sample deliveries."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from etl import db
from etl.config import Settings
from etl.mapping import PACKAGED_SITES_DIR, content_columns, load_all_mappings, raw_table_names
from etl.pipeline import load_deliveries
from etl.runs import start_run
from models.base import metadata

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ROT_SAMPLE = FIXTURES / "ROT_20240601"
SAMPLES = {  # copies of ../shared/site-exports/samples, one delivery per centre
    "ROT": "ROT_20240601",
    "BBK": "BBK_export_2024-06-01.xlsx",
    "IOW": "IOW_20240601",
    "TRL": "TRL_20240601",
}
TEST_KEY = "test-key"
PRRT = str(Path(sys.executable).parent / "prrt")
# The centre patient ids in the ROT sample: none may ever reach the warehouse.
ROT_SAMPLE_PATIENT_IDS = ["9988620", "6203273", "1102296", "1654551", "4090310", "8909479"]


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("PRRT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PRRT_PSEUDONYM_KEY", TEST_KEY)
    monkeypatch.delenv("PRRT_SITES_DIR", raising=False)
    return Settings.from_env()


@pytest.fixture
def rot_inbox(settings: Settings) -> Path:
    """The inbox holding a copy of the ROT sample delivery."""
    settings.inbox.mkdir(parents=True)
    shutil.copytree(ROT_SAMPLE, settings.inbox / ROT_SAMPLE.name)
    return settings.inbox


def text_columns_containing(database: Path, fragments: list[str]) -> list[str]:
    """Every text column (schema.table.column) of ``database`` holding one of ``fragments``.

    DuckDB may compress strings on disk, so a byte search of the file is not enough.
    """
    found = []
    with duckdb.connect(str(database), read_only=True) as connection:
        columns = connection.sql(
            "SELECT schema_name, table_name, column_name FROM duckdb_columns() "
            "WHERE data_type = 'VARCHAR' AND NOT internal").fetchall()
        for schema, table, column in columns:
            condition = " OR ".join(f'contains("{column}", ?)' for _ in fragments)
            hits = connection.execute(
                f'SELECT count(*) FROM "{schema}"."{table}" WHERE {condition}',
                fragments).fetchone()[0]
            if hits:
                found.append(f"{schema}.{table}.{column}")
    return found


def prrt(settings: Settings, *args: str, key: str | None = TEST_KEY,
         **environment: str) -> subprocess.CompletedProcess:
    """Run the ``prrt`` CLI as a user would, in its own process."""
    env = {**os.environ, "PRRT_HOME": str(settings.home), **environment}
    env.pop("PRRT_PSEUDONYM_KEY", None)
    if key:
        env["PRRT_PSEUDONYM_KEY"] = key
    return subprocess.run([PRRT, *args], env=env, capture_output=True, text=True, timeout=600)


def release_rows(settings: Settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.current_link / "warehouse.duckdb"), read_only=True) as c:
        return c.sql(sql).fetchall()


def copy_samples(settings: Settings, *sites: str) -> None:
    """The sample deliveries of ``sites`` into the inbox, under their own names."""
    settings.inbox.mkdir(parents=True, exist_ok=True)
    for site in sites:
        sample = FIXTURES / SAMPLES[site]
        (shutil.copytree if sample.is_dir() else shutil.copy)(sample, settings.inbox / sample.name)


def with_reader_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sites: tuple[str, ...],
                        **options: object) -> Settings:
    """A second PRRT_HOME holding the samples of ``sites``, read through their packaged
    mappings with these ``reader`` options (written to PRRT_SITES_DIR)."""
    folder = tmp_path / "sites"
    folder.mkdir()
    for site in sites:
        mapping = yaml.safe_load((PACKAGED_SITES_DIR / f"{site.lower()}.yml").read_text())
        mapping.setdefault("reader", {}).update(options)
        (folder / f"{site.lower()}.yml").write_text(yaml.safe_dump(mapping, allow_unicode=True))
    monkeypatch.setenv("PRRT_HOME", str(tmp_path / "with_reader_options"))
    monkeypatch.setenv("PRRT_SITES_DIR", str(folder))
    settings = Settings.from_env()
    copy_samples(settings, *sites)
    return settings


def raw_records(connection, site: str, compared=lambda column: True) -> dict[str, list[tuple]]:
    """Each raw table's records of a centre, sorted: the ``compared`` content columns,
    floats to nine decimals (a unit conversion's last bits)."""
    per_table = {}
    for table in raw_table_names():
        fields = ", ".join(c for c in content_columns(metadata.tables[f"raw.{table}"])
                           if compared(c))
        rows = connection.exec_driver_sql(f"SELECT {fields} FROM raw.{table} WHERE site = ?",
                                          (site,)).fetchall()
        per_table[table] = sorted((tuple(round(v, 9) if isinstance(v, float) else v
                                         for v in row) for row in rows), key=repr)
    return per_table


def loaded_records(settings: Settings, sites: tuple[str, ...], compared=lambda column: True
                   ) -> dict[str, tuple[list, dict]]:
    """Load the inbox, where a delivery of each of ``sites`` must load; per centre the
    per-file accounting and each raw table's records (``raw_records`` of the ``compared``
    columns)."""
    with db.connect(settings) as connection:
        db.upgrade(connection)
        reports = load_deliveries(connection, settings, start_run(connection, "test"),
                                  settings.inbox, load_all_mappings(settings))
        assert [r.status for r in reports] == ["loaded"] * len(sites), [
            r.message for r in reports]
        return {r.delivery.site: ([(f.file_name, f.table, f.rows_read, f.rows_loaded,
                                    f.rows_skipped, f.rows_quarantined) for f in r.files],
                                  raw_records(connection, r.delivery.site, compared))
                for r in reports}

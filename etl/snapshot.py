"""Merge one centre's full snapshot of a table into its ``raw`` table, keeping history.

Deliveries are cumulative snapshots, so the merge compares tonight's records with the
current versions of the same centre, by natural key (``record_key``) and content
(``row_hash``): unchanged records are left alone (an identical resend changes nothing),
changed ones close their current version and add a new one, new ones are inserted, and
current records missing tonight are flagged withdrawn. All in set-based SQL.
"""

from dataclasses import dataclass
from datetime import datetime

import duckdb
import pandas as pd
import pyarrow as pa
from sqlalchemy import Connection, Table

from etl.mapping import PROVENANCE_FIELDS
from etl.sql import identifier
from models.base import metadata

INCOMING = "incoming_snapshot"


@dataclass(frozen=True)
class MergeCounts:
    inserted: int
    updated: int
    withdrawn: int


def _digest(columns: list[str]) -> str:
    parts = ", ".join(f"coalesce(CAST({name} AS VARCHAR), chr(0))" for name in columns)
    return f"md5(concat_ws(chr(31), {parts}))"


def content_columns(table: Table) -> list[str]:
    return [c.name for c in table.c if c.name not in PROVENANCE_FIELDS] + ["patient_pseudonym"]


def _columnar(rows: pd.DataFrame) -> pa.Table | pd.DataFrame:
    """The rows as Arrow columns, typed from their values (dates, decimals, text), which
    DuckDB reads without a Python call per cell; a column mixing types stays pandas."""
    try:
        return pa.Table.from_pandas(rows, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return rows


def _typed(types: dict[str, str], present: pd.Index) -> str:
    """``incoming_frame`` cast to the stored column types, in the stored column order;
    a column the frame lacks is NULL (as an INSERT BY NAME would make it)."""
    cells = ", ".join(
        f"CAST({identifier(name) if name in present else 'NULL'} AS {kind}) AS "
        f"{identifier(name)}" for name, kind in types.items())
    return f"SELECT {cells} FROM incoming_frame"


def _stored_types(duck: duckdb.DuckDBPyConnection, target: str) -> dict[str, str]:
    """The raw table's column types as DuckDB names them (what tonight's rows are cast to)."""
    stored = duck.sql(f"SELECT * EXCLUDE (raw_id) FROM {target} LIMIT 0")
    return dict(zip(stored.columns, map(str, stored.dtypes), strict=True))


@dataclass(frozen=True)
class WithdrawalPreview:
    current_records: int
    incoming_records: int  # distinct natural keys
    would_withdraw: int


def preview_withdrawals(connection: Connection, table_name: str, site: str,
                        rows: pd.DataFrame) -> WithdrawalPreview:
    """How many of the centre's current records tonight's ``rows`` lack, which the merge
    would flag withdrawn: gate 1 judges this before anything is written. Keys are compared
    by the digest the merge stores (``record_key``), typed as stored, so the count is the
    merge's own; one text column per side is also cheaper to match than the key's fields."""
    table = metadata.tables[f"raw.{table_name}"]
    natural_key = table.info["natural_key"]
    target = f"raw.{table_name}"
    duck = connection.connection.driver_connection
    types = _stored_types(duck, target)
    present = pd.Index([name for name in natural_key if name in rows.columns])
    duck.register("incoming_frame", rows[present])
    try:
        incoming, current, missing = connection.exec_driver_sql(
            f"WITH incoming AS (SELECT DISTINCT {_digest(natural_key)} AS record_key FROM "
            f"({_typed({name: types[name] for name in natural_key}, present)})) "
            "SELECT (SELECT count(*) FROM incoming), count(*), count(*) FILTER (WHERE "
            f"record_key NOT IN (SELECT record_key FROM incoming)) FROM {target} "
            "WHERE site = ? AND valid_to IS NULL AND NOT is_withdrawn", (site,)).one()
    finally:
        duck.unregister("incoming_frame")
    return WithdrawalPreview(current_records=current, incoming_records=incoming,
                             would_withdraw=missing)


def merge_snapshot(connection: Connection, table_name: str, site: str, rows: pd.DataFrame,
                   load_id: int, now: datetime) -> MergeCounts:
    """Apply tonight's ``rows`` (canonical fields + provenance) of ``site`` to ``raw.<table>``."""
    table = metadata.tables[f"raw.{table_name}"]
    natural_key = table.info["natural_key"]
    target = f"raw.{table_name}"
    duck = connection.connection.driver_connection

    types = _stored_types(duck, target)
    unknown = sorted(set(rows.columns) - set(types))
    if unknown:
        raise ValueError(f"{target} has no column(s) {', '.join(unknown)}")
    duck.register("incoming_frame", _columnar(rows))
    try:  # typed as stored, in one pass: the digests hash the stored values
        connection.exec_driver_sql(
            f"CREATE OR REPLACE TEMP TABLE {INCOMING} AS SELECT * REPLACE ("
            f"{_digest(natural_key)} AS record_key, {_digest(content_columns(table))} AS "
            "row_hash, CAST(? AS BIGINT) AS load_id, CAST(? AS VARCHAR) AS site, "
            "CAST(? AS TIMESTAMP) AS extracted_at, CAST(? AS TIMESTAMP) AS valid_from, "
            "CAST(NULL AS TIMESTAMP) AS valid_to, false AS is_withdrawn, "
            f"CAST(NULL AS TIMESTAMP) AS withdrawn_at) FROM ({_typed(types, rows.columns)})",
            (load_id, site, now, now),
        )
    finally:
        duck.unregister("incoming_frame")
    connection.exec_driver_sql(
        "CREATE OR REPLACE TEMP TABLE current_versions AS "
        f"SELECT raw_id, record_key, row_hash, is_withdrawn FROM {target} "
        "WHERE site = ? AND valid_to IS NULL",
        (site,),
    )
    changed = (
        f"SELECT c.raw_id FROM current_versions c JOIN {INCOMING} i USING (record_key) "
        "WHERE c.row_hash <> i.row_hash OR c.is_withdrawn"
    )
    updated = connection.exec_driver_sql(
        f"UPDATE {target} SET valid_to = ? WHERE raw_id IN ({changed})", (now,)
    ).rowcount
    inserted_total = connection.exec_driver_sql(
        f"INSERT INTO {target} BY NAME SELECT i.* FROM {INCOMING} i "
        "LEFT JOIN current_versions c USING (record_key) "
        "WHERE c.raw_id IS NULL OR c.row_hash <> i.row_hash OR c.is_withdrawn"
    ).rowcount
    withdrawn = connection.exec_driver_sql(
        f"UPDATE {target} SET is_withdrawn = true, withdrawn_at = ? WHERE raw_id IN ("
        "SELECT raw_id FROM current_versions WHERE NOT is_withdrawn "
        f"AND record_key NOT IN (SELECT record_key FROM {INCOMING}))",
        (now,),
    ).rowcount
    connection.exec_driver_sql(f"DROP TABLE {INCOMING}")
    connection.exec_driver_sql("DROP TABLE current_versions")
    return MergeCounts(inserted=inserted_total - updated, updated=updated, withdrawn=withdrawn)

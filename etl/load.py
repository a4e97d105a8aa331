"""Load one delivery: extract every file through the site mapping, then write it to
``raw`` and ``meta`` in one transaction (all of the delivery, or nothing of it).

Row accounting is exact per (file, table): rows read = rows loaded + rows quarantined.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import Connection

from etl.canonical import ISSUE_COLUMNS, SOURCE_ROW, map_extract
from etl.db import transaction
from etl.errors import DeliveryRejected
from etl.extract import read_source
from etl.inbox import Delivery
from etl.mapping import Extract, LoadedMapping, SiteMapping
from etl.snapshot import MergeCounts, content_columns, merge_snapshot
from models.base import metadata


@dataclass
class FileReport:
    """What became of one source file's rows for one canonical table."""

    file_name: str
    table: str
    rows_read: int
    rows_loaded: int = 0
    quarantined: Counter = field(default_factory=Counter)

    @property
    def rows_quarantined(self) -> int:
        return self.rows_read - self.rows_loaded


@dataclass
class DeliveryReport:
    delivery: Delivery
    status: str  # loaded | rejected | skipped
    message: str = ""
    files: list[FileReport] = field(default_factory=list)
    merges: dict[str, MergeCounts] = field(default_factory=dict)


@dataclass
class Extracted:
    """A delivery mapped to canonical frames, ready for the gate and the raw write."""

    tables: dict[str, pd.DataFrame]
    issues: pd.DataFrame
    files: list[FileReport]


def required_source_columns(mapping: SiteMapping, extract: Extract) -> set[str]:
    columns = {mapping.patient_id_column(extract)}
    for spec in extract.fields.values():
        columns.update(c for c in (spec.column, spec.unit_column) if c)
    return columns


def extract_delivery(loaded: LoadedMapping, delivery: Delivery, key: bytes) -> Extracted:
    """Read and map every file of the delivery; structural faults reject it whole."""
    mapping = loaded.mapping
    today = delivery.export_date or datetime.now(UTC).date()
    base = delivery.path if delivery.path.is_dir() else delivery.path.parent
    sources: dict[str, pd.DataFrame] = {}
    per_table: dict[str, list[pd.DataFrame]] = {}
    issue_frames: list[pd.DataFrame] = []
    reports: list[FileReport] = []
    for extract in mapping.extracts:
        if extract.file not in sources:
            sources[extract.file] = read_source(mapping, base, extract.file)
        source = sources[extract.file]
        missing = sorted(required_source_columns(mapping, extract) - set(source.columns))
        if missing:
            raise DeliveryRejected(
                f"{delivery.name}/{extract.file}: required column(s) missing: "
                f"{', '.join(missing)} (site mapping {loaded.path}); found: "
                f"{', '.join(c for c in source.columns if c != SOURCE_ROW)}"
            )
        mapped = map_extract(source, extract, mapping, key, today)
        provenance = {"source_file": extract.file,
                      "source_file_sha256": delivery.file_sha256[extract.file]}
        per_table.setdefault(extract.table, []).append(mapped.rows.assign(**provenance))
        issue_frames.append(mapped.issues.assign(target_table=extract.table, **provenance))
        reports.append(FileReport(extract.file, extract.table, rows_read=len(source)))

    tables: dict[str, pd.DataFrame] = {}
    for table_name, frames in per_table.items():
        rows = pd.concat(frames, ignore_index=True)
        rows, duplicates = _separate_duplicates(table_name, rows)
        tables[table_name] = rows
        issue_frames.append(duplicates)
    issues = pd.concat([f for f in issue_frames if not f.empty] or [_no_issues()],
                       ignore_index=True)
    _account(reports, tables, issues)
    return Extracted(tables=tables, issues=issues, files=reports)


def _no_issues() -> pd.DataFrame:
    return pd.DataFrame(columns=[*ISSUE_COLUMNS, "target_table", "source_file",
                                 "source_file_sha256"])


def _separate_duplicates(table_name: str, rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Exact duplicate records count once; records sharing a key but not content are
    ambiguous, so all of them are quarantined."""
    table = metadata.tables[f"raw.{table_name}"]
    key = table.info["natural_key"]
    content = [c for c in content_columns(table) if c in rows.columns]
    exact = rows.duplicated(subset=content, keep="first")
    distinct = rows[~exact]
    conflicting = distinct.duplicated(subset=key, keep=False)
    keep = distinct[~conflicting]
    issues = pd.concat([
        _duplicate_issues(rows[exact], table_name, "duplicate_record",
                          "an exact copy of an earlier row (counted once)"),
        _duplicate_issues(distinct[conflicting], table_name, "conflicting_record",
                          f"same {', '.join(key)} as another row with different values"),
    ], ignore_index=True)
    return keep.reset_index(drop=True), issues


def _duplicate_issues(rows: pd.DataFrame, table_name: str, reason: str, message: str
                      ) -> pd.DataFrame:
    return pd.DataFrame({
        SOURCE_ROW: rows[SOURCE_ROW], "reason_code": reason, "column_name": None,
        "source_value": None, "message": message, "target_table": table_name,
        "source_file": rows["source_file"], "source_file_sha256": rows["source_file_sha256"],
    })


def _account(reports: list[FileReport], tables: dict[str, pd.DataFrame],
             issues: pd.DataFrame) -> None:
    for report in reports:
        rows = tables[report.table]
        report.rows_loaded = int((rows["source_file"] == report.file_name).sum())
        mine = issues[(issues["source_file"] == report.file_name)
                      & (issues["target_table"] == report.table)]
        first_reason = mine.drop_duplicates(subset=[SOURCE_ROW])
        report.quarantined = Counter(first_reason["reason_code"])


def write_delivery(connection: Connection, run_id: str, delivery: Delivery,
                   extracted: Extracted, now: datetime) -> DeliveryReport:
    """Write the delivery to meta and raw in one transaction."""
    report = DeliveryReport(delivery=delivery, status="loaded", files=extracted.files)
    with transaction(connection):
        delivery_id = _insert_delivery(connection, run_id, delivery, "loaded", extracted.files,
                                       None, now)
        for table_name, rows in extracted.tables.items():
            provenance = rows.assign(load_id=delivery_id)
            report.merges[table_name] = merge_snapshot(connection, table_name, delivery.site,
                                                       provenance, delivery_id, now)
        _insert_files(connection, delivery_id, delivery, extracted.files)
        _insert_quarantine(connection, delivery_id, delivery.site, extracted.issues)
        _update_record_counts(connection, delivery_id, report.merges)
    return report


def record_rejection(connection: Connection, run_id: str, delivery: Delivery, message: str,
                     now: datetime) -> DeliveryReport:
    with transaction(connection):
        _insert_delivery(connection, run_id, delivery, "rejected", [], message, now)
    return DeliveryReport(delivery=delivery, status="rejected", message=message)


def _insert_delivery(connection: Connection, run_id: str, delivery: Delivery, status: str,
                     files: list[FileReport], message: str | None, now: datetime) -> int:
    read = sum(f.rows_read for f in files)
    loaded = sum(f.rows_loaded for f in files)
    return connection.exec_driver_sql(
        "INSERT INTO meta.delivery (run_id, site_code, delivery_name, export_date, "
        "content_sha256, status, rows_read, rows_loaded, rows_quarantined, records_inserted, "
        "records_updated, records_withdrawn, message, processed_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, ?, ?) RETURNING delivery_id",
        (run_id, delivery.site, delivery.name, delivery.export_date, delivery.content_sha256,
         status, read, loaded, read - loaded, message, now),
    ).scalar_one()


def _insert_files(connection: Connection, delivery_id: int, delivery: Delivery,
                  files: list[FileReport]) -> None:
    for report in files:
        connection.exec_driver_sql(
            "INSERT INTO meta.delivery_file (delivery_id, file_name, file_sha256, target_table, "
            "rows_read, rows_loaded, rows_quarantined) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (delivery_id, report.file_name, delivery.file_sha256[report.file_name],
             report.table, report.rows_read, report.rows_loaded, report.rows_quarantined),
        )


def _insert_quarantine(connection: Connection, delivery_id: int, site: str,
                       issues: pd.DataFrame) -> None:
    if issues.empty:
        return
    frame = issues[[SOURCE_ROW, "reason_code", "column_name", "source_value", "message",
                    "target_table", "source_file"]].assign(delivery_id=delivery_id, site_code=site)
    duck = connection.connection.driver_connection
    duck.register("quarantine_frame", frame)
    try:
        connection.exec_driver_sql(
            "INSERT INTO meta.quarantined_row BY NAME SELECT * FROM quarantine_frame"
        )
    finally:
        duck.unregister("quarantine_frame")


def _update_record_counts(connection: Connection, delivery_id: int,
                          merges: dict[str, MergeCounts]) -> None:
    connection.exec_driver_sql(
        "UPDATE meta.delivery SET records_inserted = ?, records_updated = ?, "
        "records_withdrawn = ? WHERE delivery_id = ?",
        (sum(m.inserted for m in merges.values()), sum(m.updated for m in merges.values()),
         sum(m.withdrawn for m in merges.values()), delivery_id),
    )


def already_loaded(connection: Connection, delivery: Delivery) -> bool:
    """A delivery with the same content hash was loaded before: nothing to do."""
    return connection.exec_driver_sql(
        "SELECT count(*) FROM meta.delivery WHERE content_sha256 = ? AND status = 'loaded' "
        "AND site_code = ?",
        (delivery.content_sha256, delivery.site),
    ).scalar_one() > 0


def register_site(connection: Connection, loaded: LoadedMapping, now: datetime) -> None:
    mapping = loaded.mapping
    with transaction(connection):
        connection.exec_driver_sql(
            "INSERT OR REPLACE INTO meta.site (site_code, site_name, format_family, mapping_file, "
            "mapping_sha256, registered_at) VALUES (?, ?, ?, ?, ?, ?)",
            (mapping.site, mapping.name, mapping.format, str(loaded.path), loaded.sha256, now),
        )


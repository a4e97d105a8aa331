"""Load one delivery: extract every file through the site mapping, then write it to
``raw`` and ``meta`` in one transaction (all of the delivery, or nothing of it).

Row accounting is exact per extract (a file or sheet feeding one table): rows read =
rows loaded + rows skipped + rows quarantined; rows no extract selects are quarantined.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Table

from etl.canonical import ISSUE_COLUMNS, SOURCE_ROW, UNIT_ID, columns_read, map_extract
from etl.crashpoints import maybe_crash
from etl.db import transaction
from etl.errors import DeliveryRejected
from etl.extract import Source, read_source, redcap
from etl.extract.sdtm import add_supplemental
from etl.extract.shape import attach, select_rows, skip_and_unpivot, unit_columns
from etl.fingerprint import content_values, with_fingerprints
from etl.inbox import Delivery
from etl.mapping import (
    HEADER_ROW_FAMILIES,
    HEADER_ROW_HINT,
    Extract,
    LoadedMapping,
    SiteMapping,
    content_columns,
)
from etl.reference import cross_checks
from etl.snapshot import MergeCounts, Recognised, merge_snapshot
from models.base import metadata


@dataclass
class FileReport:
    """What became of one extract's rows: a source file (or sheet) feeding one table.

    ``target_table`` None is the line for rows of the file that no extract selects.
    """

    file_name: str
    file_sha256: str
    table: str | None
    rows_read: int
    rows_skipped: int = 0
    rows_loaded: int = 0
    quarantined: Counter = field(default_factory=Counter)

    @property
    def rows_quarantined(self) -> int:
        return sum(self.quarantined.values())


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


EXTRACT_NO = "extract_no"
ISSUE_FRAME_COLUMNS = [*ISSUE_COLUMNS, EXTRACT_NO, "target_table", "source_file"]


class SourceCache:
    """Each file (or sheet) of a delivery is read once, however many extracts use it."""

    def __init__(self, mapping: SiteMapping, delivery: Delivery) -> None:
        self._mapping, self._delivery = mapping, delivery
        self._sources: dict[tuple[str | None, str | None], Source] = {}

    def get(self, file: str | None, sheet: str | None = None) -> Source:
        if (file, sheet) not in self._sources:
            self._sources[file, sheet] = read_source(self._mapping, self._delivery, file, sheet)
        return self._sources[file, sheet]

    def sources(self) -> list[Source]:
        return list(self._sources.values())

    def close(self) -> None:
        """Free what the sources hold outside pandas (a delimited file's DuckDB table)."""
        for source in self._sources.values():
            source.close()


def extract_delivery(loaded: LoadedMapping, delivery: Delivery, key: bytes) -> Extracted:
    """Read and map every extract of the delivery; structural faults reject it whole."""
    cache = SourceCache(loaded.mapping, delivery)
    try:
        return _extract_sources(loaded, delivery, key, cache)
    finally:
        cache.close()


def _header_row_hint(mapping: SiteMapping) -> str:
    """What to say when the header holds none of the columns an extract needs: a title
    above the header (a new centre's first delivery) reads as one."""
    if mapping.format not in HEADER_ROW_FAMILIES:
        return ""
    return f"; none is on row {mapping.reader.header_row}: {HEADER_ROW_HINT}"


def _extract_sources(loaded: LoadedMapping, delivery: Delivery, key: bytes,
                     cache: SourceCache) -> Extracted:
    mapping = loaded.mapping
    today = export_day(delivery)
    per_table: dict[str, list[pd.DataFrame]] = {}
    issue_frames: list[pd.DataFrame] = []
    reports: list[FileReport] = []
    claimed: dict[str, list[pd.Series]] = {}
    for number, extract in enumerate(mapping.extracts):
        source = cache.get(extract.file, extract.sheet)
        related = (_with_related(cache, source, extract)
                   if extract.supplemental or extract.join else None)
        header = source.header if related is None else related.iloc[:0]
        required = mapping.required_columns(extract)
        missing = sorted(required - set(header.columns))
        if missing:
            raise DeliveryRejected(
                f"{delivery.name}/{source.label}: required column(s) missing: "
                f"{', '.join(missing)} (site mapping {loaded.path}); found: "
                f"{', '.join(c for c in source.header.columns if c != SOURCE_ROW)}"
                + (_header_row_hint(mapping) if len(missing) == len(required) else ""))
        read = columns_read(header, extract, mapping, source.dictionary.choices)
        columns = unit_columns(header, extract, source.label, read)
        selected = (source.select(extract, columns) if related is None
                    else select_rows(related, extract, source.label, columns))
        if source.dictionary.decimal_marks:
            selected = redcap.in_reader_marks(selected, source.dictionary.decimal_marks,
                                              mapping.reader.decimal)
        carries = (_form_rows_with_data(mapping, extract, source, selected, columns)
                   if extract.form and not extract.skip_empty else None)
        shaped = skip_and_unpivot(selected, extract, source.label, read, carries)
        claimed.setdefault(source.label, []).append(shaped.selected_rows)
        mapped = map_extract(shaped.frame, extract, mapping, key, today,
                             source.dictionary.choices)
        rows, collapsed = (_collapse(extract.table, mapped.rows) if extract.collapse
                           else (mapped.rows, 0))
        rows[EXTRACT_NO] = number  # in place: the rows are this extract's own
        rows["source_file"], rows["source_file_sha256"] = source.label, source.sha256
        per_table.setdefault(extract.table, []).append(rows)
        issue_frames.append(mapped.issues.assign(**{EXTRACT_NO: number},
                                                 target_table=extract.table,
                                                 source_file=source.label))
        reports.append(FileReport(source.label, source.sha256, extract.table,
                                  rows_read=shaped.units_read, rows_skipped=shaped.units_skipped,
                                  rows_loaded=collapsed))
    issue_frames += _unclaimed_rows(cache, claimed, reports)

    tables: dict[str, pd.DataFrame] = {}
    for table_name, frames in per_table.items():
        together = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        table = metadata.tables[f"raw.{table_name}"]
        rows, values, duplicates = _separate_duplicates(table, together)
        # fingerprinted while the values match the rows; the cross-check's quarantine
        # then drops a row's fingerprint with it
        tables[table_name] = with_fingerprints(table, rows, values)
        issue_frames.append(duplicates)
    issue_frames += cross_check(tables)
    issues = pd.concat([f[ISSUE_FRAME_COLUMNS] for f in issue_frames if not f.empty]
                       or [pd.DataFrame(columns=ISSUE_FRAME_COLUMNS)], ignore_index=True)
    _account(reports, tables, issues)
    return Extracted(tables=tables, issues=issues, files=reports)


def _form_rows_with_data(mapping: SiteMapping, extract: Extract, source: Source,
                         rows: pd.DataFrame, columns: list[str]) -> pd.Series:
    """The rows of a REDCap form that hold data in the fields the extract reads (the
    others are skipped as empty: see ``redcap.holds_data``)."""
    patient = mapping.patient_id_column(extract)
    checkboxes = [redcap.checkbox_column(source.dictionary.choices, spec.checkbox,
                                         spec.option)
                  for spec in extract.fields.values() if spec.checkbox]
    return redcap.holds_data(rows, [c for c in columns if c not in (SOURCE_ROW, patient)],
                             checkboxes)


def export_day(delivery: Delivery) -> date:
    """The day a delivery describes: its export date, or today when it names none."""
    return delivery.export_date or datetime.now(UTC).date()


def _with_related(cache: SourceCache, source: Source, extract: Extract) -> pd.DataFrame:
    """The source frame with its supplemental qualifiers and joined files attached
    (whole frames: the rows are selected after the join)."""
    frame = source.frame
    if extract.supplemental:
        supplemental = cache.get(extract.supplemental)
        frame = add_supplemental(frame, supplemental.frame, supplemental.label)
    for join in extract.join:
        other = cache.get(join.file, join.sheet)
        frame = attach(frame, other.frame, join, source.label, other.label)
    return frame


def _collapse(table_name: str, rows: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Several source rows describing one record (an exam repeated on each of its lesion
    rows): identical records merge into the first; the merged rows count as loaded."""
    table = metadata.tables[f"raw.{table_name}"]
    content = [c for c in content_columns(table) if c in rows.columns]
    repeated = rows.duplicated(subset=content, keep="first")
    return rows[~repeated].reset_index(drop=True), int(repeated.sum())


def _unclaimed_rows(cache: SourceCache, claimed: dict[str, list[pd.Series]],
                    reports: list[FileReport]) -> list[pd.DataFrame]:
    """Rows of a file that no extract selects are quarantined, never silently dropped."""
    frames = []
    for source in cache.sources():
        if source.label not in claimed:
            continue  # read only as a joined or supplemental file
        taken = pd.concat(claimed[source.label])
        rows = source.source_rows()
        rows = rows[~np.isin(rows, taken.to_numpy())]
        report = FileReport(source.label, source.sha256, None, rows_read=len(rows))
        reports.append(report)
        if not len(rows):
            continue
        frames.append(pd.DataFrame({
            SOURCE_ROW: rows, UNIT_ID: rows, "reason_code": "not_mapped",
            "column_name": None, "source_value": None,
            "message": "no extract of the site mapping selects this row (where / form)",
            EXTRACT_NO: -1, "target_table": None, "source_file": source.label,
        }))
    return frames


def _separate_duplicates(table: Table, rows: pd.DataFrame
                         ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Exact duplicate records count once; records sharing a key but not content are
    ambiguous, so all of them are quarantined. Returns the records kept, their content
    values (``etl.fingerprint.content_values``) and the issues.

    The key is part of the content, so only records sharing a key can be copies: content
    is compared among those alone, and a table whose keys are all distinct (the usual
    case) is returned as it came. Keys and content are compared on the values the
    fingerprint hashes, texts factorized once for both (IOW's extract at 25,000 patients
    per centre: the search and the fingerprints took 4.7 s on the frame's own columns,
    3.9 s so)."""
    table_name, key = table.name, table.info["natural_key"]
    values = content_values(table, rows)
    shares_key = values.duplicated(subset=key, keep=False)
    sharing, sharing_values = rows[shares_key], values[shares_key]
    exact = sharing_values.duplicated(keep="first")
    distinct = sharing[~exact]
    conflicting = sharing_values[~exact].duplicated(subset=key, keep=False)
    issues = pd.concat([
        _row_issues(sharing[exact], table_name, "duplicate_record",
                    "an exact copy of an earlier row (counted once)"),
        _row_issues(distinct[conflicting], table_name, "conflicting_record",
                    f"same {', '.join(key)} as another row with different values"),
    ], ignore_index=True)
    if sharing.empty:
        return rows, values, issues
    dropped = sharing.index[exact].union(distinct.index[conflicting])
    return (rows.drop(index=dropped).reset_index(drop=True),
            values.drop(index=dropped).reset_index(drop=True), issues)


def _row_issues(rows: pd.DataFrame, table_name: str, reason: str, message: str,
                column: str | None = None, values: pd.Series | None = None) -> pd.DataFrame:
    return pd.DataFrame({
        SOURCE_ROW: rows[SOURCE_ROW], UNIT_ID: rows[UNIT_ID], "reason_code": reason,
        "column_name": column,
        "source_value": values.astype("string") if values is not None else None,
        "message": message, EXTRACT_NO: rows[EXTRACT_NO], "target_table": table_name,
        "source_file": rows["source_file"],
    }, index=rows.index)


def cross_check(tables: dict[str, pd.DataFrame]) -> list[pd.DataFrame]:
    """Per-patient date rules across tables (``etl/reference/cross_checks.csv``), e.g. a
    death recorded before a treatment cycle. The row of ``table`` is quarantined."""
    frames = []
    for check in cross_checks():
        rows, others = tables.get(check.table), tables.get(check.other_table)
        if rows is None or others is None or rows.empty or others.empty:
            continue
        # As timestamps: the maximum of ``date`` objects per patient is a Python loop
        # per patient in pandas (0.5 s per centre at 25,000 patients).
        by_patient = pd.to_datetime(others[check.other_field]).groupby(
            others["patient_pseudonym"].to_numpy())
        on_or_after = check.must_be == "on_or_after"
        bound = by_patient.max() if on_or_after else by_patient.min()
        dates = pd.to_datetime(rows[check.field])
        limits = rows["patient_pseudonym"].map(bound)
        broken = (dates < limits) if on_or_after else (dates > limits)
        if not broken.any():
            continue
        bad = rows[broken]
        frames.append(_row_issues(
            bad, check.table, check.reason_code,
            f"{check.why} ({check.other_table}.{check.other_field} "
            f"{'later' if on_or_after else 'earlier'}: "
            + limits[broken].dt.strftime("%Y-%m-%d").astype("string") + ")",
            column=check.field, values=bad[check.field]))
        tables[check.table] = rows[~broken].reset_index(drop=True)
    return frames


def _account(reports: list[FileReport], tables: dict[str, pd.DataFrame],
             issues: pd.DataFrame) -> None:
    """Loaded and quarantined units per extract, counted from what actually happened."""
    loaded = Counter()
    for rows in tables.values():
        loaded.update(rows[EXTRACT_NO].tolist())
    for number, report in enumerate(r for r in reports if r.table is not None):
        report.rows_loaded += loaded[number]
        mine = issues[issues[EXTRACT_NO] == number].drop_duplicates(subset=[UNIT_ID])
        report.quarantined = Counter(mine["reason_code"])
    for report in reports:
        if report.table is None:
            mine = issues[(issues[EXTRACT_NO] == -1) & (issues["source_file"] == report.file_name)]
            report.quarantined = Counter(mine["reason_code"])


AuditWriter = Callable[[Connection, int], None]


def write_delivery(connection: Connection, run_id: str, delivery: Delivery,
                   extracted: Extracted, now: datetime, audit: AuditWriter | None = None,
                   recognised: dict[str, Recognised] | None = None) -> DeliveryReport:
    """Write the delivery to meta and raw in one transaction; ``audit`` writes the gate's
    results for the new delivery id inside the same transaction; ``recognised`` is gate
    1's recognition of the records resent unchanged, per table (see ``merge_snapshot``)."""
    recognised = recognised or {}
    report = DeliveryReport(delivery=delivery, status="loaded", files=extracted.files)
    with transaction(connection):
        delivery_id = _insert_delivery(connection, run_id, delivery, "loaded", extracted.files,
                                       None, now)
        for table_name, rows in extracted.tables.items():
            report.merges[table_name] = merge_snapshot(
                connection, table_name, delivery.site, rows, delivery_id, now,
                recognised.get(table_name), unstored=(UNIT_ID, EXTRACT_NO))
        _insert_files(connection, delivery_id, extracted.files)
        _insert_quarantine(connection, delivery_id, delivery.site, extracted.issues)
        _update_record_counts(connection, delivery_id, report.merges)
        if audit is not None:
            audit(connection, delivery_id)
        maybe_crash("raw_write")
    return report


def record_rejection(connection: Connection, run_id: str, delivery: Delivery, message: str,
                     now: datetime, audit: AuditWriter | None = None,
                     extracted: Extracted | None = None) -> DeliveryReport:
    """Record a delivery that loads nothing; one rejected after its extract (by gate 1)
    keeps its per-file accounting and quarantined rows, which say what to fix."""
    files = extracted.files if extracted is not None else []
    with transaction(connection):
        delivery_id = _insert_delivery(connection, run_id, delivery, "rejected", files,
                                       message, now)
        if extracted is not None:
            _insert_files(connection, delivery_id, files)
            _insert_quarantine(connection, delivery_id, delivery.site, extracted.issues)
        if audit is not None:
            audit(connection, delivery_id)
    return DeliveryReport(delivery=delivery, status="rejected", message=message, files=files)


def _insert_delivery(connection: Connection, run_id: str, delivery: Delivery, status: str,
                     files: list[FileReport], message: str | None, now: datetime) -> int:
    read = sum(f.rows_read for f in files)
    loaded = sum(f.rows_loaded for f in files)
    skipped = sum(f.rows_skipped for f in files)
    return connection.exec_driver_sql(
        "INSERT INTO meta.delivery (run_id, site_code, delivery_name, export_date, "
        "content_sha256, status, rows_read, rows_loaded, rows_skipped, rows_quarantined, "
        "records_inserted, records_updated, records_withdrawn, message, processed_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, ?, ?) RETURNING delivery_id",
        (run_id, delivery.site, delivery.name, delivery.export_date, delivery.content_sha256,
         status, read, loaded, skipped, sum(f.rows_quarantined for f in files), message,
         now),
    ).scalar_one()


def _insert_files(connection: Connection, delivery_id: int, files: list[FileReport]) -> None:
    for report in files:
        connection.exec_driver_sql(
            "INSERT INTO meta.delivery_file (delivery_id, file_name, file_sha256, target_table, "
            "rows_read, rows_loaded, rows_skipped, rows_quarantined) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (delivery_id, report.file_name, report.file_sha256, report.table, report.rows_read,
             report.rows_loaded, report.rows_skipped, report.rows_quarantined),
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


def newer_loaded(connection: Connection, delivery: Delivery) -> tuple[str, date] | None:
    """The centre's newest loaded delivery, when it was exported after ``delivery``.

    A delivery is the centre's whole data as of its export date, so loading an older one
    after a newer one would roll back what the newer one brought: its corrections undone,
    its new records withdrawn, until the next delivery put them back. Such a delivery
    arrives late, or is resent by mistake; it is refused (the identical one, loaded
    before, is skipped as already loaded)."""
    if delivery.export_date is None:
        return None
    newest = connection.exec_driver_sql(
        "SELECT delivery_name, CAST(export_date AS DATE) FROM meta.delivery "
        "WHERE site_code = ? AND status = 'loaded' AND export_date > ? "
        "ORDER BY export_date DESC, delivery_id DESC LIMIT 1",
        (delivery.site, delivery.export_date)).fetchone()
    return None if newest is None else (newest[0], newest[1])


def register_site(connection: Connection, loaded: LoadedMapping, now: datetime) -> None:
    mapping = loaded.mapping
    with transaction(connection):
        connection.exec_driver_sql(
            "INSERT OR REPLACE INTO meta.site (site_code, site_name, format_family, mapping_file, "
            "mapping_sha256, registered_at) VALUES (?, ?, ?, ?, ?, ?)",
            (mapping.site, mapping.name, mapping.format, str(loaded.path), loaded.sha256, now),
        )


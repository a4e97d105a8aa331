"""Format-family readers: each turns a delivery's files into text cells.

A reader knows a file format (delimited text, Excel, REDCap, SDTM XPORT), never a
centre: the centre's options come from its site mapping. Every frame a source gives
(whole, or an extract's rows) has one column per source column (cells stripped,
missing-value tokens as NA) and a ``source_row`` column that points back into the file
(line, worksheet row or record).
"""

import fnmatch
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from etl.canonical import SOURCE_ROW
from etl.errors import DeliveryRejected
from etl.extract import delimited, excel, redcap, sdtm
from etl.extract.shape import row_filter, rows_matching
from etl.inbox import Delivery
from etl.mapping import Extract, SiteMapping


@dataclass
class Source:
    """One file (or worksheet) of a delivery, read: its rows in a pandas frame, or, for
    delimited text, in a DuckDB table from which each extract takes its own rows and
    columns (``select``): a REDCap export's rows fill a tenth of its columns."""

    label: str  # file name, with [sheet] for a worksheet
    sha256: str
    loaded: pd.DataFrame | None = None
    table: delimited.DelimitedTable | None = None
    dictionary: redcap.DataDictionary = field(default_factory=redcap.DataDictionary)  # REDCap

    @cached_property
    def frame(self) -> pd.DataFrame:
        """Every row and column (made from the table once, when a join needs it)."""
        return self.loaded if self.loaded is not None else self.table.frame()

    @cached_property
    def header(self) -> pd.DataFrame:
        """The columns with no rows: what a mapping's column checks need."""
        if self.loaded is not None:
            return self.loaded.iloc[:0]
        return pd.DataFrame({name: pd.Series(dtype="int64" if name == SOURCE_ROW else "string")
                             for name in self.table.columns})

    def select(self, extract: Extract, columns: list[str]) -> pd.DataFrame:
        """The extract's rows (``where``, ``where_not_empty``, ``form``), ``columns`` only.

        An extract that takes every row takes them from the whole frame, made once for
        all such extracts of the file (ROT's questionnaire file feeds three); one that
        takes some rows gets only those from the table."""
        where, not_empty = row_filter(self.header, extract, self.label)
        if self.table is None or not (where or not_empty):
            return rows_matching(self.frame, where, not_empty, columns)
        return self.table.select(where, not_empty, columns)

    def source_rows(self) -> np.ndarray:
        if self.table is None:
            return self.frame[SOURCE_ROW].to_numpy()
        return self.table.source_rows()

    def close(self) -> None:
        if self.table is not None:
            self.table.close()


def resolve_file(delivery: Delivery, pattern: str | None) -> str:
    """The delivery file a mapping names: a name or glob inside the delivery folder, or,
    for a single-file delivery, the delivery itself (``file`` omitted or matching).
    Matched ignoring case: the same system writes ``DM.XPT`` on one server and ``dm.xpt``
    on another, and Windows, where most exports are made, does not tell them apart."""
    names = sorted(delivery.file_sha256)
    if delivery.path.is_file():
        if pattern is None or _matches(names[0], pattern):
            return names[0]
        raise DeliveryRejected(f"{delivery.name}: the mapping expects {pattern!r}, but the "
                               "delivery is this single file")
    if pattern is None:
        raise DeliveryRejected(f"{delivery.name}: a folder delivery, but the mapping names "
                               "no file for this extract")
    found = [name for name in names if _matches(name, pattern)]
    if not found:
        raise DeliveryRejected(f"{delivery.name}: no file matching {pattern!r} "
                               f"(found: {', '.join(names) or 'nothing'})")
    if len(found) > 1:
        raise DeliveryRejected(f"{delivery.name}: several files match {pattern!r}: "
                               f"{', '.join(found)}")
    return found[0]


def unnamed_files(mapping: SiteMapping, delivery: Delivery) -> list[str]:
    """Files of a folder delivery that the mapping names nowhere (extract, join,
    supplemental qualifiers, data dictionary): not read, so never loaded; said each
    night rather than passed over in silence (an SDTM sponsor's other domains; a file a
    centre added to its export)."""
    if delivery.path.is_file():
        return []
    named = [mapping.reader.dictionary] if mapping.reader.dictionary else []
    for extract in mapping.extracts:
        named += [extract.file, extract.supplemental, *(join.file for join in extract.join)]
    patterns = [pattern for pattern in named if pattern]
    return [name for name in sorted(delivery.file_sha256)
            if not any(_matches(name, pattern) for pattern in patterns)]


def _matches(name: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(name.casefold(), pattern.casefold())


def columns_named(mapping: SiteMapping, pattern: str | None, sheet: str | None) -> set[str]:
    """The column names the mapping gives for the file (or worksheet) ``pattern`` names,
    which its reader spells as the mapping does (``headers.as_named``): what the
    extracts of that file read, select, skip and join by, what joins take from it, and
    the names the family's reader and shaping use themselves (SDTM's SUPPQUAL
    variables, a REDCap form's status). Wide columns an unpivot finds by a regular
    expression are matched ignoring case there (``shape._unpivot_cells``)."""
    named: set[str] = set(sdtm.SUPPQUAL_COLUMNS) if mapping.format == "sdtm" else set()
    for extract in mapping.extracts:
        if (extract.file, extract.sheet) == (pattern, sheet):
            named |= mapping.required_columns(extract) | {
                *extract.where, *extract.where_not_empty, *extract.skip_empty,
                *(name for join in extract.join for name in join.match)}
            if extract.unpivot is not None:
                named |= set(extract.unpivot.columns)
            if extract.form:
                named.add(redcap.form_status_column(extract.form))
        for join in extract.join:
            if (join.file, join.sheet) == (pattern, sheet):
                named |= {*join.match.values(), *join.where, *join.columns}
    return named


def file_path(delivery: Delivery, name: str) -> Path:
    return delivery.path if delivery.path.is_file() else delivery.path / name


def read_source(mapping: SiteMapping, delivery: Delivery, pattern: str | None,
                sheet: str | None = None) -> Source:
    """Read one file (or sheet) of the delivery with the reader of the centre's family."""
    name = resolve_file(delivery, pattern)
    path = file_path(delivery, name)
    label = f"{name}[{sheet}]" if sheet else name
    sha256 = delivery.file_sha256[name]
    named = columns_named(mapping, pattern, sheet)
    if mapping.format == "excel":
        return Source(label, sha256, loaded=excel.read_sheet(path, mapping.reader, sheet, named))
    if mapping.format == "sdtm":
        return Source(label, sha256, loaded=sdtm.read_dataset(path, mapping.reader, named))
    source = Source(label, sha256, table=delimited.DelimitedTable(path, mapping.reader, named))
    if mapping.format == "redcap" and pattern != mapping.reader.dictionary:
        dictionary = resolve_file(delivery, mapping.reader.dictionary)
        try:
            source.dictionary = redcap.read_dictionary(file_path(delivery, dictionary),
                                                       mapping.reader)
        except DeliveryRejected:
            source.close()
            raise
    return source

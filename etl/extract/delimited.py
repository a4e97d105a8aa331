"""Delimited text (CSV and friends): any encoding, delimiter, decimal mark and quoting.

DuckDB's CSV reader does the parsing (it is the fast path and reports malformed rows
with their line), and DuckDB also strips the cells and blanks the missing-value tokens:
per cell in Python that took most of the read of a wide file. An extract that takes
some of a file's rows (a REDCap form's) takes only those rows and the columns it reads,
from an in-memory table of the file's cells (``DelimitedTable.select``): a REDCap
export's rows fill a tenth of its columns, and making every cell a pandas object first
was most of the read (IOW at 25,000 patients: 1.7 million rows, 79 columns, 133 million
cells, of which the extracts take 25 million). The cells come to pandas through Arrow,
straight into pandas' string dtype. DuckDB reads UTF-8 only, so files in another
encoding (Windows-1252 at ROT) are first transcoded, streaming, to a temporary UTF-8
copy, kept while the file is being read.
"""

import codecs
import csv
import re
import tempfile
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import TextIO, TypeVar

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from etl.canonical import SOURCE_ROW
from etl.errors import DeliveryRejected
from etl.extract.headers import as_named
from etl.mapping import HEADER_ROW_HINT, ReaderOptions
from etl.sql import identifier, literal

CHUNK = 1 << 20
CELLS = "cells"
NOT_IN_ENCODING = ("not {encoding} text: set the centre's encoding in the site mapping's "
                   "reader (e.g. cp1252, latin-1)")
T = TypeVar("T")


def read_file(path: Path, options: ReaderOptions, named: Collection[str] = ()) -> pd.DataFrame:
    """All cells as stripped text, missing tokens as NA; ``source_row`` = row number."""
    with DelimitedTable(path, options, named) as table:
        return table.frame()


class DelimitedTable:
    """A delimited file, parsed by DuckDB.

    ``columns`` are the header's names, stripped and spelled as the mapping ``named``
    them (``headers.as_named``), then ``source_row``. ``frame`` streams
    every row into pandas; ``select`` returns an extract's rows as ``frame`` has them,
    with their position in the file as index, from an in-memory table of the file's
    cells made on the first ``select`` (a whole frame does not need one: storing the
    cells first made ROT's reads a third slower)."""

    def __init__(self, path: Path, options: ReaderOptions, named: Collection[str] = ()
                 ) -> None:
        if not path.is_file():
            raise DeliveryRejected(f"{path}: file missing from the delivery")
        if path.stat().st_size == 0:
            raise DeliveryRejected(f"{path}: the file is empty (no header line)")
        self._path, self._options = path, options
        self._encoding = _encoding(path, options.encoding)
        self._scratch: tempfile.TemporaryDirectory | None = None
        self._readable: Path | None = None  # the UTF-8 file DuckDB reads (or a copy)
        self._unified = False  # whether that is a copy with every line ending in LF
        # no progress bar: the extracts run in worker processes, whose DuckDB would draw
        # bars of an unnamed query into the night's log (IOW's file took ~2 s to store)
        self._connection = duckdb.connect()
        self._connection.execute("SET enable_progress_bar_print = false")
        self._stored, self._rows = False, None
        self._numbers: np.ndarray | None = None  # source_row of each record (row_numbers)
        self.header, self._relation = self._guarded(self._open)
        names = as_named([name.strip() for name in self.header], named, path)
        self._positions = {name: number  # of two alike that no mapping reads, the last wins
                           for number, name in enumerate(names) if name}
        self.columns = [*self._positions, SOURCE_ROW]

    def _open(self) -> tuple[list[str], duckdb.DuckDBPyRelation]:
        """The header's names and the rows, as text under positional names (c0, c1, ...).

        The header is read here and the layout given to DuckDB, not sniffed: sniffing
        took one line with extra fields at the end of a file for the header and read no
        rows, and a quote left open as part of a cell. Given the layout, DuckDB stops at
        a malformed line and names it (``_malformed``).

        A line without a value (``;;;;``: every cell empty, blank or a missing token) is
        no row, as an empty line and a worksheet row without a value are none: it is what
        a spreadsheet writes for an empty row it saves (one formatted below the data, or
        kept between records), and each was quarantined, its patient id empty."""
        options = self._options
        if self._readable is None:
            self._readable = self._utf8()
        path = self._readable
        with open(path, encoding="utf-8-sig", newline="") as text:
            header = next(self._records(text), [])
        if not any(name.strip() for name in header):
            raise DeliveryRejected(f"{self._path}: line {options.header_row} is no header "
                                   f"(it is empty); {HEADER_ROW_HINT}")
        columns = {f"c{number}": "VARCHAR" for number in range(len(header))}
        rows = self._connection.read_csv(
            str(path), header=True, skiprows=options.header_row - 1, sep=options.delimiter,
            quotechar=options.quote, escapechar=options.quote, columns=columns,
            auto_detect=False)
        return header, rows.filter(" OR ".join(
            f"{_cleaned(name, options.missing)} IS NOT NULL" for name in columns))

    def _utf8(self) -> Path:
        """The file, or a copy of it transcoded to UTF-8 (DuckDB reads nothing else)."""
        if codecs.lookup(self._encoding).name in ("utf-8", "utf-8-sig"):
            return self._path
        copy = self._scratch_file("utf-8")
        _transcode(self._path, copy, self._encoding)
        return copy

    def _scratch_file(self, kind: str) -> Path:
        if self._scratch is None:
            self._scratch = tempfile.TemporaryDirectory()
        return Path(self._scratch.name) / f"{kind}-{self._path.name}"

    def _guarded(self, work: Callable[[], T]) -> T:
        """``work``, with a file DuckDB cannot parse rejected by name, and the line when
        one is malformed (which may only show when the rows are read)."""
        try:
            return work()
        except DeliveryRejected:
            self.close()
            raise
        except (UnicodeDecodeError, csv.Error, duckdb.Error) as error:
            if isinstance(error, duckdb.Error) and self._line_ends_unified():
                return self._guarded(work)
            self.close()
            fault = (_undecodable(self._path, self._encoding)
                     if isinstance(error, UnicodeDecodeError) else _malformed(str(error)))
            raise DeliveryRejected(
                f"{self._path}: unreadable as {self._encoding} delimited text "
                f"(delimiter {self._options.delimiter!r}): {fault or error}") from None

    def _line_ends_unified(self) -> bool:
        """Whether the file is now read from a copy whose lines all end in LF, made
        because DuckDB gave up on it and its lines end in more than one way (CRLF and
        LF: rows appended by another program). DuckDB takes the first line's ending for
        every line and stops at the first other, as an unparseable line or a quote left
        open; a spreadsheet, pandas and Python's csv read such a file, and so does the
        loader. Line breaks inside a quoted cell become LF too."""
        if self._unified or len(_line_ends(self._readable)) < 2:
            return False
        copy = self._scratch_file("lf")
        _with_lf_line_ends(self._readable, copy)
        self._readable, self._unified = copy, True
        self.header, self._relation = self._open()
        return True

    def frame(self) -> pd.DataFrame:
        """Every row and column, with a RangeIndex."""
        cells = ", ".join(f"{self._cell(name)} AS {identifier(name)}" for name in self._positions)
        table = self._guarded(lambda: self._relation.project(cells).to_arrow_table())
        frame = table.to_pandas(types_mapper=_as_string_dtype)
        self._rows = len(frame)
        frame[SOURCE_ROW] = self._row_numbers()
        return frame

    def select(self, where: dict[str, list[str]], not_empty: list[str], columns: list[str]
               ) -> pd.DataFrame:
        """The rows whose cells (cleaned) are among ``where``'s values and whose cells of
        ``not_empty`` are not all empty, with ``columns`` only, in file order."""
        self._store()
        cells = ", ".join(
            f"rowid AS {identifier(SOURCE_ROW)}" if name == SOURCE_ROW  # numbered below
            else f"{self._cell(name)} AS {identifier(name)}" for name in columns)
        conditions = [f"{self._cell(name)} IN ({', '.join(map(literal, values))})"
                      for name, values in where.items()]
        if not_empty:
            conditions.append("(" + " OR ".join(f"{self._cell(name)} IS NOT NULL"
                                                 for name in not_empty) + ")")
        filtered = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        # In file order: DuckDB keeps a table's insertion order through WHERE and SELECT.
        # rowid first, taken by place: any name may be a column's.
        table = self._connection.sql(f"SELECT rowid, {cells} FROM {CELLS}{filtered}"
                                     ).to_arrow_table()
        position = table.column(0).to_numpy()
        frame = table.remove_column(0).to_pandas(types_mapper=_as_string_dtype)
        if SOURCE_ROW in frame.columns:
            frame[SOURCE_ROW] = self._row_numbers()[position]
        return frame.set_axis(pd.Index(position, dtype="int64"), axis=0)

    def _store(self) -> None:
        """The cells, under their positional names: a column of the file may be called
        anything, ``rowid`` too, which would hide the table's row number."""
        if self._stored:
            return
        self._guarded(lambda: self._relation.create(CELLS))
        [(self._rows,)] = self._connection.sql(f"SELECT count(*) FROM {CELLS}").fetchall()
        self._stored = True

    def source_rows(self) -> np.ndarray:
        """The row number of every row of the file."""
        if self._rows is None:
            self._store()
        return self._row_numbers()

    def _row_numbers(self) -> np.ndarray:
        """Each record's row as a spreadsheet shows the file: counted from its first line
        (row 1; the header is on ``header_row``), an empty line or one without a value
        being an empty row, which is no record (``_open``). A file with as many lines as
        the header's row and the records has one record per line; any other (empty rows,
        a quoted cell spanning lines) is read again for the rows, by Python's csv, which
        returns an empty line as an empty record. Counting the lines takes ~0.1 s for a
        file of 200 MB, reading it again seconds."""
        if self._numbers is None:
            header_row = self._options.header_row
            if _lines(self._readable) == header_row + self._rows:
                self._numbers = np.arange(header_row + 1, header_row + 1 + self._rows)
            else:
                self._numbers = self._guarded(self._rows_read_again)
        return self._numbers

    def _rows_read_again(self) -> np.ndarray:
        missing = {token.strip() for token in self._options.missing}
        with open(self._readable, encoding="utf-8-sig", newline="") as text:
            records = self._records(text)
            next(records)  # the header
            return np.array([row for row, record in enumerate(
                records, start=self._options.header_row + 1) if _has_value(record, missing)],
                dtype=np.int64)

    def _records(self, text: TextIO) -> Iterator[list[str]]:
        """The records of the open file from its header on. The lines above the header
        (``header_row``: an export's title, its date) are skipped, by DuckDB as records:
        one that opens a quote it does not close would take the lines after it into a
        record, and DuckDB then read no rows at all, so it is refused by its line."""
        quote = self._options.quote
        for number in range(1, self._options.header_row):
            line = text.readline().rstrip("\r\n")
            if line.count(quote) % 2:
                raise DeliveryRejected(
                    f"{self._path}: line {number}, above the header (line "
                    f"{self._options.header_row}), opens a quote it does not close: "
                    f"{line[:200]!r}")
        return csv.reader(text, delimiter=self._options.delimiter, quotechar=quote)

    def _cell(self, name: str) -> str:
        """A column of the stored table, cleaned, by its stripped name."""
        return _cleaned(f"c{self._positions[name]}", self._options.missing)

    def close(self) -> None:
        self._connection.close()
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    def __enter__(self) -> "DelimitedTable":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _malformed(report: str) -> str | None:
    """DuckDB's report of a malformed line, as the line's number, what is wrong with it
    and its text (None for any other error). DuckDB's own suggestions are options of its
    reader, which a centre's mapping does not set."""
    line = re.search(r"CSV Error on Line: (\d+)", report)
    if line is None:
        return None
    text = re.search(r"Original Line: \n?([^\r\n]*)", report)  # CRLF: on the next line
    fields = re.search(r"Expected Number of Columns: (\d+)", report)
    if fields:
        fault = f"not the header's {fields[1]} fields"
    elif "unterminated quote" in report:
        fault = "a quote opened and not closed"
    elif "Invalid unicode" in report:
        fault = "bytes that are " + NOT_IN_ENCODING.format(encoding="utf-8")
    else:
        fault = report.split("Possible fixes:")[0].strip().splitlines()[-1]
    return f"line {line[1]}: {fault}" + (f": {text[1][:200]!r}" if text else "")


def _undecodable(path: Path, encoding: str) -> str | None:
    """The first line holding bytes that are no text in ``encoding``, with its number
    and the byte (a decoder's error gives a position in the chunk it was decoding)."""
    data = path.read_bytes()  # only when the file could not be read
    try:
        data.decode(encoding)
    except UnicodeDecodeError as error:
        start = data.rfind(b"\n", 0, error.start) + 1
        end = data.find(b"\n", error.start)
        text = data[start:end if end >= 0 else len(data)].rstrip(b"\r")
        line = data.count(b"\n", 0, error.start) + 1
        return (f"line {line}: byte 0x{data[error.start]:02x} is "
                f"{NOT_IN_ENCODING.format(encoding=encoding)}: "
                f"{text.decode(encoding, errors='replace')[:200]!r}")
    return None


def _encoding(path: Path, declared: str) -> str:
    """The mapping's encoding, unless the file begins with UTF-8's byte-order mark: then
    it is UTF-8, whatever the mapping says. Excel's "CSV UTF-8" writes one, and a centre
    moving to it from Windows-1252 would otherwise have its first header name read as
    ``ï»¿patnr`` and every µ of its units as ``Âµ``; no text in a one-byte encoding
    begins with those three bytes."""
    with open(path, "rb") as file:
        return "utf-8-sig" if file.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8 else declared


def _lines(path: Path) -> int:
    """The file's lines: its line ends (LF, or CR in a file without LF), one more when
    its last line has none."""
    lf = cr = 0
    last = b""
    with open(path, "rb") as reader:
        while chunk := reader.read(CHUNK):
            cr += 0 if lf else chunk.count(b"\r")  # needed only while no LF is seen
            lf, last = lf + chunk.count(b"\n"), chunk[-1:]
    return (lf or cr) + (last not in (b"\n", b"\r"))


def _line_ends(path: Path) -> set[bytes]:
    """The ways the file's lines end: CRLF, LF alone, CR alone."""
    ends: set[bytes] = set()
    with open(path, "rb") as reader:
        carry = b""
        while chunk := reader.read(CHUNK):
            chunk, carry = _held_back(carry + chunk)
            crlf = chunk.count(b"\r\n")
            for end, count in ((b"\r\n", crlf), (b"\n", chunk.count(b"\n") - crlf),
                               (b"\r", chunk.count(b"\r") - crlf)):
                if count:
                    ends.add(end)
        if carry:
            ends.add(b"\r")
    return ends


def _with_lf_line_ends(source: Path, target: Path) -> None:
    """``source`` copied with every CRLF and lone CR made LF (UTF-8 bytes: a CR or LF
    byte is always that character)."""
    with open(source, "rb") as reader, open(target, "wb") as writer:
        carry = b""
        while chunk := reader.read(CHUNK):
            chunk, carry = _held_back(carry + chunk)
            writer.write(chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n"))
        writer.write(carry.replace(b"\r", b"\n"))


def _held_back(chunk: bytes) -> tuple[bytes, bytes]:
    """A chunk ending in CR, split off that CR: its LF may begin the next chunk."""
    return (chunk[:-1], b"\r") if chunk.endswith(b"\r") else (chunk, b"")


def _transcode(source: Path, target: Path, encoding: str) -> None:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    with open(source, "rb") as reader, open(target, "w", encoding="utf-8", newline="") as writer:
        while chunk := reader.read(CHUNK):
            writer.write(decoder.decode(chunk))
        writer.write(decoder.decode(b"", final=True))


def _as_string_dtype(kind: pa.DataType) -> pd.StringDtype | None:
    """Arrow text as pandas' string dtype (NA for NULL); numbers as they are."""
    text = pa.types.is_string(kind) or pa.types.is_large_string(kind)
    return pd.StringDtype() if text or pa.types.is_string_view(kind) else None


def _has_value(record: list[str], missing: set[str]) -> bool:
    """Whether a line read by Python's csv holds a value, as ``_cleaned`` reads its cells
    (an empty field is NULL to DuckDB's reader, quoted or not): the rows ``_open`` keeps."""
    return any(field and field.strip() not in missing for field in record)


# Python's whitespace, what str.strip removes (a test checks it against str.isspace), for
# DuckDB's trim(), which alone strips spaces only.
WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004"
              "\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
_UNPADDED = "[!-~](.*[!-~])?"  # starts and ends with printable ASCII: nothing to strip


def _cleaned(cell: str, missing: list[str]) -> str:
    """SQL for a cell stripped as ``str.strip`` does, NULL when it is a missing token.
    Nearly every cell starts and ends with a printable ASCII character and skips the trim."""
    tokens = ", ".join(sorted(literal(token.strip()) for token in set(missing)))

    def blanked(text: str) -> str:
        return f"CASE WHEN {text} IN ({tokens}) THEN NULL ELSE {text} END" if tokens else text

    stripped = f"trim({cell}, {literal(WHITESPACE)})"
    return (f"CASE WHEN {cell} IS NULL THEN NULL WHEN regexp_full_match({cell}, "
            f"'{_UNPADDED}') THEN {blanked(cell)} ELSE {blanked(stripped)} END")

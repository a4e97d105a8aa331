"""Delimited text (CSV and friends): any encoding, delimiter, decimal mark and quoting.

DuckDB's CSV reader does the parsing (it is the fast path and reports malformed rows
with their line), and DuckDB also strips the cells and blanks the missing-value tokens:
per cell in Python that took most of the read of a wide file. The cells come to pandas
through Arrow, straight into pandas' string dtype: DuckDB's own ``df()`` made object
columns that then had to be converted cell by cell (IOW's 1.7 million REDCap rows at
25,000 patients: 15 s instead of 19). It reads UTF-8 only, so files in another encoding
(Windows-1252 at ROT) are first transcoded, streaming, to a temporary UTF-8 copy.
"""

import codecs
import tempfile
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from etl.canonical import SOURCE_ROW
from etl.errors import DeliveryRejected
from etl.mapping import ReaderOptions
from etl.sql import identifier, literal

CHUNK = 1 << 20


def read_file(path: Path, options: ReaderOptions) -> pd.DataFrame:
    """All cells as stripped text, missing tokens as NA; ``source_row`` = line number."""
    if not path.is_file():
        raise DeliveryRejected(f"{path}: file missing from the delivery")
    try:
        if codecs.lookup(options.encoding).name in ("utf-8", "utf-8-sig"):
            frame = _read_utf8(path, path, options)
        else:
            with tempfile.TemporaryDirectory() as scratch:
                utf8_copy = Path(scratch) / path.name
                _transcode(path, utf8_copy, options.encoding)
                frame = _read_utf8(utf8_copy, path, options)
    except (UnicodeDecodeError, duckdb.Error) as error:
        raise DeliveryRejected(f"{path}: unreadable as {options.encoding} delimited text "
                               f"(delimiter {options.delimiter!r}): {error}") from None
    return _normalise(frame)


def _transcode(source: Path, target: Path, encoding: str) -> None:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    with open(source, "rb") as reader, open(target, "w", encoding="utf-8", newline="") as writer:
        while chunk := reader.read(CHUNK):
            writer.write(decoder.decode(chunk))
        writer.write(decoder.decode(b"", final=True))


def _read_utf8(path: Path, original: Path, options: ReaderOptions) -> pd.DataFrame:
    with duckdb.connect() as connection:
        relation = connection.read_csv(
            str(path), header=True, sep=options.delimiter, quotechar=options.quote,
            all_varchar=True,
        )
        columns = {str(name).strip(): name for name in relation.columns}  # last one wins
        cells = ", ".join(f"{_cleaned(identifier(name), options.missing)} AS {identifier(label)}"
                          for label, name in columns.items())
        frame = _as_strings(relation.project(cells) if columns else relation)
    if frame.empty and path.stat().st_size == 0:
        raise DeliveryRejected(f"{original}: the file is empty (no header line)")
    return frame


def _as_strings(relation: duckdb.DuckDBPyRelation) -> pd.DataFrame:
    """The relation's text columns as pandas' string dtype (NA for NULL)."""
    table = relation.to_arrow_table()
    return table.to_pandas(types_mapper=lambda kind: pd.StringDtype() if pa.types.is_string(
        kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind) else None)


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


def _normalise(frame: pd.DataFrame) -> pd.DataFrame:
    result = frame.astype("string", copy=False)
    result[SOURCE_ROW] = range(2, len(result) + 2)  # line 1 is the header
    return result

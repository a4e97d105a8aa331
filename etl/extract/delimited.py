"""Delimited text (CSV and friends): any encoding, delimiter, decimal mark and quoting.

DuckDB's CSV reader does the parsing (it is the fast path and reports malformed rows
with their line). It reads UTF-8 only, so files in another encoding (Windows-1252 at
ROT) are first transcoded, streaming, to a temporary UTF-8 copy.
"""

import codecs
import tempfile
from pathlib import Path

import duckdb
import pandas as pd

from etl.canonical import SOURCE_ROW
from etl.errors import DeliveryRejected
from etl.mapping import ReaderOptions

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
    return _normalise(frame, options)


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
        frame = relation.df()
    if frame.empty and path.stat().st_size == 0:
        raise DeliveryRejected(f"{original}: the file is empty (no header line)")
    return frame


def _normalise(frame: pd.DataFrame, options: ReaderOptions) -> pd.DataFrame:
    missing = {token.strip() for token in options.missing}
    cleaned = {}
    for name in frame.columns:
        cells = frame[name].astype("string").str.strip()
        cleaned[str(name).strip()] = cells.mask(cells.isin(missing))
    result = pd.DataFrame(cleaned)
    result[SOURCE_ROW] = range(2, len(result) + 2)  # line 1 is the header
    return result

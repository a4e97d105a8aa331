"""The delimited reader strips cells as Python's ``str.strip`` does (any Unicode
whitespace, not only spaces) and blanks the centre's missing-value tokens, in DuckDB."""

from pathlib import Path

import pandas as pd
import pytest

from etl.canonical import SOURCE_ROW
from etl.extract.delimited import WHITESPACE, read_file
from etl.mapping import ReaderOptions

CELLS = ["a", " a ", "\u00a0b\u3000", "\x1cc\x1f", "NB", " NB\t", "", "é ", "x y",
         '"multi\nline "', '"  quoted "', "\u200bz"]  # U+200B is not whitespace in Python


def _expected(cell: str, missing: set[str]) -> object:
    text = cell[1:-1] if cell.startswith('"') else cell
    if cell == "":
        return pd.NA  # an empty field is NULL to the CSV reader
    text = text.strip()
    return pd.NA if text in missing else text


@pytest.mark.parametrize("missing", [["", "NB"], [], [" x y "]])
def test_cells_are_stripped_like_python_and_missing_tokens_blanked(tmp_path: Path, missing):
    lines = [" id ;value"] + [f"{n};{cell}" for n, cell in enumerate(CELLS)]
    path = tmp_path / "cells.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    frame = read_file(path, ReaderOptions(delimiter=";", missing=missing))
    tokens = {token.strip() for token in missing}
    assert list(frame.columns) == ["id", "value", SOURCE_ROW]
    assert frame["value"].dtype == "string"
    expected = [_expected(cell, tokens) for cell in CELLS]
    assert [None if pd.isna(v) else v for v in frame["value"]] == [
        None if v is pd.NA else v for v in expected]
    assert list(frame[SOURCE_ROW]) == list(range(2, len(CELLS) + 2))  # line 1: header


def test_the_whitespace_stripped_is_pythons():
    assert set(WHITESPACE) == {c for c in map(chr, range(0x110000)) if c.isspace()}

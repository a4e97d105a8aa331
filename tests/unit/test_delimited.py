"""The delimited reader strips cells as Python's ``str.strip`` does (any Unicode
whitespace, not only spaces) and blanks the centre's missing-value tokens, in DuckDB;
an extract takes from the file's DuckDB table the rows and columns it would take from
the whole frame."""

import codecs
from pathlib import Path

import pandas as pd
import pytest

from etl.canonical import SOURCE_ROW
from etl.errors import DeliveryRejected
from etl.extract import Source
from etl.extract.delimited import WHITESPACE, DelimitedTable, read_file
from etl.extract.shape import row_filter, select_rows
from etl.load import FileReport, _unclaimed_rows
from etl.mapping import Extract, ReaderOptions

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


FORM_FILE = "\n".join([
    "rowid;record_id;form_complete;visit date ;q1;arm",
    "r1;1;2;2024-01-02;1; A ",    # line 2: the form filled in, arm A: taken
    "r2;2;;;;A",                  # line 3: the form empty
    "r3;3; 2 ;2024-02-03;NB;B",   # line 4: arm B
    "r4;4;NB;2024-03-01;2;A",     # line 5: the status is a missing-value token
    "r5;5;2;;3;A",                # line 6: taken
]) + "\n"
FORM_EXTRACT = Extract.model_validate({
    "table": "qlq_c30_item_response", "form": "form", "where": {"arm": "A"},
    "fields": {"assessment_date": "visit date"}})


def test_an_extract_takes_its_rows_and_columns_from_the_table_as_from_the_frame(
        tmp_path: Path):
    path = tmp_path / "records.csv"
    path.write_text(FORM_FILE, encoding="utf-8")
    options = ReaderOptions(delimiter=";", missing=["NB"])
    columns = ["rowid", "record_id", "visit date", SOURCE_ROW]

    with DelimitedTable(path, options) as table:
        where, not_empty = row_filter(table.frame().iloc[:0], FORM_EXTRACT, "records.csv")
        selected = table.select(where, not_empty, columns)
        every_line = table.source_rows().tolist()

    assert (where, not_empty) == ({"arm": ["A"]}, ["form_complete"])
    assert selected.index.tolist() == [0, 4]
    assert selected[SOURCE_ROW].tolist() == [2, 6]
    assert selected["rowid"].tolist() == ["r1", "r5"]  # a column, not DuckDB's row number
    assert [None if pd.isna(v) else v for v in selected["visit date"]] == ["2024-01-02", None]
    pd.testing.assert_frame_equal(
        selected, select_rows(read_file(path, options), FORM_EXTRACT, "records.csv", columns))
    assert every_line == [2, 3, 4, 5, 6]


def test_rows_no_extract_takes_are_quarantined_from_the_table(tmp_path: Path):
    path = tmp_path / "records.csv"
    path.write_text(FORM_FILE, encoding="utf-8")
    source = Source("records.csv", "sha", table=DelimitedTable(path, ReaderOptions(
        delimiter=";")))
    reports: list[FileReport] = []

    class OneSource:
        def sources(self) -> list[Source]:
            return [source]

    [unclaimed] = _unclaimed_rows(OneSource(), {"records.csv": [pd.Series([2, 6])]}, reports)
    source.close()

    assert unclaimed[SOURCE_ROW].tolist() == [3, 4, 5]
    assert set(unclaimed["reason_code"]) == {"not_mapped"}
    assert [(r.file_name, r.table, r.rows_read) for r in reports] == [
        ("records.csv", None, 3)]


def test_the_reader_draws_no_progress_bar(tmp_path: Path, capfd) -> None:
    """A worker's DuckDB drew its progress bar into the night's log for any query of more
    than two seconds (IOW's REDCap file at 25,000 patients); with the bar's delay at zero,
    every query would draw one."""
    path = tmp_path / "records.csv"
    path.write_text("id;value\n1;2\n", encoding="utf-8")
    with DelimitedTable(path, ReaderOptions(delimiter=";")) as table:
        table._connection.execute("SET progress_bar_time = 0")
        [(count,)] = table._connection.sql(
            "SELECT count(*) FROM range(50000000) AS t(x) WHERE x % 7 = 3").fetchall()
    assert count == 7142857
    out, err = capfd.readouterr()
    assert "%" not in out and "%" not in err


@pytest.mark.parametrize(("lines", "message"), [
    (["id;value", "1;2", "3;4;5;6"],
     "line 3: not the header's 2 fields: '3;4;5;6'"),  # was read as the header, no rows
    (["id;value", "1", "3;4"], "line 2: not the header's 2 fields: '1'"),
    (["id;value", '1;"2', "3;4"], "line 2: a quote opened and not closed: '1;\"2'"),
])
@pytest.mark.parametrize("end", ["\n", "\r\n"])  # DuckDB reports a CRLF file's line
def test_a_malformed_line_rejects_the_file_naming_the_line(tmp_path: Path, lines, message,
                                                          end):  # on the next line
    path = tmp_path / "records.csv"
    path.write_bytes((end.join(lines) + end).encode("cp1252"))
    with pytest.raises(DeliveryRejected) as rejected:
        read_file(path, ReaderOptions(delimiter=";", encoding="cp1252"))
    assert str(rejected.value).endswith(message)
    assert str(path) in str(rejected.value)  # the delivery's file, not its UTF-8 copy


@pytest.mark.parametrize(("encoding", "records", "message"), [
    ("utf-8", 1, "line 3: byte 0xb5 is not utf-8 text: set the centre's encoding in the "
                 "site mapping's reader (e.g. cp1252, latin-1): '2;\ufffdg/L'"),
    ("utf-8", 20_000, "line 20002: bytes that are not utf-8 text: set the centre's "
                      "encoding in the site mapping's reader"),  # DuckDB's report
    ("cp1252", 1, "line 3: byte 0x81 is not cp1252 text"),  # undefined in Windows-1252
])
def test_bytes_that_are_no_text_in_the_encoding_are_named_by_line(
        tmp_path: Path, encoding, records, message):
    byte = b"\xb5" if encoding == "utf-8" else b"\x81"
    path = tmp_path / "lab.csv"
    path.write_bytes(b"patnr;eenheid\n" + b"1;ok\n" * records + b"2;" + byte + b"g/L\n3;x\n")
    with pytest.raises(DeliveryRejected) as rejected:
        read_file(path, ReaderOptions(delimiter=";", encoding=encoding))
    assert f"lab.csv: unreadable as {encoding} delimited text (delimiter ';'): {message}" in str(
        rejected.value)


def test_the_header_is_read_as_written(tmp_path: Path):
    """Names kept as the file has them (a BOM dropped, quoted delimiters and duplicate
    names too: of two that strip alike and no mapping reads, the last wins), unnamed
    columns left out."""
    path = tmp_path / "records.csv"
    path.write_text('\ufeffid;"a;b";x ;;x\n1;2;3;4;5\n', encoding="utf-8")
    frame = read_file(path, ReaderOptions(delimiter=";"))
    assert frame.columns.tolist() == ["id", "a;b", "x", SOURCE_ROW]
    assert frame.iloc[0].tolist() == ["1", "2", "5", 2]


def test_a_file_beginning_with_utf8s_byte_order_mark_is_read_as_utf8_whatever_declared(
        tmp_path: Path):
    """A centre declared Windows-1252 that saves as Excel's "CSV UTF-8" (with the mark)
    reads as it wrote; without the mark, the declared encoding is kept."""
    text = "patnr;eenheid\r\n1;µg/L\r\n"
    options = ReaderOptions(delimiter=";", encoding="cp1252")
    marked, unmarked = tmp_path / "marked.csv", tmp_path / "unmarked.csv"
    marked.write_bytes(codecs.BOM_UTF8 + text.encode("utf-8"))
    unmarked.write_bytes(text.encode("utf-8"))
    assert read_file(marked, options).values.tolist() == [["1", "µg/L", 2]]
    assert read_file(unmarked, options).values.tolist() == [["1", "Âµg/L", 2]]


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])
def test_lines_ending_in_more_than_one_way_are_read_as_one_file(tmp_path: Path, encoding):
    """Rows appended by another program (LF after CRLF, a lone CR): read as if every
    line ended in LF, by the whole frame and by an extract's rows alike."""
    path = tmp_path / "lab.csv"
    path.write_bytes('patnr;eenheid\r\n1;µg/L\r\n2;"a\r\nb"\n3;x\r4;y\n'.encode(encoding))
    options = ReaderOptions(delimiter=";", encoding=encoding)
    rows = [["1", "µg/L", 2], ["2", "a\nb", 3], ["3", "x", 4], ["4", "y", 5]]
    assert read_file(path, options).values.tolist() == rows
    with DelimitedTable(path, options) as table:
        selected = table.select({}, ["eenheid"], ["patnr", "eenheid", SOURCE_ROW])
        assert selected.values.tolist() == rows
        assert table.source_rows().tolist() == [2, 3, 4, 5]


def test_a_malformed_line_among_lines_ending_in_more_than_one_way_is_named(tmp_path: Path):
    path = tmp_path / "lab.csv"
    path.write_bytes(b"patnr;eenheid\r\n1;x\r\n2;y\n3;z;9\n")
    with pytest.raises(DeliveryRejected, match=r"lab\.csv: unreadable as utf-8 delimited text "
                                               r"\(delimiter ';'\): line 4: not the header's "
                                               r"2 fields: '3;z;9'"):
        read_file(path, ReaderOptions(delimiter=";"))


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_rows_after_an_empty_line_are_numbered_as_a_spreadsheet_shows_them(
        tmp_path: Path, end):
    """DuckDB skips empty lines; a spreadsheet shows each as an empty row, and the rows
    after it keep their numbers (here 2, 4, 7 and 8; empty lines at the end count for
    nothing)."""
    path = tmp_path / "lab.csv"
    lines = ["patnr;eenheid", "1;a", "", "2;b", "", "", '3;"c', '', 'd"', "4;e", "", ""]
    path.write_bytes(end.join(lines).encode("utf-8"))
    options = ReaderOptions(delimiter=";")
    rows = [["1", "a", 2], ["2", "b", 4], ["3", f"c{end}{end}d", 7], ["4", "e", 8]]
    assert read_file(path, options).values.tolist() == rows
    with DelimitedTable(path, options) as table:
        selected = table.select({"patnr": ["2", "4"]}, [], [SOURCE_ROW, "eenheid"])
        assert selected.values.tolist() == [[4, "b"], [8, "e"]]
        assert table.source_rows().tolist() == [2, 4, 7, 8]


def test_a_line_without_a_value_is_no_row_as_an_empty_line_is_none(tmp_path: Path):
    """A spreadsheet saves an empty row as a line of empty fields; blanks, a quoted
    empty cell and the centre's missing tokens are no value either. The other rows keep
    their numbers (2, 5, 8): the row of a zero and the row of text stay."""
    path = tmp_path / "lab.csv"
    path.write_bytes("\r\n".join([
        "patnr;eenheid;waarde", "1;a;", ";;", '"";"  ";NB', "2;b;0", " ; ;", ";NB;",
        ";;x", ";;;", ""]).encode("utf-8"))
    options = ReaderOptions(delimiter=";", missing=["", "NB"])
    rows = [["1", "a", pd.NA, 2], ["2", "b", "0", 5], [pd.NA, pd.NA, "x", 8]]
    assert read_file(path, options).astype(object).values.tolist() == rows
    with DelimitedTable(path, options) as table:
        selected = table.select({"eenheid": ["b"]}, [], [SOURCE_ROW, "waarde"])
        assert selected.values.tolist() == [[5, "0"]]
        assert table.source_rows().tolist() == [2, 5, 8]


def test_a_quoted_cell_may_span_lines_and_rows_are_numbered_as_a_spreadsheet_shows_them(
        tmp_path: Path):
    path = tmp_path / "toxiciteit.csv"
    path.write_bytes('patnr;term;graad\r\n1;"Misselijk;\r\nbraken";2\r\n1;Alopecia;9\r\n'
                     .encode("cp1252"))
    options = ReaderOptions(delimiter=";", encoding="cp1252")
    frame = read_file(path, options)
    assert frame.values.tolist() == [["1", "Misselijk;\r\nbraken", "2", 2],
                                     ["1", "Alopecia", "9", 3]]
    with DelimitedTable(path, options) as table:
        assert table.source_rows().tolist() == [2, 3]


@pytest.mark.parametrize("end", ["\n", "\r\n"])
def test_a_header_further_down_is_read_where_the_mapping_says(tmp_path: Path, end):
    """Lines above the header (an export's title, its date, an empty line) are no records;
    the records keep their row numbers, and a malformed line is named by its row's."""
    path = tmp_path / "lab.csv"
    lines = ["Laboratorium PRRT", 'gemaakt op;"2024-06-01"', "", "patnr;eenheid", "1;a", ";",
             '2;"b', 'c"', "3;d"]
    path.write_bytes(end.join(lines).encode("utf-8"))
    options = ReaderOptions(delimiter=";", header_row=4)
    rows = [["1", "a", 5], ["2", f"b{end}c", 7], ["3", "d", 8]]  # rows, not lines
    assert read_file(path, options).values.tolist() == rows
    with DelimitedTable(path, options) as table:
        assert table.select({"patnr": ["3"]}, [], [SOURCE_ROW]).values.tolist() == [[8]]
        assert table.source_rows().tolist() == [5, 7, 8]
    path.write_bytes(end.join([*lines, "4;e;f"]).encode("utf-8"))
    with pytest.raises(DeliveryRejected, match="line 9: not the header's 2 fields: '4;e;f'"):
        read_file(path, options)
    with pytest.raises(DeliveryRejected, match="line 3 is no header \\(it is empty\\); if the "
                                               "header is further down, say on which row in "
                                               "the site mapping's reader"):
        read_file(path, ReaderOptions(delimiter=";", header_row=3))
    path.write_bytes(end.join(["Laboratorium PRRT", 'gemaakt op;"2024-06-01', *lines[2:]]
                              ).encode("utf-8"))  # DuckDB read no rows
    with pytest.raises(DeliveryRejected, match="line 2, above the header \\(line 4\\), opens "
                                               "a quote it does not close: 'gemaakt op;"):
        read_file(path, options)

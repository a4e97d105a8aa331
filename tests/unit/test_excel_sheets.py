"""Which worksheet an extract reads: the mapping's name, ignoring case and blanks around
a tab's name; none or two such worksheets reject the delivery by name."""

import pytest

from etl.errors import DeliveryRejected
from etl.extract.excel import read_sheet
from etl.mapping import ReaderOptions
from etl.synth.xlsx import write_workbook


def workbook(tmp_path, *sheets: str):
    path = tmp_path / "export.xlsx"
    write_workbook(path, [(name, ["Pat-ID", "Wert"], iter([[number, f"{name}!"]]))
                          for number, name in enumerate(sheets, start=1)],
                   date_format="dd.mm.yyyy")
    return path


@pytest.mark.parametrize("sent", ["Labor", "labor", "Labor ", " LABOR"])
def test_the_mapping_s_sheet_is_found_whatever_the_case_and_blanks(tmp_path, sent):
    path = workbook(tmp_path, "Patienten", sent)
    frame = read_sheet(path, ReaderOptions(), "Labor")
    assert frame[["Pat-ID", "Wert"]].values.tolist() == [["2", f"{sent}!".strip()]]


def test_two_matching_sheets_and_a_missing_one_are_refused_by_name(tmp_path):
    path = workbook(tmp_path, "Labor", "labor ")
    with pytest.raises(DeliveryRejected, match="several worksheets match 'LABOR': 'Labor', "
                                               "'labor '"):
        read_sheet(path, ReaderOptions(), "LABOR")
    with pytest.raises(DeliveryRejected, match=r"no worksheet 'Therapie' \(found: Labor, "
                                               r"labor \)"):
        read_sheet(path, ReaderOptions(), "Therapie")


def test_rows_without_a_value_are_no_records_and_the_others_keep_their_numbers(tmp_path):
    """A hand-kept sheet's empty rows between records, and those formatting leaves below
    them, are read as a delimited file's empty lines are: not at all."""
    path = tmp_path / "export.xlsx"
    write_workbook(path, [("Labor", ["Pat-ID", "Wert"], iter([
        ["1", "7"], [None, None], ["2", "8"], [None, None], [None, " "], ["3", "9"],
        [None, None]]))], date_format="dd.mm.yyyy")
    frame = read_sheet(path, ReaderOptions(), "Labor")
    assert frame.values.tolist() == [["1", "7", 2], ["2", "8", 4], ["3", "9", 7]]


def test_a_header_further_down_is_read_where_the_mapping_says(tmp_path):
    """Rows above the header (a title, the export's date, an empty row) are no records;
    the records keep the sheet's row numbers."""
    path = tmp_path / "export.xlsx"
    write_workbook(path, [("Labor", ["Laborwerte PRRT", None, None], iter([
        ["erstellt am", "01.06.2024", None], [None, None, None], ["Pat-ID", "Wert", None],
        ["1", "7", None], [None, None, None], ["2", "8", "x"]]))], date_format="dd.mm.yyyy")
    frame = read_sheet(path, ReaderOptions(header_row=4), "Labor")
    assert frame.values.tolist() == [["1", "7", 5], ["2", "8", 7]]
    with pytest.raises(DeliveryRejected, match=r"export\.xlsx\[Labor\]: row 3 is no header "
                                               r"\(it is empty\); if the header is further "
                                               r"down, say on which row"):
        read_sheet(path, ReaderOptions(header_row=3), "Labor")

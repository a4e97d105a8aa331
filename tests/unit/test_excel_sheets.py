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


MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STYLES = (  # cell formats 0: General, 1: 0%, 2: 0.0%, 3 and 4: a quoted or escaped % sign
    f'<styleSheet xmlns="{MAIN}"><numFmts><numFmt numFmtId="164" formatCode="0.0%"/>'
    '<numFmt numFmtId="165" formatCode="0&quot;%&quot;"/><numFmt numFmtId="166" '
    'formatCode="0\\%"/></numFmts><cellXfs><xf numFmtId="0"/><xf numFmtId="9"/>'
    '<xf numFmtId="164"/><xf numFmtId="165"/><xf numFmtId="166"/></cellXfs></styleSheet>')


def handmade_workbook(path, sheet_xml: str, styles: str | None = None) -> None:
    """A package as another writer makes it: a relative part name, cells without ``r``."""
    import zipfile

    with zipfile.ZipFile(path, "w") as package:
        package.writestr("xl/workbook.xml", (
            f'<workbook xmlns="{MAIN}" xmlns:r="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships"><sheets><sheet name="Labor" sheetId="1" '
            'r:id="rId7"/></sheets></workbook>'))
        package.writestr("xl/_rels/workbook.xml.rels", (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            'relationships"><Relationship Id="rId7" Target="worksheets/blatt.xml" '
            'Type="worksheet"/></Relationships>'))
        package.writestr("xl/worksheets/blatt.xml", f'<worksheet xmlns="{MAIN}"><sheetData>'
                                                    f'{sheet_xml}</sheetData></worksheet>')
        if styles:
            package.writestr("xl/styles.xml", styles)


def test_error_cells_are_found_by_reference_or_by_order(tmp_path):
    from etl.extract.excel_shown import shown_cells

    path = tmp_path / "export.xlsx"
    handmade_workbook(path, (
        '<row r="2"><c r="B2" s="1" t="e"><f>1/0</f><v>#DIV/0!</v></c></row>'
        '<row><c><v>1</v></c><c t="e"><v>#N/A</v></c><c r="AA3" t="e"/></row>'))
    assert shown_cells(path, "Labor", ".") == {(2, 2): "#DIV/0!", (3, 2): "#N/A",
                                               (3, 27): "#ERROR"}
    assert shown_cells(path, "Therapie", ".") == {}
    handmade_workbook(path, '<row r="2"><c r="B2" t="n"><v>1</v></c></row>')
    assert shown_cells(path, "Labor", ".") == {}


def test_numbers_formatted_as_percentages_are_shown_as_percentages(tmp_path):
    from etl.extract.excel_shown import shown_cells

    path = tmp_path / "export.xlsx"
    cells = "".join(f'<c r="{column}2" s="{style}"><v>0.155</v></c>'
                    for column, style in zip("ABCDE", range(5), strict=True))
    handmade_workbook(path, f'<row r="2">{cells}<c r="F2" s="1" t="s"><v>3</v></c></row>',
                      STYLES)
    assert shown_cells(path, "Labor", ",") == {(2, 2): "15,5%", (2, 3): "15,5%"}
    handmade_workbook(path, '<row r="2"><c r="A2" s="0"><v>0.155</v></c></row>', STYLES)
    assert shown_cells(path, "Labor", ".") == {}


def test_a_shown_cell_is_found_wherever_the_reads_split_the_xml(tmp_path, monkeypatch):
    from etl.extract import excel_shown

    path = tmp_path / "export.xlsx"
    for cell, shown in [('<c r="C4" t="e"><v>#REF!</v></c>', "#REF!"),
                        ('<c r="C4" s="2"><v>0.5</v></c>', "50%")]:
        handmade_workbook(path, f'<row r="4">{cell}</row>', STYLES)
        for chunk in range(len(excel_shown.ERROR_TYPE), 100):
            monkeypatch.setattr(excel_shown, "CHUNK", chunk)
            assert excel_shown.shown_cells(path, "Labor", ".") == {(4, 3): shown}, chunk

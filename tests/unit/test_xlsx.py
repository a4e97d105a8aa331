"""The synthetic exports' .xlsx writer: what a reader gets back is what was written."""

from datetime import date, datetime
from decimal import Decimal

import numpy as np
from python_calamine import CalamineWorkbook

from etl.synth.xlsx import write_workbook


def test_cells_read_back_with_their_types_and_exact_values(tmp_path):
    path = tmp_path / "export.xlsx"
    rows = [
        [1, "  padded  ", date(2024, 2, 29), 0.1 + 0.2, None],
        [np.int64(12345678901), "a < b & c", datetime(2024, 3, 1, 12, 30), Decimal("7.40"),
         float("nan")],
        [True, "Dünndarm", date(1900, 1, 1), -2.5e-07, 3.0],
        [2, "", date(1900, 3, 1)],  # after the 29 February 1900 Excel counts
    ]
    write_workbook(path, [("Labor", ["Pat-ID", "Text", "Datum", "Wert", "Leer"], iter(rows)),
                          ("Leer", ["nur Kopf"], iter([]))], date_format="dd.mm.yyyy")

    book = CalamineWorkbook.from_path(str(path))
    assert book.sheet_names == ["Labor", "Leer"]
    cells = book.get_sheet_by_name("Labor").to_python(skip_empty_area=False)
    assert cells[0] == ["Pat-ID", "Text", "Datum", "Wert", "Leer"]
    assert cells[1] == [1.0, "  padded  ", date(2024, 2, 29), 0.30000000000000004, ""]
    assert cells[2] == [12345678901.0, "a < b & c", datetime(2024, 3, 1, 12, 30), 7.4, ""]
    assert cells[3] == [True, "Dünndarm", date(1900, 1, 1), -2.5e-07, 3.0]
    assert cells[4] == [2.0, "", date(1900, 3, 1), "", ""]
    assert book.get_sheet_by_name("Leer").to_python() == [["nur Kopf"]]


def test_repeated_values_of_different_types_keep_their_own_cells(tmp_path):
    # cells are rendered once per distinct value; 1, 1.0 and True compare equal
    path = tmp_path / "export.xlsx"
    column = [1, 1.0, True, 1, float("nan"), float("nan"), "1", True, date(2024, 1, 1)]
    write_workbook(path, [("S", ["Wert"], iter([value] for value in column))],
                   date_format="yyyy-mm-dd")
    cells = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("S").to_python(
        skip_empty_area=False)
    assert [row[0] for row in cells[1:]] == [1.0, 1.0, True, 1.0, "", "", "1", True,
                                             date(2024, 1, 1)]
    assert [type(row[0]) for row in cells[1:4]] == [float, float, bool]

"""A centre that writes decimal commas (``reader.decimal: ","``) and sends numbers in
numeric cells (an Excel number, a SAS numeric variable) loads them as the numbers they
are. Such a cell holds no mark; read as ``1.125`` with a decimal comma, the point groups
thousands and the value was 1125, silently. A German workbook whose numbers typed as
text (``15,2``) were quarantined ``invalid_number`` is the reason to set the key."""

from datetime import date
from pathlib import Path

import pandas as pd

from etl import db
from etl.config import Settings
from etl.synth.xport import write_xport
from tests.conftest import SAMPLES, copy_samples, loaded_records, with_reader_options

CENTRES = ("BBK", "TRL")


def german_lab_values(path: Path) -> None:
    """Sheet row 2 (CgA in ng/ml) a number with three decimals, row 3 (NSE) typed as text."""
    import openpyxl

    workbook = openpyxl.load_workbook(path)
    labor = workbook["Labor"]
    assert [labor["C2"].value, labor["C3"].value] == ["Chromogranin A", "NSE"]
    labor["D2"], labor["D3"] = 1.125, "15,2"
    workbook.save(path)


def three_decimal_dose(folder: Path) -> None:
    """The first exposure record's dose 7.125 GBq, in the numeric variable EXDOSE."""
    exposure = pd.read_sas(folder / "ex.xpt", format="xport", encoding="utf-8")
    assert exposure.loc[0, "EXDOSU"] == "GBq"
    exposure.loc[0, "EXDOSE"] = 7.125
    write_xport(exposure, folder / "ex.xpt", "EX", date(2024, 6, 1))


def measured(settings: Settings) -> tuple[list, list]:
    with db.connect(settings) as connection:
        return (connection.exec_driver_sql(
            "SELECT source_row, value, lab_source_value FROM raw.lab_result "
            "WHERE site = 'BBK' AND source_row <= 4 ORDER BY 1").fetchall(),
            connection.exec_driver_sql(
            "SELECT administered_activity_gbq, activity_source_value FROM raw.treatment_cycle "
            "WHERE site = 'TRL' AND source_row = 1").fetchall())


def as_written(column: str) -> bool:
    """A number as sent: 4,05 is 4.05 as the comma centre sent it."""
    return not column.endswith(("_source_value", "ki67_source"))


def test_numeric_cells_of_a_decimal_comma_centre_are_the_numbers_they_hold(settings, tmp_path,
                                                                          monkeypatch):
    copy_samples(settings, *CENTRES)
    german_lab_values(settings.inbox / SAMPLES["BBK"])
    three_decimal_dose(settings.inbox / SAMPLES["TRL"])
    with_point = loaded_records(settings, CENTRES, as_written)
    assert measured(settings) == ([(2, 1.125, "1.125"), (4, 10.9, "10.9")],  # 15,2 quarantined
                                  [(7.125, "7.125")])

    comma = with_reader_options(tmp_path, monkeypatch, CENTRES, decimal=",")
    german_lab_values(comma.inbox / SAMPLES["BBK"])
    three_decimal_dose(comma.inbox / SAMPLES["TRL"])
    with_comma = loaded_records(comma, CENTRES, as_written)

    assert measured(comma) == ([(2, 1.125, "1,125"), (3, 15.2, "15,2"), (4, 10.9, "10,9")],
                               [(7.125, "7,125")])
    # every record read as with a decimal point, and the NSE value typed as text besides
    assert with_comma["TRL"] == with_point["TRL"]
    point_files, point_tables = with_point["BBK"]
    comma_files, comma_tables = with_comma["BBK"]
    labor = [i for i, file in enumerate(point_files) if file[1] == "lab_result"]
    assert [comma_files[i][3:] for i in labor] == [(point_files[i][3] + 1, 0, 0) for i in labor]
    lab = comma_tables.pop("lab_result")
    assert len(lab) == len(point_tables.pop("lab_result")) + 1 > 500
    assert comma_tables == point_tables

"""Workbook cells whose meaning is in how Excel shows them load as shown. A cell holding
an error (a formula that failed: ``#N/A``, ``#DIV/0!``) quarantines its row, naming the
error as the value sent: read as empty, a death date would have loaded as a living
patient's. A number formatted as a percentage (typed ``15%``, stored 0.15) is 15 %, not
0.15 %."""

from etl import db
from tests.conftest import SAMPLES, copy_samples, loaded_records


def as_shown(path) -> None:
    import openpyxl

    workbook = openpyxl.load_workbook(path)
    labor, verlauf, patienten = workbook["Labor"], workbook["Verlauf"], workbook["Patienten"]
    assert [labor["D1"].value, verlauf["C3"].value, verlauf["D1"].value,
            patienten["F1"].value] == ["Wert", "ja", "Todesdatum", "Ki-67 (%)"]
    labor["D2"], verlauf["D3"] = "#DIV/0!", "#N/A"  # openpyxl writes both as error cells
    for cell, value, shown in [("F2", 0.016, "0.0%"), ("F3", 0.057, "0%"),
                               ("F4", 1.2, '0.0"%"')]:  # the last only writes a sign
        patienten[cell].value, patienten[cell].number_format = value, shown
    workbook.save(path)


def test_errors_and_percentages_load_as_excel_shows_them(settings):
    copy_samples(settings, "BBK")
    as_shown(settings.inbox / SAMPLES["BBK"])
    files, _ = loaded_records(settings, ("BBK",))["BBK"]
    assert [f[1:] for f in files if f[1] in ("patient", "lab_result", "vital_status")] == [
        ("patient", 6, 6, 0, 0), ("lab_result", 518, 517, 0, 1), ("vital_status", 6, 5, 0, 1)]
    with db.connect(settings) as connection:
        assert connection.exec_driver_sql(
            "SELECT target_table, source_row, reason_code, column_name, source_value "
            "FROM meta.quarantined_row ORDER BY 1").fetchall() == [
            ("lab_result", 2, "invalid_number", "Wert", "#DIV/0!"),
            ("vital_status", 3, "unparseable_date", "Todesdatum", "#N/A")]
        assert connection.exec_driver_sql(
            "SELECT ki67_percent, ki67_source FROM raw.patient ORDER BY source_row LIMIT 3"
        ).fetchall() == [(1.6, "1.6%"), (5.7, "5.7%"), (1.2, "1.2")]

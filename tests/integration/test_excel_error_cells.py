"""A workbook cell holding an error (a formula that failed: ``#N/A``, ``#DIV/0!``) is no
empty cell: its row is quarantined for it, naming the cell's error as the value sent. An
empty death date would have loaded as a living patient's."""

from etl import db
from tests.conftest import SAMPLES, copy_samples, loaded_records


def with_errors(path) -> None:
    import openpyxl

    workbook = openpyxl.load_workbook(path)
    labor, verlauf = workbook["Labor"], workbook["Verlauf"]
    assert [labor["D1"].value, verlauf["C3"].value, verlauf["D1"].value] == [
        "Wert", "ja", "Todesdatum"]
    labor["D2"], verlauf["D3"] = "#DIV/0!", "#N/A"  # openpyxl writes both as error cells
    workbook.save(path)


def test_error_cells_quarantine_their_rows_by_the_error_sent(settings):
    copy_samples(settings, "BBK")
    with_errors(settings.inbox / SAMPLES["BBK"])
    files, _ = loaded_records(settings, ("BBK",))["BBK"]
    assert [f[1:] for f in files if f[1] in ("lab_result", "vital_status")] == [
        ("lab_result", 518, 517, 0, 1), ("vital_status", 6, 5, 0, 1)]
    with db.connect(settings) as connection:
        assert connection.exec_driver_sql(
            "SELECT target_table, source_row, reason_code, column_name, source_value "
            "FROM meta.quarantined_row ORDER BY 1").fetchall() == [
            ("lab_result", 2, "invalid_number", "Wert", "#DIV/0!"),
            ("vital_status", 3, "unparseable_date", "Todesdatum", "#N/A")]

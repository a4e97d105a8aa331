"""A delivery with a structural fault is rejected whole with a message naming the file;
the other centres' deliveries still load. Columns a mapping does not name never reach
the warehouse."""

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook

from etl import db
from etl.mapping import load_all_mappings
from etl.pipeline import load_deliveries
from etl.runs import start_run
from tests.conftest import FIXTURES, SAMPLES, copy_samples, text_columns_containing


def load(settings) -> dict:
    with db.connect(settings) as connection:
        db.upgrade(connection)
        reports = load_deliveries(connection, settings, start_run(connection, "test"),
                                  settings.inbox, load_all_mappings(settings))
    return {report.delivery.site: report for report in reports}


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def rename_sheet(path: Path) -> None:
    workbook = load_workbook(path)
    workbook["Therapie"].title = "Behandlung"
    workbook.save(path)


def drop_dictionary_choice(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(" | 2, Bone", ""), encoding="utf-8")


FAULTS: list[tuple[str, str, Callable[[Path], None], str]] = [
    ("BBK", "", truncate, "not a readable Excel workbook"),
    ("BBK", "", rename_sheet, "no worksheet 'Therapie'"),
    ("TRL", "ex.xpt", truncate, "ex.xpt"),
    ("TRL", "suppdm.xpt", lambda p: p.unlink(), "no file matching 'suppdm.xpt'"),
    ("IOW", "IOW_data_dictionary.csv", lambda p: p.unlink(),
     "no file matching 'IOW_data_dictionary.csv'"),
    ("IOW", "IOW_data_dictionary.csv", drop_dictionary_choice, "has no choice 'Bone'"),
]


@pytest.mark.parametrize(("site", "file_name", "spoil", "expected"), FAULTS)
def test_structural_fault_rejects_only_that_delivery(settings, site, file_name, spoil,
                                                     expected):
    copy_samples(settings, site, "ROT")
    target = settings.inbox / SAMPLES[site]
    spoil(target / file_name if file_name else target)
    reports = load(settings)
    assert reports[site].status == "rejected"
    assert expected in reports[site].message
    assert reports["ROT"].status == "loaded"
    with db.connect(settings) as connection:
        assert connection.exec_driver_sql(
            "SELECT count(*) FROM raw.patient WHERE site = ?", (site,)).scalar_one() == 0
        assert connection.exec_driver_sql(
            "SELECT status, message IS NOT NULL FROM meta.delivery WHERE site_code = ?",
            (site,)).fetchall() == [("rejected", True)]


def test_a_delivery_whose_name_gives_no_date_is_rejected_and_the_night_goes_on(settings):
    copy_samples(settings, "IOW")
    shutil.copytree(FIXTURES / SAMPLES["ROT"], settings.inbox / "ROT_20241341")
    reports = load(settings)
    assert reports["IOW"].status == "loaded"
    assert reports["ROT"].status == "rejected"
    assert reports["ROT"].message.startswith(
        "the export date in its name, '20241341', is no date in the format %Y%m%d")
    with db.connect(settings) as connection:
        assert connection.exec_driver_sql(
            "SELECT status, export_date FROM meta.delivery WHERE site_code = 'ROT'"
        ).fetchall() == [("rejected", None)]


def test_a_column_the_mapping_does_not_name_leaves_no_trace(settings):
    copy_samples(settings, "ROT", "BBK")
    patients = settings.inbox / SAMPLES["ROT"] / "patienten.csv"
    lines = patients.read_text(encoding="cp1252").splitlines()
    lines = [lines[0] + ";naam"] + [f"{line};Jansen-Zwartkop{n}" for n, line in
                                     enumerate(lines[1:])]
    patients.write_text("\r\n".join(lines) + "\r\n", encoding="cp1252")
    workbook_path = settings.inbox / SAMPLES["BBK"]
    workbook = load_workbook(workbook_path)
    sheet = workbook["Patienten"]
    sheet.cell(row=1, column=sheet.max_column + 1, value="Name")
    for row in range(2, sheet.max_row + 1):
        sheet.cell(row=row, column=sheet.max_column, value=f"Müller-Grünwald{row}")
    workbook.save(workbook_path)

    reports = load(settings)
    assert {r.status for r in reports.values()} == {"loaded"}
    assert b"Jansen-Zwartkop" not in settings.warehouse_path.read_bytes()
    assert text_columns_containing(settings.warehouse_path,
                                   ["Zwartkop", "Grünwald", "1966-02-10"]) == []

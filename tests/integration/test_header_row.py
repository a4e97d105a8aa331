"""A centre whose exports put a title above the header of every file or sheet loads,
with ``reader.header_row`` in its mapping, the records the same export without the
title loads, with the same accounting; each record's row is the row it is on."""

from pathlib import Path

from etl import db
from etl.config import Settings
from tests.conftest import SAMPLES, copy_samples, loaded_records, with_reader_options

CENTRES = ("ROT", "BBK")
TITLE = 2  # rows above the header: a title and the export's date


def titled_rot(folder: Path) -> None:
    for path in folder.glob("*.csv"):
        path.write_bytes(b"PRRT-export Rotterdam;;\naangemaakt op;\"01-06-2024\"\n"
                         + path.read_bytes())


def titled_bbk(path: Path) -> None:
    import openpyxl

    workbook = openpyxl.load_workbook(path)
    for sheet in workbook.worksheets:
        sheet.insert_rows(1, TITLE)
        sheet["A1"], sheet["A2"], sheet["B2"] = "PRRT-Export Bad Berka", "erstellt", "01.06.2024"
    workbook.save(path)


TITLED = {"ROT": titled_rot, "BBK": titled_bbk}


def lab_rows(settings: Settings) -> dict[str, list[int]]:
    """Per centre, the rows its lab results are on."""
    with db.connect(settings) as connection:
        rows = connection.exec_driver_sql(
            "SELECT site, source_row FROM raw.lab_result ORDER BY site, source_row").fetchall()
    return {site: [row for centre, row in rows if centre == site] for site in CENTRES}


def test_a_title_above_every_header_loads_the_same_records(settings, tmp_path, monkeypatch):
    copy_samples(settings, *CENTRES)
    as_sent, rows_as_sent = loaded_records(settings, CENTRES), lab_rows(settings)

    titled = with_reader_options(tmp_path, monkeypatch, CENTRES, header_row=TITLE + 1)
    for site in CENTRES:
        TITLED[site](titled.inbox / SAMPLES[site])
    assert loaded_records(titled, CENTRES) == as_sent
    assert lab_rows(titled) == {site: [row + TITLE for row in rows]
                                for site, rows in rows_as_sent.items()}
    assert min(len(rows) for rows in rows_as_sent.values()) > 100

"""A delivery whose header names differ from the mapping's only in case (and blanks
around them, or how the blanks inside them are written) loads as the delivery spelled
as the mapping is: record for record, with the same accounting. A column the mapping
reads that the header gives twice rejects the delivery, naming the file and the
columns."""

from datetime import date
from pathlib import Path

import pandas as pd

from etl import db
from etl.config import Settings
from etl.mapping import load_all_mappings
from etl.pipeline import load_deliveries
from etl.runs import start_run
from etl.synth.xport import write_xport
from tests.conftest import SAMPLES, copy_samples, loaded_records

CENTRES = ("ROT", "BBK", "TRL")


def respelled_rot(folder: Path) -> None:  # a delivery folder
    """Every header of ROT's files in capitals (``PATNR;DATUM;...;V1;...``)."""
    for path in folder.glob("*.csv"):
        header, rest = path.read_bytes().split(b"\n", 1)
        path.write_bytes(header.upper() + b"\n" + rest)


def respelled_bbk(path: Path) -> None:
    """Every header cell of BBK's workbook in capitals with a blank after it, and a line
    break for each blank inside it (``AKTIVITÄT\\n[MBQ] ``)."""
    import openpyxl

    workbook = openpyxl.load_workbook(path)
    for sheet in workbook.worksheets:
        for cell in sheet[1]:
            if cell.value:
                cell.value = f"{cell.value.upper().replace(' ', chr(10))} "
    workbook.save(path)


def respelled_trl(folder: Path) -> None:
    """Every variable of TRL's datasets named in lower case (``usubjid``)."""
    for path in sorted(folder.glob("*.xpt")):
        frame = pd.read_sas(path, format="xport", encoding="utf-8")
        write_xport(frame.rename(columns=str.lower), path, path.stem.upper(),
                    date(2024, 6, 1))


RESPELLED = {"ROT": respelled_rot, "BBK": respelled_bbk, "TRL": respelled_trl}


def test_headers_differing_from_the_mapping_only_in_case_load_the_same_records(
        settings, tmp_path, monkeypatch):
    copy_samples(settings, *CENTRES)
    as_sent = loaded_records(settings, CENTRES)

    monkeypatch.setenv("PRRT_HOME", str(tmp_path / "respelled"))
    respelled = Settings.from_env()
    copy_samples(respelled, *CENTRES)
    for site in CENTRES:
        RESPELLED[site](respelled.inbox / SAMPLES[site])
    assert loaded_records(respelled, CENTRES) == as_sent


def test_a_column_the_mapping_reads_given_twice_rejects_the_delivery_by_name(settings):
    copy_samples(settings, "ROT")
    lab = settings.inbox / SAMPLES["ROT"] / "lab.csv"
    lines = lab.read_bytes().split(b"\n")
    lab.write_bytes(b"\n".join([lines[0].rstrip(b"\r") + b";Datum\r",
                                *(line.rstrip(b"\r") + b";01-01-2024\r" if line else line
                                  for line in lines[1:])]))
    with db.connect(settings) as connection:
        db.upgrade(connection)
        [report] = load_deliveries(connection, settings, start_run(connection, "test"),
                                   settings.inbox, load_all_mappings(settings))
    assert report.status == "rejected"
    assert report.message.endswith(
        "lab.csv: the mapping's column 'datum' matches 'datum' (column 2), 'Datum' "
        "(column 6) ignoring case and blanks; which one to read?")

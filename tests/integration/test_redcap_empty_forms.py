"""REDCap exports a row for every event a form is designated for, data or not, with the
form's status 0 (incomplete) and its checkboxes 0 (unticked). Such a form row carries no
record: IOW's sample exported that way loads the same records, its empty form rows
counted as skipped."""

import csv
import shutil
from pathlib import Path

from etl import db
from etl.config import Settings
from etl.mapping import load_all_mappings
from etl.pipeline import load_deliveries
from etl.runs import start_run
from tests.conftest import FIXTURES, SAMPLES, raw_records

EXPORT = "IOW_redcap_20240601.csv"


def as_redcap_exports_it(folder: Path) -> int:
    """On every row of an event (not a repeat instance), fill each blank form status
    with 0 and each blank checkbox with 0; returns the statuses so filled."""
    with (folder / EXPORT).open(encoding="utf-8", newline="") as file:
        header, *rows = csv.reader(file)
    statuses = [i for i, name in enumerate(header) if name.endswith("_complete")]
    checkboxes = [i for i, name in enumerate(header) if "___" in name]
    repeat = header.index("redcap_repeat_instrument")
    filled = 0
    for row in rows:
        if row[repeat]:
            continue
        for i in statuses + checkboxes:
            if row[i] == "":
                row[i] = "0"
                filled += i in statuses
    with (folder / EXPORT).open("w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows([header, *rows])
    return filled


def load(settings: Settings) -> tuple[list, dict[str, list]]:
    """The delivery's per-file accounting and each raw table's records."""
    with db.connect(settings) as connection:
        db.upgrade(connection)
        [report] = load_deliveries(connection, settings, start_run(connection, "test"),
                                   settings.inbox, load_all_mappings(settings))
        assert report.status == "loaded", report.message
        return report.files, raw_records(connection, "IOW")


def test_empty_forms_of_a_redcap_export_are_skipped_not_loaded_or_quarantined(
        settings, tmp_path, monkeypatch):
    shutil.copytree(FIXTURES / SAMPLES["IOW"], settings.inbox / SAMPLES["IOW"])
    sample_files, sample_records = load(settings)

    monkeypatch.setenv("PRRT_HOME", str(tmp_path / "exported"))
    padded = Settings.from_env()
    shutil.copytree(FIXTURES / SAMPLES["IOW"], padded.inbox / SAMPLES["IOW"])
    assert as_redcap_exports_it(padded.inbox / SAMPLES["IOW"]) >= 100
    files, records = load(padded)

    assert records == sample_records
    assert [(f.table, f.rows_loaded, f.rows_quarantined) for f in files] == [
        (f.table, f.rows_loaded, f.rows_quarantined) for f in sample_files]
    extra = {f.table: (f.rows_read - s.rows_read, f.rows_skipped - s.rows_skipped)
             for f, s in zip(files, sample_files, strict=True) if f.table}
    assert all(read == skipped for read, skipped in extra.values())
    # the follow-up form is on every event row: one per patient holds data
    assert extra["vital_status"][0] > 0 and extra["patient"][0] > 0

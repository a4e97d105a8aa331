"""With ``PRRT_SETTLE_SECONDS`` set, an inbox entry that changed more recently than that
may still be arriving: it is left for a later run, not read half written."""

import dataclasses
import os
import time
from pathlib import Path

import pytest

from etl import db
from etl.config import Settings
from etl.errors import ConfigurationError
from etl.inbox import discover
from etl.mapping import load_all_mappings
from etl.pipeline import load_deliveries
from etl.runs import start_run
from tests.conftest import SAMPLES, copy_samples

HOUR = 3600


def changed_ago(path: Path, seconds: float) -> None:
    """Set the modification time of ``path`` and everything in it to ``seconds`` ago."""
    moment = time.time() - seconds
    for item in [*path.rglob("*"), path] if path.is_dir() else [path]:
        os.utime(item, (moment, moment))


def test_entries_changed_within_the_settling_time_are_arriving(settings):
    copy_samples(settings, "ROT", "BBK", "IOW")
    for site in ("ROT", "BBK", "IOW"):
        changed_ago(settings.inbox / SAMPLES[site], 2 * HOUR)
    changed_ago(settings.inbox / SAMPLES["ROT"] / "lab.csv", 30)  # being written
    changed_ago(settings.inbox / SAMPLES["BBK"], 100)  # the workbook itself
    mappings = load_all_mappings(settings)

    entries = discover(settings.inbox, mappings, settle_seconds=10 * 60)
    assert [d.site for d in entries.deliveries] == ["IOW"]
    assert {path.name: round(age, -1) for path, age in entries.arriving.items()} == {
        SAMPLES["ROT"]: 30, SAMPLES["BBK"]: 100}

    (settings.inbox / SAMPLES["IOW"] / "notes.txt").write_text("a file added now")
    changed_ago(settings.inbox / SAMPLES["IOW"] / "notes.txt", 2 * HOUR)  # kept its time,
    assert [p.name for p in discover(settings.inbox, mappings, 10 * 60).arriving] == [
        SAMPLES["BBK"], SAMPLES["IOW"], SAMPLES["ROT"]]  # the folder's own time is now's

    unsettled = discover(settings.inbox, mappings, settle_seconds=0)
    assert [d.site for d in unsettled.deliveries] == ["BBK", "IOW", "ROT"]
    assert unsettled.arriving == {}


def test_an_arriving_delivery_loads_on_the_run_after_it_settled(settings, capsys):
    copy_samples(settings, "ROT")
    changed_ago(settings.inbox / SAMPLES["ROT"], 0)  # a copy keeps the sample's times
    settling = dataclasses.replace(settings, settle_seconds=10 * 60)

    def night() -> list:
        with db.connect(settings) as connection:
            db.upgrade(connection)
            return load_deliveries(connection, settling, start_run(connection, "test"),
                                   settings.inbox, load_all_mappings(settings))

    assert night() == []
    assert (f"~ {SAMPLES['ROT']}: changed 0 s ago, less than PRRT_SETTLE_SECONDS=600: it "
            "may still be arriving; left for the next run") in capsys.readouterr().err
    with db.connect(settings) as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM meta.delivery"
                                          ).scalar_one() == 0

    changed_ago(settings.inbox / SAMPLES["ROT"], 11 * 60)
    [report] = night()
    assert (report.delivery.site, report.status) == ("ROT", "loaded")


@pytest.mark.parametrize("value", ["-5", "ten", "1.5"])
def test_the_settling_time_is_a_whole_number_of_seconds(monkeypatch, value):
    monkeypatch.setenv("PRRT_SETTLE_SECONDS", value)
    with pytest.raises(ConfigurationError, match=f"PRRT_SETTLE_SECONDS must be a whole number "
                                                 f"of at least 0, got '{value}'"):
        Settings.from_env()

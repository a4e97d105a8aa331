"""Mapping with memory: a night's units seen before are recalled, and the canonical rows
and issues are exactly those of mapping every unit again."""

from datetime import timedelta

import pandas as pd

from etl import db
from etl.inbox import discover
from etl.load import export_day, extract_delivery
from etl.mapping import load_all_mappings
from etl.mapping_memo import RememberedMapping
from etl.pipeline import load_deliveries
from etl.runs import start_run
from etl.synth import WRITERS, write_deliveries
from tests.conftest import TEST_KEY

EXPORT = "2024-06-01"
KEY = TEST_KEY.encode()


def load(settings):
    with db.connect(settings) as connection:
        db.upgrade(connection)
        return load_deliveries(connection, settings, start_run(connection, "test"),
                               settings.inbox, load_all_mappings(settings))


def assert_same(recalled: pd.DataFrame, mapped: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(recalled, mapped, check_exact=True)
    assert (recalled.map(type) == mapped.map(type)).all().all()  # Decimal, date, None


def test_night_two_recalls_unchanged_units_and_maps_the_rest_exactly(settings):
    write_deliveries(settings.inbox, 30, 11, sorted(WRITERS), EXPORT, night=1)
    assert {r.status for r in load(settings)} == {"loaded"}
    night2 = settings.home / "night2"
    write_deliveries(night2, 30, 11, sorted(WRITERS), EXPORT, night=2, faults=True)
    mappings = load_all_mappings(settings)
    deliveries, _ = discover(night2, mappings)
    assert len(deliveries) == 4
    for delivery in deliveries:
        loaded = mappings[delivery.site]
        mapper = RememberedMapping(settings, loaded, KEY, export_day(delivery))
        remembered = extract_delivery(loaded, delivery, KEY, mapper)
        plain = extract_delivery(loaded, delivery, KEY)
        assert remembered.tables.keys() == plain.tables.keys()
        for table in plain.tables:
            assert_same(remembered.tables[table], plain.tables[table])
        assert_same(remembered.issues, plain.issues)
        units = sum(f.rows_read - f.rows_skipped for f in plain.files if f.table)
        assert mapper.recalled + mapper.mapped >= units
        assert mapper.recalled > 0.5 * units, delivery.site  # 91 days on: most unchanged
        assert mapper.mapped >= plain.issues["unit_id"].nunique() > 0  # faults: mapped


def test_a_memory_from_a_later_export_is_not_used(settings):
    write_deliveries(settings.inbox, 10, 3, ["ROT"], EXPORT)
    mappings = load_all_mappings(settings)
    [delivery], _ = discover(settings.inbox, mappings)
    later = RememberedMapping(settings, mappings["ROT"], KEY,
                              export_day(delivery) + timedelta(days=30))
    extract_delivery(mappings["ROT"], delivery, KEY, later)
    later.remember()
    again = RememberedMapping(settings, mappings["ROT"], KEY,
                              export_day(delivery) + timedelta(days=30))
    extract_delivery(mappings["ROT"], delivery, KEY, again)
    assert again.mapped == 0 and again.recalled > 0
    # on its own export date a date between it and the later export is in the future
    earlier = RememberedMapping(settings, mappings["ROT"], KEY, export_day(delivery))
    extract_delivery(mappings["ROT"], delivery, KEY, earlier)
    assert earlier.recalled == 0 and earlier.mapped == again.recalled


def test_another_pseudonym_key_forgets_everything(settings):
    write_deliveries(settings.inbox, 10, 3, ["ROT"], EXPORT)
    mappings = load_all_mappings(settings)
    [delivery], _ = discover(settings.inbox, mappings)
    first = RememberedMapping(settings, mappings["ROT"], KEY, export_day(delivery))
    extract_delivery(mappings["ROT"], delivery, KEY, first)
    first.remember()
    other = RememberedMapping(settings, mappings["ROT"], b"another key", export_day(delivery))
    extract_delivery(mappings["ROT"], delivery, b"another key", other)
    assert other.recalled == 0


def test_prepared_memory_counts_only_once_remembered(settings):
    write_deliveries(settings.inbox, 10, 3, ["ROT"], EXPORT)
    mappings = load_all_mappings(settings)
    [delivery], _ = discover(settings.inbox, mappings)

    def mapper_after_extract():
        mapper = RememberedMapping(settings, mappings["ROT"], KEY, export_day(delivery))
        extract_delivery(mappings["ROT"], delivery, KEY, mapper)
        return mapper

    rejected = mapper_after_extract()
    rejected.prepare()  # as the extract worker does
    assert mapper_after_extract().recalled == 0  # prepared, not yet in place
    rejected.forget()  # its delivery was not loaded
    memo_files = sorted(p.name for p in (settings.build_dir / "memo").rglob("*.*"))
    assert not [name for name in memo_files if name.endswith(".prepared")]
    loaded = mapper_after_extract()
    assert loaded.recalled == 0
    loaded.prepare()
    loaded.remember()
    again = mapper_after_extract()
    assert again.mapped == 0 and again.recalled == loaded.mapped > 0


def test_a_centres_second_delivery_of_a_night_recalls_its_first(settings, capsys):
    write_deliveries(settings.inbox, 20, 5, ["ROT", "TRL"], EXPORT, night=1)
    write_deliveries(settings.inbox, 20, 5, ["ROT"], EXPORT, night=2)
    reports = load(settings)
    assert [(r.delivery.site, r.status) for r in reports] == [
        ("ROT", "loaded"), ("ROT", "loaded"), ("TRL", "loaded")]
    lines = [line for line in capsys.readouterr().err.splitlines() if "units mapped" in line]
    counts = [line.split() for line in lines]  # "mapping: M units mapped, R recalled ..."
    mapped, recalled = [int(c[1]) for c in counts], [int(c[4]) for c in counts]
    assert recalled[0] == 0 and recalled[2] == 0  # the first night of each centre
    assert recalled[1] > 0.5 * (mapped[1] + recalled[1])  # ROT's second export

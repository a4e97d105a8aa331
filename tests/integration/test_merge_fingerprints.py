"""The merge recognises records resent unchanged by their fingerprint; the full comparison
still decides everything else (``etl.snapshot``, ``etl.fingerprint``)."""

from datetime import date, datetime

import pandas as pd

from etl import db
from etl.fingerprint import STORED, with_fingerprints
from etl.snapshot import MergeCounts, _recognise_unchanged, merge_snapshot
from models.base import metadata

NIGHTS = [datetime(2024, 6, day, 2) for day in (1, 2, 3, 4)]
LABS = metadata.tables["raw.lab_result"]


def labs(*records: tuple[str, date, float], flags: str = "bool") -> pd.DataFrame:
    return with_fingerprints(LABS, pd.DataFrame({
        "patient_pseudonym": [r[0] for r in records], "sample_date": [r[1] for r in records],
        "analyte": "cga", "value": [r[2] for r in records],
        "is_canonical_unit": pd.Series([True] * len(records), dtype=flags),
        "source_file": "lab.csv", "source_file_sha256": "0" * 64,
        "source_row": range(2, len(records) + 2)}))


P1, P2, P3 = ("P1", date(2024, 1, 2), 90.0), ("P2", date(2024, 1, 2), 7.1), \
    ("P3", date(2024, 1, 2), 8.0)


def versions(connection) -> list[tuple]:
    """(patient, value, current, withdrawn, has fingerprint) of every stored version."""
    return connection.exec_driver_sql(
        f"SELECT patient_pseudonym, value, valid_to IS NULL, is_withdrawn, {STORED} IS NOT NULL "
        "FROM raw.lab_result ORDER BY patient_pseudonym, raw_id").fetchall()


def test_only_records_not_resent_unchanged_are_compared_in_full(settings):
    with db.connect(settings) as connection:
        db.upgrade(connection)
        merge_snapshot(connection, "lab_result", "ROT", labs(P1, P2, P3), 1, NIGHTS[0])
        duck = connection.connection.driver_connection
        tonight = labs(P1, ("P2", date(2024, 1, 2), 7.3), ("P4", date(2024, 3, 1), 70.0))
        # P1 is resent unchanged; P2 changed and P4 is new: those two are compared in full
        recognised = _recognise_unchanged(duck, "raw.lab_result", "ROT", tonight)
        assert recognised.rows.tolist() == [True, False, False]
        assert recognised.versions.tolist() == [1]  # P1's stored version (raw_id 1)
        # another centre's identical record is not ROT's
        assert _recognise_unchanged(duck, "raw.lab_result", "IOW", labs(P1)).rows.tolist() == \
            [False]

        assert merge_snapshot(connection, "lab_result", "ROT", tonight, 2, NIGHTS[1]) == \
            MergeCounts(inserted=1, updated=1, withdrawn=1)
        assert versions(connection) == [
            ("P1", 90.0, True, False, True),
            ("P2", 7.1, False, False, True), ("P2", 7.3, True, False, True),
            ("P3", 8.0, True, True, True),
            ("P4", 70.0, True, False, True)]


def test_versions_without_a_fingerprint_are_compared_in_full_once_and_then_get_one(settings):
    with db.connect(settings) as connection:
        db.upgrade(connection)
        merge_snapshot(connection, "lab_result", "ROT", labs(P1, P2), 1, NIGHTS[0])
        connection.exec_driver_sql(f"UPDATE raw.lab_result SET {STORED} = NULL")  # as migrated
        assert merge_snapshot(connection, "lab_result", "ROT", labs(P1, P2), 2, NIGHTS[1]) == \
            MergeCounts(inserted=0, updated=0, withdrawn=0)
        assert versions(connection) == [("P1", 90.0, True, False, True),
                                         ("P2", 7.1, True, False, True)]
        duck = connection.connection.driver_connection
        assert _recognise_unchanged(duck, "raw.lab_result", "ROT", labs(P1, P2)).rows.all()


def test_same_content_in_another_dtype_is_not_a_new_version_and_refreshes_the_fingerprint(
        settings):
    with db.connect(settings) as connection:
        db.upgrade(connection)
        merge_snapshot(connection, "lab_result", "ROT", labs(P1), 1, NIGHTS[0])
        as_objects = labs(P1, flags="object")
        stored_before = connection.exec_driver_sql(
            f"SELECT {STORED} FROM raw.lab_result").scalar_one()
        assert merge_snapshot(connection, "lab_result", "ROT", as_objects, 2, NIGHTS[1]) == \
            MergeCounts(inserted=0, updated=0, withdrawn=0)
        stored_after = connection.exec_driver_sql(
            f"SELECT {STORED} FROM raw.lab_result").scalar_one()
        assert stored_after != stored_before
        assert stored_after == (int(as_objects["fingerprint_high"][0]) << 64) \
            | int(as_objects["fingerprint_low"][0])


def test_a_withdrawn_record_sent_again_unchanged_is_current_again(settings):
    with db.connect(settings) as connection:
        db.upgrade(connection)
        merge_snapshot(connection, "lab_result", "ROT", labs(P1, P2), 1, NIGHTS[0])
        assert merge_snapshot(connection, "lab_result", "ROT", labs(P1), 2, NIGHTS[1]) == \
            MergeCounts(inserted=0, updated=0, withdrawn=1)
        assert merge_snapshot(connection, "lab_result", "ROT", labs(P1, P2), 3, NIGHTS[2]) == \
            MergeCounts(inserted=0, updated=1, withdrawn=0)
        assert versions(connection) == [("P1", 90.0, True, False, True),
                                         ("P2", 7.1, False, True, True),
                                         ("P2", 7.1, True, False, True)]

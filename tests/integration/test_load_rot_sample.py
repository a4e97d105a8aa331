"""The ROT sample: values checked by hand, history across nights, structural rejection."""

import shutil
from decimal import Decimal

import pytest

from etl import db
from etl.mapping import load_all_mappings
from etl.pipeline import load_deliveries
from etl.pseudonym import pseudonym
from etl.runs import start_run
from tests.conftest import ROT_SAMPLE, TEST_KEY


def load(settings, inbox):
    with db.connect(settings) as connection:
        db.upgrade(connection)
        reports = load_deliveries(connection, settings, start_run(connection, "test"), inbox,
                                  load_all_mappings(settings))
    return reports


def query(settings, sql, *params):
    with db.connect(settings) as connection:
        return connection.exec_driver_sql(sql, params).fetchall()


def pid(patient_id: str) -> str:
    return pseudonym("ROT", patient_id, TEST_KEY.encode())


def test_values_round_trip_from_the_sample_files(settings, rot_inbox):
    load(settings, rot_inbox)
    # patienten.csv line 2: 9988620;M;1965;29-11-2023;dunne darm;G2;3,3;4;ja;ja
    assert query(settings, "SELECT sex, birth_year, CAST(diagnosis_date AS VARCHAR), "
                 "primary_origin, primary_origin_source, who_grade, ki67_percent, "
                 "krenning_score, bone_metastases, liver_metastases, source_row "
                 "FROM raw.patient WHERE patient_pseudonym = ?", pid("9988620")) == [
        ("male", 1965, "2023-11-29", "small_intestine", "dunne darm", "G2", 3.3, 4, True,
         True, 2)]
    # line 6: 4090310;M;1963;09-02-2020;pancreas;G1;<2;2;nee;ja
    assert query(settings, "SELECT ki67_percent, ki67_qualifier, ki67_source FROM raw.patient "
                 "WHERE patient_pseudonym = ?", pid("4090310")) == [(2.0, "<", "<2")]
    # behandelingen.csv: 1654551 has four regular cycles then two 'aanvullend' (salvage)
    cycles = query(settings, "SELECT cycle_no, administered_activity_gbq, phase FROM "
                   "raw.treatment_cycle WHERE patient_pseudonym = ? ORDER BY cycle_date",
                   pid("1654551"))
    assert cycles == [
        (1, Decimal("7.26"), "regular"), (2, Decimal("7.32"), "regular"),
        (3, Decimal("7.35"), "regular"), (4, Decimal("7.41"), "regular"),
        (5, Decimal("7.54"), "salvage"), (6, Decimal("7.43"), "salvage")]
    # followup.csv: 1102296;12-03-2022;ja;12-03-2022
    assert query(settings, "SELECT is_dead, CAST(death_date AS VARCHAR) FROM raw.vital_status "
                 "WHERE patient_pseudonym = ?", pid("1102296")) == [(True, "2022-03-12")]


def snapshot(settings):
    return {table: query(settings, f"SELECT * EXCLUDE (extracted_at) FROM raw.{table} "
                         "ORDER BY raw_id")
            for table in ("patient", "treatment_cycle", "vital_status")}


def test_loading_the_same_delivery_twice_changes_nothing(settings, rot_inbox):
    load(settings, rot_inbox)
    before = snapshot(settings)
    [again] = load(settings, rot_inbox)
    assert again.status == "skipped"
    # The same content under another name (a resend) is recognised by its hash too.
    shutil.move(rot_inbox / ROT_SAMPLE.name, rot_inbox / "ROT_20240602")
    [resend] = load(settings, rot_inbox)
    assert resend.status == "skipped"
    assert snapshot(settings) == before


def test_corrections_keep_history_and_absent_records_are_withdrawn(settings, rot_inbox):
    load(settings, rot_inbox)
    night2 = rot_inbox / "ROT_20240602"
    shutil.copytree(rot_inbox / ROT_SAMPLE.name, night2)
    shutil.rmtree(rot_inbox / ROT_SAMPLE.name)
    cycles = (night2 / "behandelingen.csv").read_text(encoding="cp1252")
    cycles = cycles.replace("9988620;1;20-03-2024;7,41", "9988620;1;20-03-2024;7,45")
    cycles = "\r\n".join(line for line in cycles.splitlines()
                         if not line.startswith("8909479;3;")) + "\r\n"
    (night2 / "behandelingen.csv").write_text(cycles, encoding="cp1252")

    [report] = load(settings, rot_inbox)
    counts = report.merges["treatment_cycle"]
    assert (counts.inserted, counts.updated, counts.withdrawn) == (0, 1, 1)
    assert report.merges["patient"].updated == 0
    versions = query(settings, "SELECT administered_activity_gbq, valid_to IS NULL FROM "
                     "raw.treatment_cycle WHERE patient_pseudonym = ? AND cycle_no = 1 "
                     "ORDER BY valid_from", pid("9988620"))
    assert versions == [(Decimal("7.41"), False), (Decimal("7.45"), True)]
    assert query(settings, "SELECT is_withdrawn FROM raw.treatment_cycle WHERE "
                 "patient_pseudonym = ? AND cycle_no = 3", pid("8909479")) == [(True,)]


@pytest.mark.parametrize(("file_name", "fault", "expected"), [
    ("behandelingen.csv", lambda t: t.replace("activiteit_gbq", "activiteit"),
     "required column(s) missing: activiteit_gbq"),
    ("patienten.csv", lambda t: t + "1234567;M;1970\r\n", "unreadable"),
    ("followup.csv", lambda t: "PRRT-export Rotterdam\n" + t,
     "found: PRRT-export Rotterdam; none is on row 1: if the header is further down, say on "
     "which row in the site mapping's reader (header_row)"),
])
def test_structural_fault_rejects_the_delivery_whole(settings, rot_inbox, file_name, fault,
                                                      expected):
    path = rot_inbox / ROT_SAMPLE.name / file_name
    path.write_text(fault(path.read_text(encoding="cp1252")), encoding="cp1252")
    [report] = load(settings, rot_inbox)
    assert report.status == "rejected"
    assert expected in report.message and file_name in report.message
    assert query(settings, "SELECT count(*) FROM raw.patient") == [(0,)]
    assert query(settings, "SELECT status FROM meta.delivery") == [("rejected",)]

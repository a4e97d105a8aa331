"""Every centre's sample delivery loads completely, and its values round-trip.

Expected values are read by hand from the sample files (the line or record is quoted
above each check) and converted by hand where a unit changes.
"""

import shutil
from decimal import Decimal

import pytest

from etl import db
from etl.mapping import load_all_mappings
from etl.pipeline import load_deliveries
from etl.pseudonym import pseudonym
from etl.runs import start_run
from tests.conftest import FIXTURES, SAMPLES, TEST_KEY

EXTRACTS = {  # (source, table) of every extract, per centre
    "ROT": 10, "BBK": 8, "IOW": 10, "TRL": 11,
}


@pytest.fixture
def load_sample(settings):
    def load(site: str):
        settings.inbox.mkdir(parents=True, exist_ok=True)
        sample = FIXTURES / SAMPLES[site]
        target = settings.inbox / sample.name
        (shutil.copytree if sample.is_dir() else shutil.copy)(sample, target)
        with db.connect(settings) as connection:
            db.upgrade(connection)
            [report] = load_deliveries(connection, settings, start_run(connection, "test"),
                                       settings.inbox, load_all_mappings(settings))
        return report
    return load


def query(settings, sql, *params):
    with db.connect(settings) as connection:
        return connection.exec_driver_sql(sql, params).fetchall()


def pid(site: str, patient_id: str) -> str:
    return pseudonym(site, patient_id, TEST_KEY.encode())


@pytest.mark.parametrize("site", sorted(SAMPLES))
def test_sample_loads_with_zero_quarantine_and_exact_accounting(settings, load_sample, site):
    report = load_sample(site)
    assert report.status == "loaded", report.message
    extracts = [f for f in report.files if f.table is not None]
    assert len(extracts) == EXTRACTS[site]
    for file in report.files:
        assert file.rows_quarantined == 0, (file.file_name, file.table, file.quarantined)
        assert file.rows_read == file.rows_loaded + file.rows_skipped
    assert query(settings, "SELECT count(*) FROM meta.quarantined_row") == [(0,)]
    assert query(settings, "SELECT count(*) FROM meta.delivery_file WHERE rows_read <> "
                 "rows_loaded + rows_skipped + rows_quarantined") == [(0,)]


def test_rot_questionnaires_labs_imaging_and_toxicity(settings, load_sample):
    load_sample("ROT")
    patient = pid("ROT", "9988620")
    # qol.csv line 2: 9988620;28-02-2024;QLQ-C30;70;1;2;2;1;1;2;2;1;1;2;1;3;2;1;1;1;2;3;2;1;3;
    #                 1;1;2;1;2;2;1;4;3
    items = query(settings, "SELECT item_no, response FROM raw.qlq_c30_item_response WHERE "
                  "patient_pseudonym = ? AND assessment_date = DATE '2024-02-28' ORDER BY 1",
                  patient)
    assert [r for _, r in items] == [1, 2, 2, 1, 1, 2, 2, 1, 1, 2, 1, 3, 2, 1, 1, 1, 2, 3, 2, 1,
                                     3, 1, 1, 2, 1, 2, 2, 1, 4, 3]
    assert query(settings, "SELECT scale, score FROM raw.performance_status WHERE "
                 "patient_pseudonym = ? AND assessment_date = DATE '2024-02-28'", patient) == [
        ("KPS", 70)]
    # 1102296;06-01-2019: item 6 is 'NB' (unknown) -> no record, 29 items
    assert query(settings, "SELECT count(*), count(*) FILTER (item_no = 6) FROM "
                 "raw.qlq_c30_item_response WHERE patient_pseudonym = ? AND "
                 "assessment_date = DATE '2019-01-06'", pid("ROT", "1102296")) == [(29, 0)]
    # lab.csv: 9988620;28-02-2024;CgA;718;µg/L and Hb;9,2;mmol/L (x 1.6114 g/dL per mmol/L)
    labs = dict(query(settings, "SELECT analyte, value FROM raw.lab_result WHERE "
                      "patient_pseudonym = ? AND sample_date = DATE '2024-02-28'", patient))
    assert labs["CGA"] == 718
    assert labs["HGB"] == pytest.approx(14.82488)
    assert query(settings, "SELECT unit, lab_source_value, lab_source_unit FROM raw.lab_result "
                 "WHERE patient_pseudonym = ? AND sample_date = DATE '2024-02-28' AND "
                 "analyte = 'HGB'", patient) == [("g/dL", "9,2", "mmol/L")]
    # beeldvorming.csv: 9988620;28-02-2024;MRI;1;dunne darm;ja;31;nee (five lesions that day)
    assert query(settings, "SELECT organ, is_target, diameter_mm, is_new, is_measured FROM "
                 "raw.lesion_measurement WHERE patient_pseudonym = ? AND exam_date = "
                 "DATE '2024-02-28' AND lesion_id = '1'", patient) == [
        ("small_intestine", True, 31.0, False, True)]
    assert query(settings, "SELECT modality FROM raw.imaging_exam WHERE patient_pseudonym = ? "
                 "AND exam_date = DATE '2024-02-28'", patient) == [("MRI",)]
    # toxiciteit.csv: Braken (Dutch) and 'White blood cell decreased' (CTCAE English)
    terms = query(settings, "SELECT term, term_source, grade FROM raw.adverse_event WHERE "
                  "patient_pseudonym = ? ORDER BY onset_date, term", patient)
    assert ("Vomiting", "Braken", 2) in terms
    assert ("White blood cell decreased", "White blood cell decreased", 4) in terms


def test_bbk_workbook_values_units_and_birth_year_only(settings, load_sample):
    load_sample("BBK")
    patient = pid("BBK", "835878")
    # Patienten: 835878, w, 1966-02-10, CUP, G1, 1.6, 3, nein, ja, hoch
    assert query(settings, "SELECT sex, birth_year, primary_origin, who_grade, ki67_percent, "
                 "krenning_score, bone_metastases, liver_metastases, tumour_burden "
                 "FROM raw.patient WHERE patient_pseudonym = ?", patient) == [
        ("female", 1966, "unknown", "G1", 1.6, 3, False, True, "high")]
    # Therapie: cycle 1 2021-04-07 7970 MBq = 7.97 GBq; cycle 5 'Retherapie'
    assert query(settings, "SELECT cycle_no, CAST(cycle_date AS VARCHAR), "
                 "administered_activity_gbq, phase FROM raw.treatment_cycle WHERE "
                 "patient_pseudonym = ? AND cycle_no IN (1, 5) ORDER BY 1", patient) == [
        (1, "2021-04-07", Decimal("7.97"), "regular"),
        (5, "2023-10-23", Decimal("7.45"), "salvage")]
    # Labor 2021-03-23: Hämoglobin 10.9 g/dl, Thrombozyten 252 /nl, Kreatinin 1.01 mg/dl
    labs = dict(query(settings, "SELECT analyte, value FROM raw.lab_result WHERE "
                      "patient_pseudonym = ? AND sample_date = DATE '2021-03-23'", patient))
    assert labs["HGB"] == pytest.approx(10.9)
    assert labs["PLT"] == pytest.approx(252)
    assert labs["CREAT"] == pytest.approx(1.01 * 88.42)
    # Bildgebung 2021-03-24: lesion 1 Leber ja 2.5 cm; lesion 5 Leber nein (no diameter)
    lesions = query(settings, "SELECT lesion_id, organ, is_target, diameter_mm, is_measured "
                    "FROM raw.lesion_measurement WHERE patient_pseudonym = ? AND "
                    "exam_date = DATE '2021-03-24' AND lesion_id IN ('1', '5') ORDER BY 1",
                    patient)
    assert lesions == [("1", "liver", True, 25.0, True), ("5", "liver", False, None, False)]
    # Befund 2021-06-14: SWOG, stabile Erkrankung
    assert query(settings, "SELECT criterion, category, category_source FROM "
                 "raw.reported_response WHERE patient_pseudonym = ? AND assessment_date = "
                 "DATE '2021-06-14'", patient) == [("SWOG", "SD", "stabile Erkrankung")]
    # Status: 2021-03-24 Karnofsky 80; 2022-01-05 ECOG 1 (only one of the two is filled)
    assert query(settings, "SELECT CAST(assessment_date AS VARCHAR), scale, score FROM "
                 "raw.performance_status WHERE patient_pseudonym = ? AND assessment_date IN "
                 "(DATE '2021-03-24', DATE '2022-01-05') ORDER BY 1", patient) == [
        ("2021-03-24", "KPS", 80), ("2022-01-05", "ECOG", 1)]
    # The full birth date is nowhere in the warehouse.
    for table in ("patient",):
        row = query(settings, f"SELECT * FROM raw.{table} WHERE patient_pseudonym = ?",
                    patient)
        assert "1966-02-10" not in str(row)


def test_iow_choices_decoded_from_the_dictionary(settings, load_sample):
    load_sample("IOW")
    patient = pid("IOW", "7")
    # 7,baseline_arm_1: sex 2 (Female), yob 1958, primary_site 2 (Midgut), who_grade 1 (G1),
    # ki67 2.1, krenning 4, met_site___1..4 = 1,1,0,0 (liver, bone ticked)
    assert query(settings, "SELECT sex, birth_year, primary_origin, who_grade, ki67_percent, "
                 "krenning_score, liver_metastases, bone_metastases, lymph_node_metastases, "
                 "lung_metastases FROM raw.patient WHERE patient_pseudonym = ?", patient) == [
        ("female", 1958, "small_intestine", "G1", 2.1, 4, True, True, False, False)]
    # 7,cycle_1_arm_1: 2021-06-13, 199.2 mCi = 199.2 x 0.037 GBq = 7.3704 GBq exactly
    assert query(settings, "SELECT cycle_no, administered_activity_gbq, agent, phase FROM "
                 "raw.treatment_cycle WHERE patient_pseudonym = ? AND cycle_date = "
                 "DATE '2021-06-13'", patient) == [
        (1, Decimal("7.3704"), "177Lu-DOTATATE", "regular")]
    # labs instance 1, 2021-05-21: hgb 11.5, wbc 8.5, anc 6.39, alc 2.27, creat 0.71 mg/dL;
    # CgA, NSE and platelets blank (not measured: no record)
    labs = dict(query(settings, "SELECT analyte, value FROM raw.lab_result WHERE "
                      "patient_pseudonym = ? AND sample_date = DATE '2021-05-21'", patient))
    assert labs.keys() == {"HGB", "WBC", "NEUT", "LYMPH", "CREAT"}
    assert labs["CREAT"] == pytest.approx(0.71 * 88.42)
    assert labs["NEUT"] == pytest.approx(6.39)
    # imaging lesion 4 at baseline: lesion_site 2 (Bone), target 0, 27 mm
    assert query(settings, "SELECT organ, is_target, diameter_mm FROM raw.lesion_measurement "
                 "WHERE patient_pseudonym = ? AND exam_date = DATE '2021-05-21' AND "
                 "lesion_id = '4'", patient) == [("bone", False, 27.0)]


def test_trl_sdtm_domains_suppqual_and_joined_lesions(settings, load_sample):
    load_sample("TRL")
    patient = pid("TRL", "TRL-PRRT-01-101-0005")
    # DM: F, BRTHDTC 1953; SUPPDM: PRIMSITE MIDGUT, WHOGRADE G2, KI67 3.6, KRENNING 3, METBONE Y
    assert query(settings, "SELECT sex, birth_year, primary_origin, who_grade, ki67_percent, "
                 "krenning_score, bone_metastases FROM raw.patient WHERE "
                 "patient_pseudonym = ?", patient) == [
        ("female", 1953, "small_intestine", "G2", 3.6, 3, True)]
    # EX 103-0010: 198.10 mCi = 7.3297 GBq, 200.00 mCi = 7.4 GBq
    doses = query(settings, "SELECT administered_activity_gbq FROM raw.treatment_cycle WHERE "
                  "patient_pseudonym = ? ORDER BY cycle_date",
                  pid("TRL", "TRL-PRRT-01-103-0010"))
    assert [d for (d,) in doses][:2] == [Decimal("7.3297"), Decimal("7.4")]
    # TR 104-0015 T01 2022-10-06: 1.5 cm = 15 mm; TU 104-0015 T01: TARGET, LIVER
    assert query(settings, "SELECT organ, is_target, is_new, diameter_mm FROM "
                 "raw.lesion_measurement WHERE patient_pseudonym = ? AND lesion_id = 'T01' "
                 "AND exam_date = DATE '2022-10-06'", pid("TRL", "TRL-PRRT-01-104-0015")) == [
        ("liver", True, False, 15.0)]
    # TR 103-0010 NT01 2022-07-23: NOT DONE, blank result -> kept, not measured
    assert query(settings, "SELECT diameter_mm, is_measured FROM raw.lesion_measurement "
                 "WHERE patient_pseudonym = ? AND lesion_id = 'NT01' AND exam_date = "
                 "DATE '2022-07-23'", pid("TRL", "TRL-PRRT-01-103-0010")) == [(None, False)]
    # 104-0015: DM DTHFL Y, DTHDTC 2023-04-12; DS LAST CONTACT 2023-04-12
    assert query(settings, "SELECT is_dead, CAST(death_date AS VARCHAR), "
                 "CAST(last_contact_date AS VARCHAR) FROM raw.vital_status WHERE "
                 "patient_pseudonym = ?", pid("TRL", "TRL-PRRT-01-104-0015")) == [
        (True, "2023-04-12", "2023-04-12")]
    assert query(settings, "SELECT is_dead FROM raw.vital_status WHERE patient_pseudonym = ?",
                 patient) == [(False,)]
    # AE: TIREDNESS, AEDECOD Fatigue, grade 2, 2024-02-19
    assert ("Fatigue", 2) in query(settings, "SELECT term, grade FROM raw.adverse_event WHERE "
                                   "patient_pseudonym = ?", patient)
    # QS screening 2024-01-09: QLQ03 NOT DONE (skipped), QLQ01 = 1; ECOG 1
    items = dict(query(settings, "SELECT item_no, response FROM raw.qlq_c30_item_response "
                       "WHERE patient_pseudonym = ? AND assessment_date = DATE '2024-01-09'",
                       patient))
    assert items[1] == 1 and 3 not in items
    assert query(settings, "SELECT scale, score FROM raw.performance_status WHERE "
                 "patient_pseudonym = ? AND assessment_date = DATE '2024-01-09'", patient) == [
        ("ECOG", 1)]


def test_rot_questionnaire_cells_are_each_counted_once(settings, load_sample):
    """qol.csv is wide: each item cell is one unit; blank or 'NB' cells are skipped."""
    import csv

    with open(FIXTURES / SAMPLES["ROT"] / "qol.csv", encoding="cp1252", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    cells = [row[f"v{i}"] for row in rows for i in range(1, 31)]
    empty = sum(1 for cell in cells if cell.strip() in ("", "NB"))
    report = load_sample("ROT")
    [items] = [f for f in report.files if f.table == "qlq_c30_item_response"]
    assert (items.rows_read, items.rows_skipped, items.rows_loaded) == (
        len(cells), empty, len(cells) - empty)

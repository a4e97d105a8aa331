"""A fifth centre of an existing family joins with a YAML file only (PRRT_SITES_DIR):
other column names, codes, units, delimiter, encoding and date format."""

from datetime import date

import pytest

from etl import db
from etl.config import Settings
from etl.mapping import load_all_mappings
from etl.pipeline import load_deliveries
from etl.pseudonym import pseudonym
from etl.runs import start_run
from tests.conftest import TEST_KEY

UPP_MAPPING = """
site: UPP
name: Uppsala-style centre (tab-separated, Latin-1, Swedish)
format: delimited
delivery:
  pattern: "upp-(?P<export_date>\\\\d{4}-\\\\d{2}-\\\\d{2})"
  export_date_format: "%Y-%m-%d"
reader: {encoding: latin-1, delimiter: "\\t", decimal: ",", missing: ["", "-"]}
date_format: "%Y/%m/%d"
patient_id: personnummer_kod
codes:
  kon: {K: female, M: male}
  fas: {ordinarie: regular, tillägg: salvage}
  prov: {Hb: HGB, TPK: PLT, Krea: CREAT, CgA: CGA}
  organ: {lever: liver, skelett: bone, lymfkörtel: lymph_node}
  ja_nej: {ja: true, nej: false}
extracts:
  - table: patient
    file: patienter.tsv
    fields:
      sex: {column: kön, codes: kon}
      birth_year: födelseår
  - table: treatment_cycle
    file: behandling.tsv
    fields:
      cycle_date: datum
      administered_activity_gbq: {column: aktivitet_mci, unit: mCi}
      phase: {column: fas, codes: fas}
  - table: lab_result
    file: prover.tsv
    fields:
      sample_date: datum
      analyte: {column: prov, codes: prov}
      value: {column: värde, unit_column: enhet}
  - table: lesion_measurement
    file: lesioner.tsv
    fields:
      exam_date: datum
      lesion_id: nr
      organ: {column: organ, codes: organ}
      is_target: {column: mål, codes: ja_nej}
      diameter_mm: {column: diameter_cm, unit: cm}
"""

FILES = {
    "patienter.tsv": "personnummer_kod\tkön\tfödelseår\nU-17\tK\t1959\nU-18\tM\t-\n",
    "behandling.tsv": "personnummer_kod\tdatum\taktivitet_mci\tfas\n"
                      "U-17\t2023/01/10\t200\tordinarie\nU-17\t2023/03/07\t198,5\tordinarie\n"
                      "U-18\t2023/02/01\t210\ttillägg\n",
    "prover.tsv": "personnummer_kod\tdatum\tprov\tvärde\tenhet\n"
                  "U-17\t2023/01/03\tHb\t128\tg/L\nU-17\t2023/01/03\tKrea\t1,1\tmg/dL\n"
                  "U-17\t2023/01/03\tCgA\t5,2\tnmol/L\n",
    "lesioner.tsv": "personnummer_kod\tdatum\tnr\torgan\tmål\tdiameter_cm\n"
                    "U-17\t2022/12/20\t1\tskelett\tja\t2,4\n",
}


@pytest.fixture
def upp_settings(settings, tmp_path, monkeypatch) -> Settings:
    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "upp.yml").write_text(UPP_MAPPING, encoding="utf-8")
    monkeypatch.setenv("PRRT_SITES_DIR", str(sites))
    delivery = settings.inbox / "upp-2023-06-30"
    delivery.mkdir(parents=True)
    for name, text in FILES.items():
        (delivery / name).write_text(text, encoding="latin-1")
    return Settings.from_env()


def test_a_fifth_centre_loads_from_a_yaml_file_alone(upp_settings):
    with db.connect(upp_settings) as connection:
        db.upgrade(connection)
        [report] = load_deliveries(connection, upp_settings, start_run(connection, "test"),
                                   upp_settings.inbox, load_all_mappings(upp_settings))
        assert report.status == "loaded", report.message
        assert all(f.rows_quarantined == 0 for f in report.files)
        patient = pseudonym("UPP", "U-17", TEST_KEY.encode())
        rows = connection.exec_driver_sql(
            "SELECT cycle_date, administered_activity_gbq, phase FROM raw.treatment_cycle "
            "WHERE patient_pseudonym = ? ORDER BY cycle_date", (patient,)).fetchall()
        # 200 mCi x 0.037 = 7.4 GBq; 198,5 mCi = 7.3445 GBq
        assert [(d, float(a), p) for d, a, p in rows] == [
            (date(2023, 1, 10), 7.4, "regular"), (date(2023, 3, 7), 7.3445, "regular")]
        labs = {analyte: rest for analyte, *rest in connection.exec_driver_sql(
            "SELECT analyte, value, unit, is_canonical_unit FROM raw.lab_result "
            "WHERE patient_pseudonym = ?", (patient,)).fetchall()}
        # 128 g/L = 12.8 g/dL; 1,1 mg/dL x 88.42 = 97.262 µmol/L; CgA in nmol/L kept as sent
        assert labs["HGB"] == [12.8, "g/dL", True]
        assert labs["CREAT"][0] == pytest.approx(97.262)
        assert labs["CREAT"][1:] == ["umol/L", True]
        assert labs["CGA"] == [5.2, "nmol/L", False]
        assert connection.exec_driver_sql(
            "SELECT organ, is_target, diameter_mm FROM raw.lesion_measurement").fetchall() == [
            ("bone", True, 24.0)]
        assert connection.exec_driver_sql(
            "SELECT site_code, format_family FROM meta.site").fetchall() == [("UPP", "delimited")]

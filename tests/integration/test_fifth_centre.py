"""A fifth centre of an existing family joins with a YAML file only (PRRT_SITES_DIR): of
the delimited family, with other column names, codes, units, delimiter, encoding and date
format; of the Excel family, with other sheet names, headers and codes."""

import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml

from etl import db
from etl.config import REPO_DIR, Settings
from etl.mapping import content_columns, load_all_mappings, raw_table_names
from etl.pipeline import load_deliveries
from etl.pseudonym import pseudonym
from etl.runs import start_run
from models.base import metadata
from tests.conftest import FIXTURES, SAMPLES, TEST_KEY

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


# A centre of the Excel family: BBK's sample workbook with English sheet names, headers
# and codes, described by BBK's mapping with the same names replaced (structurally, in
# the parsed YAML), from PRRT_SITES_DIR.
SHEETS = {"Patienten": "Patients", "Therapie": "Treatment", "Labor": "Laboratory",
          "Bildgebung": "Imaging", "Befund": "Response", "Status": "Performance",
          "Verlauf": "Follow-up"}
HEADERS = {
    "Pat-ID": "Patient No", "Geschlecht": "Sex", "Geburtsdatum": "Date of birth",
    "Primarius": "Primary", "Grading": "Grade", "Ki-67 (%)": "Ki67 %",
    "Krenning-Score": "Krenning", "Knochenmetastasen": "Bone mets",
    "Lebermetastasen": "Liver mets", "Tumorlast": "Tumour burden", "Zyklus": "Cycle",
    "Datum": "Date", "Aktivität [MBq]": "Activity (MBq)", "Präparat": "Agent",
    "Phase": "Course", "Parameter": "Test", "Wert": "Result", "Einheit": "Unit",
    "Methode": "Modality", "Läsion": "Lesion", "Lokalisation": "Site", "Zielläsion": "Target",
    "Durchmesser [cm]": "Diameter (cm)", "Neue Läsion": "New lesion", "Kriterien": "Criteria",
    "Ansprechen": "Response", "Karnofsky": "KPS", "ECOG": "ECOG PS",
    "Letzter Kontakt": "Last contact", "Verstorben": "Deceased", "Todesdatum": "Date of death"}
CODES = {"sex": {"w": "F", "m": "M"}, "yes_no": {"ja": "yes", "nein": "no"}}


def recodings() -> dict[str, str]:
    return {old: new for renames in CODES.values() for old, new in renames.items()}


def english_workbook(source: Path, target: Path) -> None:
    import openpyxl

    workbook = openpyxl.load_workbook(source)
    recoded = recodings()
    for sheet in workbook.worksheets:
        sheet.title = SHEETS[sheet.title]
        for cell in sheet[1]:
            cell.value = HEADERS[cell.value]
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str) and cell.value in recoded:
                    cell.value = recoded[cell.value]
    workbook.save(target)


def english_mapping(bbk: dict) -> dict:
    mapping = {**bbk, "site": "VIE", "name": "Vienna-style centre (Excel, English)",
               "delivery": {"pattern": r"VIE-(?P<export_date>\d{8})\.xlsx",
                            "export_date_format": "%Y%m%d"},
               "patient_id": HEADERS[bbk["patient_id"]],
               "codes": {**bbk["codes"], **{name: {CODES[name][old]: canonical for old, canonical
                                                   in bbk["codes"][name].items()}
                                            for name in CODES}}}
    extracts = []
    for extract in bbk["extracts"]:
        fields = {}
        for name, spec in extract["fields"].items():
            if isinstance(spec, str):
                fields[name] = HEADERS[spec]
            else:
                fields[name] = {key: HEADERS[value] if key in ("column", "unit_column")
                                else value for key, value in spec.items()}
        renamed = {**extract, "sheet": SHEETS[extract["sheet"]], "fields": fields}
        if "unpivot" in extract:
            renamed["unpivot"] = {**extract["unpivot"], "columns": {
                HEADERS[column]: value for column, value in extract["unpivot"]["columns"].items()}}
        extracts.append(renamed)
    return {**mapping, "extracts": extracts}


def test_a_centre_of_the_excel_family_loads_from_a_yaml_file_alone(settings, tmp_path,
                                                                    monkeypatch):
    sites = tmp_path / "sites"
    sites.mkdir()
    bbk = yaml.safe_load((REPO_DIR / "etl" / "sites" / "bbk.yml").read_text(encoding="utf-8"))
    (sites / "vie.yml").write_text(yaml.safe_dump(english_mapping(bbk), allow_unicode=True),
                                   encoding="utf-8")
    monkeypatch.setenv("PRRT_SITES_DIR", str(sites))
    settings.inbox.mkdir(parents=True)
    shutil.copy(FIXTURES / SAMPLES["BBK"], settings.inbox)
    english_workbook(FIXTURES / SAMPLES["BBK"], settings.inbox / "VIE-20240601.xlsx")
    settings = Settings.from_env()
    with db.connect(settings) as connection:
        db.upgrade(connection)
        reports = load_deliveries(connection, settings, start_run(connection, "test"),
                                  settings.inbox, load_all_mappings(settings))
        assert [(r.delivery.site, r.status) for r in reports] == [("BBK", "loaded"),
                                                                   ("VIE", "loaded")]
        bbk_files, vie_files = ([(f.table, f.rows_read, f.rows_loaded, f.rows_skipped,
                                  f.rows_quarantined) for f in r.files] for r in reports)
        assert vie_files == bbk_files and sum(f[2] for f in vie_files) > 900
        # the same records, but for the centre's pseudonyms and the source codes it sent
        recoded = recodings()
        for table in raw_table_names():
            fields = ", ".join(c for c in content_columns(metadata.tables[f"raw.{table}"])
                               if c != "patient_pseudonym")
            per_site = {site: sorted(map(tuple, rows), key=repr) for site in ("BBK", "VIE")
                        for rows in [connection.exec_driver_sql(
                            f"SELECT {fields} FROM raw.{table} WHERE site = ?",
                            (site,)).fetchall()]}
            expected = sorted((tuple(recoded.get(v, v) if isinstance(v, str) else v
                                     for v in row) for row in per_site["BBK"]), key=repr)
            assert per_site["VIE"] == expected, table

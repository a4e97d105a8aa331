"""A fifth centre of an existing family joins with a YAML file only (PRRT_SITES_DIR): of
the delimited family, with other column names, codes, units, delimiter, encoding and date
format; of the Excel family, with other sheet names, headers and codes; of the REDCap
family, with other field, form and event names, choice codes and labels, delimiter and
units; of the SDTM family, with a sponsor's own terms, test codes and units."""

import copy
import csv
import re
import shutil
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
import yaml
from sqlalchemy import Connection

from etl import db
from etl.config import REPO_DIR, Settings
from etl.mapping import load_all_mappings
from etl.pipeline import load_deliveries
from etl.pseudonym import pseudonym
from etl.runs import start_run
from etl.synth.xport import write_xport
from tests.conftest import FIXTURES, SAMPLES, TEST_KEY, raw_records

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
    add_twin_mapping(tmp_path, monkeypatch, "bbk.yml", english_mapping)
    settings.inbox.mkdir(parents=True)
    shutil.copy(FIXTURES / SAMPLES["BBK"], settings.inbox)
    english_workbook(FIXTURES / SAMPLES["BBK"], settings.inbox / "VIE-20240601.xlsx")
    settings = Settings.from_env()
    with db.connect(settings) as connection:
        assert load_twins(connection, settings, "BBK", "VIE") > 900
        # the same records, but for the centre's pseudonyms and the source codes it sent
        recoded = recodings()
        bbk, vie = (raw_records(connection, site, not_pseudonym) for site in ("BBK", "VIE"))
        for table, rows in bbk.items():
            expected = sorted((tuple(recoded.get(v, v) if isinstance(v, str) else v
                                     for v in row) for row in rows), key=repr)
            assert vie[table] == expected, table


def add_twin_mapping(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, packaged: str,
                     rename: Callable[[dict], dict]) -> dict:
    """Write the ``rename``d packaged mapping to a sites folder (PRRT_SITES_DIR) and
    return the packaged one, parsed."""
    sites = tmp_path / "sites"
    sites.mkdir()
    mapping = yaml.safe_load((REPO_DIR / "etl" / "sites" / packaged).read_text(encoding="utf-8"))
    twin = rename(mapping)
    (sites / f"{twin['site'].lower()}.yml").write_text(
        yaml.safe_dump(twin, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("PRRT_SITES_DIR", str(sites))
    return mapping


def load_twins(connection: Connection, settings: Settings, packaged: str, twin: str) -> int:
    """Load the inbox (a packaged centre's sample and its twin); both load, file for file
    with the same rows read, loaded, skipped and quarantined. Returns the rows loaded."""
    db.upgrade(connection)
    reports = load_deliveries(connection, settings, start_run(connection, "test"),
                              settings.inbox, load_all_mappings(settings))
    by_site = {r.delivery.site: r for r in reports}
    assert {site: r.status for site, r in by_site.items()} == {packaged: "loaded",
                                                                twin: "loaded"}
    packaged_files, twin_files = ([(f.table, f.rows_read, f.rows_loaded, f.rows_skipped,
                                    f.rows_quarantined) for f in by_site[site].files]
                                  for site in (packaged, twin))
    assert twin_files == packaged_files
    return sum(f[2] for f in twin_files)


def not_pseudonym(column: str) -> bool:
    return column != "patient_pseudonym"  # each centre has its own


def neither_pseudonym_nor_as_sent(column: str) -> bool:
    return not_pseudonym(column) and "source" not in column


# A centre of the REDCap family: IOW's sample with Spanish field, form and event names,
# exported with semicolons, its choices renumbered in reverse and labelled in Spanish,
# haemoglobin in g/L, the data dictionary comma-separated as REDCap writes it; IOW's
# mapping with the same names replaced (structurally, in the parsed YAML).
MAD_FORMS = {"demographics": "datos_basales", "treatment": "tratamiento",
             "qlq_c30": "calidad_vida", "labs": "analitica", "imaging_lesions": "lesiones",
             "adverse_events": "toxicidad", "followup": "seguimiento"}
MAD_FIELDS = {
    "sex": "sexo", "yob": "anio_nac", "primary_site": "origen", "who_grade": "grado_oms",
    "ki67": "ki_67", "krenning": "krenning_sc", "met_site": "metastasis",
    "cycle_date": "fecha_ciclo", "cycle_activity_mci": "actividad_mci", "agent": "farmaco",
    "cycle_phase": "fase", "qlq_date": "fecha_cv", "kps": "karnofsky", "lab_date": "fecha_lab",
    "cga_ngml": "cga_ng_ml", "nse_ngml": "nse_ng_ml", "hgb_g_dl": "hb_g_l", "plt_k_ul": "plaq",
    "wbc_k_ul": "leuco", "anc_k_ul": "neutro", "alc_k_ul": "linfo", "creat_mg_dl": "creat",
    "img_date": "fecha_img", "lesion_id": "lesion", "lesion_site": "localizacion",
    "target": "diana", "ld_mm": "diam_mm", "new_lesion": "nueva", "ae_term": "termino",
    "ae_grade": "grado_ctcae", "ae_onset": "inicio", "last_contact": "ultimo_contacto",
    "vital_status": "estado_vital", "death_date": "fecha_muerte",
    **{f"q{item}": f"c30_{item:02d}" for item in range(1, 31)}}
MAD_LABELS = {"Male": "Hombre", "Female": "Mujer", "Regular": "Ordinaria", "Salvage": "Rescate",
              "Alive": "Vivo", "Dead": "Fallecido"}
MAD_EVENT = r"ciclo_(\d+)_arm_\d+"


def mad_column(column: str) -> str:
    """The export column IOW's ``column`` becomes (checkbox codes renumbered 1..4 -> 4..1)."""
    field, checkbox, code = column.partition("___")
    if checkbox:
        return f"{MAD_FIELDS[field]}___{5 - int(code)}"
    form = column.removesuffix("_complete")
    if form != column and form in MAD_FORMS:
        return f"{MAD_FORMS[form]}_complete"
    return MAD_FIELDS.get(column, column)


def decoded_fields(iow: dict) -> set[str]:
    """IOW's choice fields its mapping reads by label (their codes may be renumbered)."""
    return {spec.get("column") or spec["checkbox"] for extract in iow["extracts"]
            for spec in extract["fields"].values()
            if isinstance(spec, dict) and (spec.get("labels") or spec.get("checkbox"))}


def spanish_dictionary(source: Path, target: Path, decoded: set[str]) -> dict[str, dict]:
    """Write the renamed dictionary; return each decoded field's old code -> new code."""
    header, *rows = csv.reader(source.open(encoding="utf-8"))
    recoded = {}
    for row in rows:
        field, choices = row[0], row[5]
        row[0], row[1] = MAD_FIELDS.get(field, field), MAD_FORMS[row[1]]
        if field in decoded and choices:
            parts = [part.split(",", 1) for part in choices.split("|")]
            recoded[field] = {code.strip(): str(len(parts) - index)
                              for index, (code, _) in enumerate(parts)}
            row[5] = " | ".join(f"{recoded[field][code.strip()]}, "
                                f"{MAD_LABELS.get(label.strip(), label.strip())}"
                                for code, label in reversed(parts))
    with target.open("w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows([header, *rows])
    return recoded


def spanish_export(source: Path, target: Path, recoded: dict[str, dict]) -> None:
    header, *rows = csv.reader(source.open(encoding="utf-8"))
    with target.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, delimiter=";")
        writer.writerow([mad_column(column) for column in header])
        for values in rows:
            row = dict(zip(header, values, strict=True))
            row["redcap_event_name"] = re.sub(r"cycle_(\d+)", r"ciclo_\1",
                                              row["redcap_event_name"])
            row["redcap_repeat_instrument"] = MAD_FORMS.get(row["redcap_repeat_instrument"], "")
            for field, codes in recoded.items():
                row[field] = codes.get(row[field], row[field]) if field in row else None
            if row["hgb_g_dl"]:
                row["hgb_g_dl"] = f"{Decimal(row['hgb_g_dl']) * 10:f}"
            writer.writerow([row[column] for column in header])


def spanish_mapping(iow: dict) -> dict:
    codes = {name: {MAD_LABELS.get(label, label): canonical for label, canonical in code.items()}
             for name, code in iow["codes"].items()}
    extracts = []
    for extract in iow["extracts"]:
        fields = {}
        for name, spec in extract["fields"].items():
            if isinstance(spec, str):
                fields[name] = MAD_FIELDS.get(spec, spec)
                continue
            fields[name] = {**spec, **{key: MAD_FIELDS.get(spec[key], spec[key])
                                       for key in ("column", "checkbox") if key in spec}}
            if "pattern" in spec:
                fields[name]["pattern"] = MAD_EVENT
        renamed = {**extract, "file": "MAD_registro_*.csv", "form": MAD_FORMS[extract["form"]],
                   "fields": fields}
        unpivot = extract.get("unpivot")
        if unpivot and "matching" in unpivot:
            renamed["unpivot"] = {**unpivot, "matching": r"c30_(\d+)"}
        elif unpivot:
            columns = {MAD_FIELDS[column]: spec for column, spec in unpivot["columns"].items()}
            if "hb_g_l" in columns:
                columns["hb_g_l"] = {**columns["hb_g_l"], "unit": "g/L"}
            renamed["unpivot"] = {**unpivot, "columns": columns}
        extracts.append(renamed)
    return {**iow, "site": "MAD", "name": "Madrid-style centre (REDCap, Spanish)",
            "delivery": {"pattern": r"MAD_(?P<export_date>\d{8})",
                         "export_date_format": "%Y%m%d"},
            "reader": {"encoding": "utf-8", "delimiter": ";",
                       "dictionary": "MAD_diccionario.csv"},
            "codes": codes, "extracts": extracts}


def test_a_centre_of_the_redcap_family_loads_from_a_yaml_file_alone(settings, tmp_path,
                                                                     monkeypatch):
    iow = add_twin_mapping(tmp_path, monkeypatch, "iow.yml", spanish_mapping)
    sample = FIXTURES / SAMPLES["IOW"]
    shutil.copytree(sample, settings.inbox / SAMPLES["IOW"])
    delivery = settings.inbox / "MAD_20240601"
    delivery.mkdir()
    recoded = spanish_dictionary(sample / "IOW_data_dictionary.csv",
                                 delivery / "MAD_diccionario.csv", decoded_fields(iow))
    spanish_export(sample / "IOW_redcap_20240601.csv", delivery / "MAD_registro_20240601.csv",
                   recoded)
    settings = Settings.from_env()
    with db.connect(settings) as connection:
        assert load_twins(connection, settings, "IOW", "MAD") > 1800
        # the same records, but for pseudonyms and the source codes and units as sent
        assert (raw_records(connection, "MAD", neither_pseudonym_nor_as_sent)
                == raw_records(connection, "IOW", neither_pseudonym_nor_as_sent))
        # haemoglobin sent in g/L, stored in g/dL: 115 g/L is IOW's 11.5 g/dL
        haemoglobin = connection.exec_driver_sql(
            "SELECT site, lab_source_unit, count(*), count(*) FILTER (WHERE value = 11.5 AND "
            "lab_source_value IN ('11.5', '115.0')) FROM raw.lab_result WHERE analyte = 'HGB' "
            "GROUP BY ALL ORDER BY site").fetchall()
        assert [row[:2] for row in haemoglobin] == [("IOW", "g/dL"), ("MAD", "g/L")]
        assert haemoglobin[0][2:] == haemoglobin[1][2:] and haemoglobin[0][3] >= 1


# A centre of the SDTM family: TRL's sample from another sponsor, whose controlled terms
# and units differ where SDTM leaves them to the sponsor (categories, test codes,
# qualifier names, dose in MBq, diameters in cm), described by TRL's mapping with those
# codes and names replaced.
MUN_TERMS = {  # domain -> variable -> TRL's value -> the sponsor's
    "EX": {"EXCAT": {"REGULAR": "STANDARD", "RETREATMENT": "SALVAGE"},
           "EXTRT": {"177LU-DOTATATE": "LUTETIUM (177LU) OXODOTREOTIDE"}},
    "QS": {"QSCAT": {"EORTC QLQ-C30 V3.0": "QLQ-C30"},
           "QSTESTCD": {f"QLQ{item:02d}": f"C30Q{item:02d}" for item in range(1, 31)}},
    "LB": {"LBTESTCD": {"CHROMOGA": "CHGA", "PLAT": "PLT", "LYM": "LYMPH"}},
    "SUPPDM": {"QNAM": {"PRIMSITE": "PRIMTUM", "METBONE": "BONEMET"}},
    "RS": {"RSCAT": {"RECIST 1.1": "RECIST V1.1"}},
    "DS": {"DSDECOD": {"LAST CONTACT": "LAST KNOWN ALIVE"}},
}
MUN_SUPPDM = {"PRIMSITE": "PRIMTUM", "METBONE": "BONEMET"}


def sponsor_delivery(source: Path, target: Path) -> None:
    """TRL's datasets with the sponsor's terms, MBq doses and centimetre diameters."""
    target.mkdir()
    for path in sorted(source.glob("*.xpt")):
        domain = path.stem.upper()
        frame = pd.read_sas(path, format="xport", encoding="utf-8")
        for variable, terms in MUN_TERMS.get(domain, {}).items():
            frame[variable] = frame[variable].replace(terms)
        if domain == "EX":
            in_gbq = frame["EXDOSU"] == "GBq"
            frame.loc[in_gbq, "EXDOSE"] = (frame.loc[in_gbq, "EXDOSE"] * 1000).round(6)
            frame.loc[in_gbq, "EXDOSU"] = "MBq"
        if domain == "TR":
            in_mm = (frame["TRORRESU"] == "mm") & (frame["TRORRES"] != "")
            frame.loc[in_mm, "TRORRES"] = [f"{Decimal(mm) / 10:f}"
                                           for mm in frame.loc[in_mm, "TRORRES"]]
            frame.loc[in_mm, "TRORRESU"] = "cm"
        write_xport(frame, target / path.name, domain, date(2024, 6, 1))


def sponsor_mapping(trl: dict) -> dict:
    def recoded(name: str, domain: str, variable: str) -> dict:
        terms = MUN_TERMS[domain][variable]
        return {terms.get(code, code): value for code, value in trl["codes"][name].items()}
    codes = {**trl["codes"], "phase": recoded("phase", "EX", "EXCAT"),
             "agent": {**trl["codes"]["agent"], **recoded("agent", "EX", "EXTRT")},
             "instrument": recoded("instrument", "QS", "QSCAT"),
             "analyte": recoded("analyte", "LB", "LBTESTCD"),
             "criterion": recoded("criterion", "RS", "RSCAT")}
    selected = {"EORTC QLQ-C30 V3.0": "QLQ-C30", "LAST CONTACT": "LAST KNOWN ALIVE"}
    extracts = []
    for extract in trl["extracts"]:
        renamed = copy.deepcopy(extract)
        for chosen in [renamed, *renamed.get("join", [])]:
            if "where" in chosen:
                chosen["where"] = {column: selected.get(value, value)
                                   for column, value in chosen["where"].items()}
        for spec in renamed["fields"].values():
            if isinstance(spec, dict) and spec.get("column") in MUN_SUPPDM:
                spec["column"] = MUN_SUPPDM[spec["column"]]
            if isinstance(spec, dict) and spec.get("pattern") == r"QLQ(\d+)":
                spec["pattern"] = r"C30Q(\d+)"
        extracts.append(renamed)
    return {**trl, "site": "MUN", "name": "Munich-style sponsor (SDTM, own terms)",
            "delivery": {"pattern": r"MUN_(?P<export_date>\d{8})",
                         "export_date_format": "%Y%m%d"},
            "codes": codes, "extracts": extracts}


def test_a_centre_of_the_sdtm_family_loads_from_a_yaml_file_alone(settings, tmp_path,
                                                                   monkeypatch):
    add_twin_mapping(tmp_path, monkeypatch, "trl.yml", sponsor_mapping)
    sample = FIXTURES / SAMPLES["TRL"]
    shutil.copytree(sample, settings.inbox / SAMPLES["TRL"])
    sponsor_delivery(sample, settings.inbox / "MUN_20240601")
    settings = Settings.from_env()
    with db.connect(settings) as connection:
        assert load_twins(connection, settings, "TRL", "MUN") > 1000
        # the same records, but for pseudonyms and the source codes and units as sent
        assert (raw_records(connection, "MUN", neither_pseudonym_nor_as_sent)
                == raw_records(connection, "TRL", neither_pseudonym_nor_as_sent))
        # 7.34 GBq sent as 7340 MBq; 12 mm as 1.2 cm
        assert connection.exec_driver_sql(
            "SELECT DISTINCT activity_source_unit FROM raw.treatment_cycle WHERE site = 'MUN' "
            "ORDER BY 1").scalars().all() == ["MBq", "mCi"]
        assert connection.exec_driver_sql(
            "SELECT DISTINCT diameter_source_unit FROM raw.lesion_measurement "
            "WHERE site = 'MUN' AND diameter_mm IS NOT NULL").scalars().all() == ["cm"]

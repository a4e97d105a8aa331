"""Render truth tables as a BBK delivery: one Excel workbook, German sheets and labels,
date cells, numeric cells, activity in MBq, diameters in cm, labs in German units."""

from datetime import date
from pathlib import Path

import pandas as pd

from etl.synth.render import exam_modality, missing, rounded, to_canonical
from etl.synth.xlsx import Sheet, write_workbook

SITE = "BBK"
EXCEL_MAX_ROWS = 1_048_576  # rows per worksheet, header included
SEX = {"female": "w", "male": "m"}
ORIGIN = {"pancreas": "Pankreas", "small_intestine": "Dünndarm", "lung": "Bronchial",
          "stomach": "Magen", "rectum": "Rektum", "unknown": "CUP", "other": "Sonstige"}
BURDEN = {"low": "niedrig", "moderate": "mittel", "high": "hoch"}
PHASE = {"regular": "Standard", "salvage": "Retherapie"}
ORGAN = {"liver": "Leber", "bone": "Knochen", "lymph_node": "Lymphknoten", "lung": "Lunge",
         "pancreas": "Pankreas", "small_intestine": "Dünndarm", "peritoneum": "Peritoneum"}
MODALITY = {"CT": "CT", "MRI": "MRT"}
RESPONSE = {"CR": "komplette Remission", "PR": "partielle Remission",
            "MR": "minimales Ansprechen", "SD": "stabile Erkrankung", "PD": "Progress"}
CREATININE_MG_DL_PER_UMOL_L = 1 / to_canonical("CREAT", "mg/dL")
ANALYTE = {"CGA": ("Chromogranin A", "ng/ml", 0), "NSE": ("NSE", "ng/ml", 1),
           "HGB": ("Hämoglobin", "g/dl", 1), "PLT": ("Thrombozyten", "/nl", 0),
           "WBC": ("Leukozyten", "/nl", 1), "NEUT": ("Neutrophile", "/nl", 2),
           "LYMPH": ("Lymphozyten", "/nl", 2), "CREAT": ("Kreatinin", "mg/dl", 2)}
TABLES = ["patient", "treatment_cycle", "lab_result", "imaging_exam", "lesion_measurement",
          "reported_response", "performance_status", "vital_status"]


def _cell(value: object) -> object:
    return None if missing(value) else value


def _yes_no(value: object) -> object:
    return {True: "ja", False: "nein"}.get(value, _cell(value))


def lab_value(analyte: str, value: float) -> float:
    _, _, digits = ANALYTE[analyte]
    factor = CREATININE_MG_DL_PER_UMOL_L if analyte == "CREAT" else 1
    return rounded(value * factor, digits)


def reported_responses(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """SWOG for every follow-up exam, and mMDA where the patient has bone lesions."""
    responses = tables["response"]
    if responses.empty:
        return pd.DataFrame(columns=["patient_id", "assessment_date", "criterion", "category"])
    swog = responses.assign(criterion="SWOG")
    mmda = responses[responses["bone"]].assign(criterion="MMDA")
    return pd.concat([swog, mmda])[["patient_id", "assessment_date", "criterion", "category"]]


def performance(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One Karnofsky or ECOG per status date, as the visit says."""
    status = tables["performance_status"]
    ecog = status["ecog_instead"].astype(bool)
    return pd.DataFrame({
        "patient_id": status["patient_id"], "assessment_date": status["assessment_date"],
        "scale": ecog.map({True: "ECOG", False: "KPS"}),
        "score": status["ecog"].where(ecog, status["score"]),
    })


def _sheet(name: str, header: list[str], rows) -> Sheet:
    return name, header, _fitting(name, rows)


def _fitting(name: str, rows):
    """The rows, refusing any beyond what one Excel worksheet holds."""
    for number, row in enumerate(rows, start=1):
        if number >= EXCEL_MAX_ROWS:
            raise ValueError(f"sheet {name}: more than {EXCEL_MAX_ROWS} rows do not fit in "
                             "one Excel worksheet; generate fewer patients for BBK")
        yield row  # a missing value leaves its cell empty, as the centre's export does


def write(tables: dict[str, pd.DataFrame], out: Path, export_date: date) -> Path:
    path = out / f"BBK_export_{export_date.isoformat()}.xlsx"
    out.mkdir(parents=True, exist_ok=True)
    modality = exam_modality(tables)
    # streamed row by row; dates as date cells, as the centre sends them
    write_workbook(path, [
        _sheet("Patienten",
               ["Pat-ID", "Geschlecht", "Geburtsdatum", "Primarius", "Grading", "Ki-67 (%)",
                "Krenning-Score", "Knochenmetastasen", "Lebermetastasen", "Tumorlast"],
               ([int(p.patient_id), SEX.get(p.sex, p.sex), p.birth_date, ORIGIN[p.primary_origin],
                 p.who_grade, _cell(p.ki67_percent), p.krenning_score,
                 _yes_no(p.bone_metastases), _yes_no(p.liver_metastases), BURDEN[p.tumour_burden]]
                for p in tables["patient"].itertuples())),
        _sheet("Therapie",
               ["Pat-ID", "Zyklus", "Datum", "Aktivität [MBq]", "Präparat", "Phase"],
               ([int(c.patient_id), c.cycle_no, c.cycle_date,
                 int(c.administered_activity_gbq * 1000), "177Lu-DOTATATE", PHASE[c.phase]]
                for c in tables["treatment_cycle"].itertuples())),
        _sheet("Labor", ["Pat-ID", "Datum", "Parameter", "Wert", "Einheit"],
               ([int(r.patient_id), r.sample_date, ANALYTE[r.analyte][0],
                 lab_value(r.analyte, r.value) if isinstance(r.value, float) else r.value,
                 getattr(r, "unit_as_sent", None) or ANALYTE[r.analyte][1]]
                for r in tables["lab_result"].itertuples())),
        _sheet("Bildgebung",
               ["Pat-ID", "Datum", "Methode", "Läsion", "Lokalisation", "Zielläsion",
                "Durchmesser [cm]", "Neue Läsion"],
               ([int(m.patient_id), m.exam_date, MODALITY[modality[(m.patient_id, m.exam_date)]],
                 int(m.lesion_id), ORGAN[m.organ], _yes_no(m.is_target),
                 None if missing(m.diameter_mm) else m.diameter_mm / 10, _yes_no(m.is_new)]
                for m in tables["lesion_measurement"].itertuples())),
        _sheet("Befund", ["Pat-ID", "Datum", "Kriterien", "Ansprechen"],
               ([int(r.patient_id), r.assessment_date,
                 {"MMDA": "mMDA"}.get(r.criterion, r.criterion), RESPONSE[r.category]]
                for r in reported_responses(tables).itertuples())),
        _sheet("Status", ["Pat-ID", "Datum", "Karnofsky", "ECOG"],
               ([int(s.patient_id), s.assessment_date,
                 int(s.score) if s.scale == "KPS" else None,
                 int(s.score) if s.scale == "ECOG" else None]
                for s in performance(tables).itertuples())),
        _sheet("Verlauf", ["Pat-ID", "Letzter Kontakt", "Verstorben", "Todesdatum"],
               ([int(v.patient_id), v.last_contact_date, _yes_no(v.is_dead), _cell(v.death_date)]
                for v in tables["vital_status"].itertuples())),
    ], date_format="dd.mm.yyyy")
    return path


def centre_view(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The truth as BBK can express it: no questionnaires or adverse events."""
    view = {name: tables[name] for name in TABLES if name in tables}
    labs = tables["lab_result"].copy()
    labs["value"] = [lab_value(a, v) / CREATININE_MG_DL_PER_UMOL_L if a == "CREAT"
                     else lab_value(a, v)
                     for a, v in zip(labs["analyte"], labs["value"], strict=True)]
    view["lab_result"] = labs
    view["reported_response"] = reported_responses(tables)
    view["performance_status"] = performance(tables)
    return view

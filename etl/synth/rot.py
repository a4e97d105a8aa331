"""Render truth tables as a ROT delivery: Dutch headers and codes, Windows-1252,
semicolons, decimal commas, dd-mm-yyyy dates, ``NB`` for some unknown values."""

import csv
from datetime import date
from pathlib import Path

import pandas as pd

from etl.synth.render import (
    as_text,
    as_texts,
    decimal_comma,
    exam_modality,
    questionnaires,
    rounded,
    to_canonical,
)

SITE = "ROT"
SEX = {"female": "V", "male": "M"}
ORIGIN = {"pancreas": "pancreas", "small_intestine": "dunne darm", "lung": "long",
          "stomach": "maag", "rectum": "rectum", "unknown": "onbekend", "other": "overig"}
PHASE = {"regular": "regulier", "salvage": "aanvullend"}
ORGAN = {"liver": "lever", "bone": "bot", "lymph_node": "lymfeklier", "pancreas": "pancreas",
         "small_intestine": "dunne darm", "peritoneum": "peritoneum", "lung": "long"}
ANALYTE = {"CGA": ("CgA", "µg/L", 0), "NSE": ("NSE", "µg/L", 1), "HGB": ("Hb", "mmol/L", 1),
           "PLT": ("trombocyten", "10^9/L", 0), "WBC": ("leukocyten", "10^9/L", 1),
           "NEUT": ("neutrofielen", "10^9/L", 2), "LYMPH": ("lymfocyten", "10^9/L", 2),
           "CREAT": ("kreatinine", "µmol/L", 0)}
HB_MMOL_PER_G_DL = 1 / to_canonical("HGB", "mmol/L")
AE_TERM = {"Nausea": "Misselijkheid", "Vomiting": "Braken", "Fatigue": "Vermoeidheid",
           "Alopecia": "Haaruitval", "Anemia": "Anemie",
           "Platelet count decreased": "Trombocytopenie",
           "Lymphocyte count decreased": "Lymfopenie",
           "Neutrophil count decreased": "Neutropenie"}
TABLES = ["patient", "treatment_cycle", "qlq_c30_assessment", "qlq_c30_item_response",
          "performance_status", "lab_result", "imaging_exam", "lesion_measurement",
          "adverse_event", "vital_status"]


def _date(value: object) -> str:
    return value.strftime("%d-%m-%Y") if isinstance(value, date) else as_text(value)


def _yes_no(value: object) -> str:
    return {True: "ja", False: "nee"}.get(value, as_text(value))


def _ki67(row) -> str:
    if row.ki67_below_detection:
        return "<2"
    return decimal_comma(row.ki67_percent) if pd.notna(row.ki67_percent) else "NB"


def _write(path: Path, header: list[str], rows) -> None:
    with open(path, "w", encoding="cp1252", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)


def lab_value(analyte: str, value: float) -> float:
    """The value as ROT reports it (haemoglobin in mmol/L), rounded as ROT rounds."""
    _, _, digits = ANALYTE[analyte]
    return rounded(value * HB_MMOL_PER_G_DL if analyte == "HGB" else value, digits)


def write(tables: dict[str, pd.DataFrame], out: Path, export_date: date) -> Path:
    folder = out / f"ROT_{export_date.strftime('%Y%m%d')}"
    folder.mkdir(parents=True, exist_ok=True)
    patients = tables["patient"]
    _write(folder / "patienten.csv",
           ["patnr", "geslacht", "geboortejaar", "diagnosedatum", "primaire_tumor", "graad",
            "ki67", "krenning", "botmetastasen", "levermetastasen"],
           ([p.patient_id, SEX.get(p.sex, p.sex), as_text(p.birth_year), _date(p.diagnosis_date),
             ORIGIN[p.primary_origin], p.who_grade, _ki67(p), as_text(p.krenning_score),
             _yes_no(p.bone_metastases), _yes_no(p.liver_metastases)]
            for p in patients.itertuples()))
    _write(folder / "behandelingen.csv",
           ["patnr", "cyclus", "datum", "activiteit_gbq", "middel", "fase"],
           ([c.patient_id, as_text(c.cycle_no), _date(c.cycle_date),
             decimal_comma(c.administered_activity_gbq), "177Lu-octreotaat", PHASE[c.phase]]
            for c in tables["treatment_cycle"].itertuples()))
    _write_qol(folder, tables)
    _write_labs(folder, tables["lab_result"])
    _write_lesions(folder, tables)
    _write(folder / "toxiciteit.csv", ["patnr", "datum", "term", "graad"],
           ([a.patient_id, _date(a.onset_date), AE_TERM.get(a.term, a.term), as_text(a.grade)]
            for a in tables["adverse_event"].itertuples()))
    _write(folder / "followup.csv",
           ["patnr", "laatste_contact", "overleden", "overlijdensdatum"],
           ([v.patient_id, _date(v.last_contact_date), _yes_no(v.is_dead),
             _date(v.death_date)] for v in tables["vital_status"].itertuples()))
    return folder


def _write_labs(folder: Path, labs: pd.DataFrame) -> None:
    """Column by column (with the lesions, ROT's largest file): each date rendered once."""
    analytes = labs["analyte"].tolist()
    sent_units = (labs["unit_as_sent"].tolist() if "unit_as_sent" in labs
                  else [None] * len(labs))
    _write(folder / "lab.csv", ["patnr", "datum", "bepaling", "waarde", "eenheid"],
           zip(labs["patient_id"].tolist(), as_texts(labs["sample_date"], _date),
               [ANALYTE[a][0] for a in analytes],
               [decimal_comma(lab_value(a, v)) if isinstance(v, float) else as_text(v)
                for a, v in zip(analytes, labs["value"].tolist(), strict=True)],
               [sent or ANALYTE[a][1] for a, sent in zip(analytes, sent_units, strict=True)],
               strict=True))


def _write_lesions(folder: Path, tables: dict[str, pd.DataFrame]) -> None:
    """Column by column, each distinct date, flag and diameter rendered once."""
    lesions, modality = tables["lesion_measurement"], exam_modality(tables)
    patients, dates = lesions["patient_id"].tolist(), lesions["exam_date"].tolist()
    _write(folder / "beeldvorming.csv",
           ["patnr", "datum", "modaliteit", "laesie", "orgaan", "doel", "diameter_mm", "nieuw"],
           zip(patients, as_texts(lesions["exam_date"], _date),
               [modality[key] for key in zip(patients, dates, strict=True)],
               lesions["lesion_id"].tolist(), [ORGAN[organ] for organ in lesions["organ"]],
               as_texts(lesions["is_target"], _yes_no), as_texts(lesions["diameter_mm"]),
               as_texts(lesions["is_new"], _yes_no), strict=True))


def _write_qol(folder: Path, tables: dict[str, pd.DataFrame]) -> None:
    _write(folder / "qol.csv",
           ["patnr", "datum", "instrument", "kps"] + [f"v{i}" for i in range(1, 31)],
           ([patient_id, _date(when), "QLQ-C30", kps, *items]
            for patient_id, when, kps, items in questionnaires(tables)))


def centre_view(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The truth as ROT can express it (Karnofsky only, its rounding of lab values)."""
    view = {name: tables[name] for name in TABLES}
    labs = view["lab_result"].copy()
    labs["value"] = [lab_value(a, v) / HB_MMOL_PER_G_DL if a == "HGB" else lab_value(a, v)
                     for a, v in zip(labs["analyte"], labs["value"], strict=True)]
    view["lab_result"] = labs
    view["performance_status"] = view["performance_status"][
        ["patient_id", "assessment_date", "scale", "score"]]
    return view

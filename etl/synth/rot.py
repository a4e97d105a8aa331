"""Render a synthetic cohort as a ROT delivery: Dutch headers and codes, Windows-1252,
semicolons, decimal commas, dd-mm-yyyy dates, ``NB`` for some unknown values."""

import csv
from datetime import date
from pathlib import Path

from etl.synth.cohort import SyntheticPatient

SEX = {"female": "V", "male": "M"}
ORIGIN = {"pancreas": "pancreas", "small_intestine": "dunne darm", "lung": "long",
          "stomach": "maag", "rectum": "rectum", "unknown": "onbekend", "other": "overig"}
PHASE = {"regular": "regulier", "salvage": "aanvullend"}


def _date(value: date | None) -> str:
    return value.strftime("%d-%m-%Y") if value else ""


def _number(value: object) -> str:
    return str(value).replace(".", ",")


def _yes_no(value: bool) -> str:
    return "ja" if value else "nee"


def _ki67(patient: SyntheticPatient) -> str:
    if patient.ki67_below_detection:
        return "<2"
    return _number(patient.ki67_percent) if patient.ki67_percent is not None else "NB"


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with open(path, "w", encoding="cp1252", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_rot_delivery(cohort: list[SyntheticPatient], out: Path, export_date: str) -> Path:
    folder = out / f"ROT_{export_date.replace('-', '')}"
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / "patienten.csv",
           ["patnr", "geslacht", "geboortejaar", "diagnosedatum", "primaire_tumor", "graad",
            "ki67", "krenning", "botmetastasen", "levermetastasen"],
           [[p.patient_id, SEX[p.sex], str(p.birth_year), _date(p.diagnosis_date),
             ORIGIN[p.primary_origin], p.who_grade, _ki67(p), str(p.krenning_score),
             _yes_no(p.bone_metastases), _yes_no(p.liver_metastases)] for p in cohort])
    _write(folder / "behandelingen.csv",
           ["patnr", "cyclus", "datum", "activiteit_gbq", "middel", "fase"],
           [[p.patient_id, str(c.cycle_no), _date(c.cycle_date), _number(c.activity_gbq),
             "177Lu-octreotaat", PHASE[c.phase]] for p in cohort for c in p.cycles])
    _write(folder / "followup.csv",
           ["patnr", "laatste_contact", "overleden", "overlijdensdatum"],
           [[p.patient_id, _date(p.last_contact_date), _yes_no(p.death_date is not None),
             _date(p.death_date)] for p in cohort])
    return folder

"""Centre-neutral synthetic patient histories, as canonical truth tables.

A cohort is drawn once from a seed and a base date (the first night's export date);
each patient's history runs past that date, so a later night's export of the same
cohort simply shows more of it: more follow-up, new patients whose first cycle came
after the first night. ``truth_tables`` cuts the histories at an export date and
returns one DataFrame per canonical ``raw`` table, in canonical codes and units, keyed
by the centre's own patient id. Writers render those tables in a centre's format;
tests compare what the warehouse loaded with them.

The numbers are plausible for a PRRT registry (four regular cycles of about 7.4 GBq
some 8 weeks apart; a minority of patients receive two salvage cycles after
progression), not a model of any real cohort.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd

ORIGINS = ["pancreas", "small_intestine", "lung", "stomach", "rectum", "unknown", "other"]
ORIGIN_WEIGHTS = [0.35, 0.35, 0.08, 0.05, 0.05, 0.08, 0.04]
LESION_ORGANS = ["liver", "liver", "lymph_node", "pancreas", "small_intestine", "bone",
                 "peritoneum"]
AE_TERMS = ["Nausea", "Vomiting", "Fatigue", "Alopecia", "Abdominal pain", "Anemia",
            "Platelet count decreased", "Lymphocyte count decreased",
            "White blood cell decreased", "Neutrophil count decreased"]
HORIZON_DAYS = 3 * 365  # histories run this far past the base date
KPS_TO_ECOG = {100: 0, 90: 0, 80: 1, 70: 1, 60: 2, 50: 2, 40: 3, 30: 3, 20: 4, 10: 4, 0: 5}

# Canonical tables and the natural key that identifies one record (as in models/raw.py).
NATURAL_KEYS = {
    "patient": ["patient_id"],
    "treatment_cycle": ["patient_id", "cycle_date"],
    "qlq_c30_assessment": ["patient_id", "assessment_date"],
    "qlq_c30_item_response": ["patient_id", "assessment_date", "item_no"],
    "performance_status": ["patient_id", "assessment_date", "scale"],
    "lab_result": ["patient_id", "sample_date", "analyte"],
    "imaging_exam": ["patient_id", "exam_date"],
    "lesion_measurement": ["patient_id", "exam_date", "lesion_id"],
    "reported_response": ["patient_id", "assessment_date", "criterion"],
    "adverse_event": ["patient_id", "onset_date", "term"],
    "vital_status": ["patient_id"],
}
DATE_OF = {  # the date that decides whether a record exists by an export date
    "treatment_cycle": "cycle_date", "qlq_c30_assessment": "assessment_date",
    "qlq_c30_item_response": "assessment_date", "performance_status": "assessment_date",
    "lab_result": "sample_date", "imaging_exam": "exam_date", "lesion_measurement": "exam_date",
    "reported_response": "assessment_date", "adverse_event": "onset_date",
    "response": "assessment_date",
}


@dataclass
class Cycle:
    cycle_no: int
    cycle_date: date
    activity_gbq: Decimal
    phase: str  # regular | salvage


@dataclass
class SyntheticPatient:
    """One patient's whole (future-including) history; ``records`` holds dated records."""

    patient_id: str
    sex: str
    birth_year: int
    birth_date: date
    diagnosis_date: date
    primary_origin: str
    who_grade: str
    ki67_percent: float | None
    ki67_below_detection: bool
    krenning_score: int
    tumour_burden: str
    cycles: list[Cycle] = field(default_factory=list)
    death_date: date | None = None
    records: dict[str, list[dict]] = field(default_factory=dict)

    def first_record_date(self) -> date:
        return min(self.diagnosis_date, self.cycles[0].cycle_date)


def draw_cohort(patients: int, seed: int, base_date: str) -> list[SyntheticPatient]:
    """``patients`` synthetic patients treated before ``base_date``, plus one in twenty
    more who start PRRT in the five months after it (they appear on later nights)."""
    rng = np.random.default_rng(seed)
    base = date.fromisoformat(base_date)
    late = patients // 20
    ids = rng.choice(np.arange(1_000_000, 9_999_999), size=patients + late, replace=False)
    return [_draw_patient(rng, str(patient_id), base, joins_later=number >= patients)
            for number, patient_id in enumerate(ids)]


def _days(rng: np.random.Generator, low: int, high: int) -> timedelta:
    return timedelta(days=int(rng.integers(low, high)))


def _draw_patient(rng: np.random.Generator, patient_id: str, base: date,
                  joins_later: bool) -> SyntheticPatient:
    c1d1 = base + _days(rng, 1, 150) if joins_later else base - _days(rng, 60, 365 * 6)
    birth_date = date(int(c1d1.year - rng.integers(30, 85)), int(rng.integers(1, 13)),
                      int(rng.integers(1, 29)))
    ki67_below = bool(rng.random() < 0.1)
    ki67 = None if rng.random() < 0.05 else round(float(rng.gamma(2.0, 3.0)) + 1, 1)
    patient = SyntheticPatient(
        patient_id=patient_id,
        sex=str(rng.choice(["female", "male"])),
        birth_year=birth_date.year,
        birth_date=birth_date,
        diagnosis_date=c1d1 - _days(rng, 60, 365 * 4),
        primary_origin=str(rng.choice(ORIGINS, p=ORIGIN_WEIGHTS)),
        who_grade=str(rng.choice(["G1", "G2", "G3"], p=[0.4, 0.5, 0.1])),
        ki67_percent=2.0 if ki67_below else ki67,
        ki67_below_detection=ki67_below,
        krenning_score=int(rng.choice([2, 3, 4], p=[0.1, 0.4, 0.5])),
        tumour_burden=str(rng.choice(["low", "moderate", "high"])),
    )
    cycle_date = c1d1
    for number in range(1, int(rng.choice([2, 3, 4, 4, 4, 4])) + 1):
        patient.cycles.append(Cycle(number, cycle_date, _activity(rng), "regular"))
        cycle_date += _days(rng, 42, 70)
    last_regular = patient.cycles[-1].cycle_date
    progression = last_regular + _days(rng, 200, 900)
    salvage_start = progression + _days(rng, 60, 150)
    if rng.random() < 0.25:
        for offset in range(2):
            patient.cycles.append(Cycle(len(patient.cycles) + 1,
                                        salvage_start + timedelta(days=56 * offset),
                                        _activity(rng), "salvage"))
    if rng.random() < 0.4:
        patient.death_date = patient.cycles[-1].cycle_date + _days(rng, 30, 365 * 4)
    end = min(patient.death_date or date.max, base + timedelta(days=HORIZON_DAYS))
    patient.records = {
        "qol_visit": _visits(rng, patient, end),
        "lab_result": _labs(rng, patient, end),
        **_imaging(rng, patient, progression, end),
        "adverse_event": _adverse_events(rng, patient, end),
    }
    return patient


def _activity(rng: np.random.Generator) -> Decimal:
    return Decimal(str(round(float(rng.normal(7.4, 0.12)), 2)))


def _course_starts(patient: SyntheticPatient) -> list[tuple[date, date]]:
    """(C1D1, last cycle) of each course: the regular one and a salvage one if any."""
    courses = []
    for phase in ("regular", "salvage"):
        dates = [c.cycle_date for c in patient.cycles if c.phase == phase]
        if dates:
            courses.append((dates[0], dates[-1]))
    return courses


def _visits(rng: np.random.Generator, patient: SyntheticPatient, end: date) -> list[dict]:
    """Questionnaire visits (QLQ-C30 answers and Karnofsky) around each course."""
    visits = []
    for c1d1, last in _course_starts(patient):
        dates = [c1d1 - _days(rng, 0, 30)]
        dates += [c.cycle_date for c in patient.cycles if c1d1 < c.cycle_date <= last]
        dates += [last + _days(rng, 32, 52), last + _days(rng, 160, 200),
                  last + _days(rng, 335, 395)]
        health = float(rng.normal(0, 1))
        for number, when in enumerate(dates):
            if when > end:
                break
            health += float(rng.normal(0.15 if number > 0 else 0, 0.5))
            visits.append({"date": when, "items": _items(rng, health),
                           "kps": min(max(round(8 + health) * 10, 40), 100),
                           "ecog_instead": bool(rng.random() < 0.2)})
    return visits


def _items(rng: np.random.Generator, health: float) -> dict[int, int | None]:
    items: dict[int, int | None] = {}
    for item in range(1, 31):
        top = 7 if item >= 29 else 4
        if item >= 29:
            value = round(4.5 + health + float(rng.normal(0, 0.8)))
        else:
            value = round(1.8 - 0.6 * health + float(rng.normal(0, 0.7)))
        items[item] = None if rng.random() < 0.03 else min(max(value, 1), top)
    return items


LAB_BASELINE = {"HGB": (12.8, 1.2), "PLT": (240, 55), "WBC": (6.8, 1.5), "NEUT": (4.2, 1.1),
                "LYMPH": (1.6, 0.45), "CREAT": (80, 15), "NSE": (14, 5)}
BLOOD_COUNT = ["HGB", "PLT", "WBC", "NEUT", "LYMPH", "CREAT"]


def _labs(rng: np.random.Generator, patient: SyntheticPatient, end: date) -> list[dict]:
    """Blood counts and creatinine around cycles; CgA and NSE at baseline and follow-up."""
    base = {name: max(float(rng.normal(mean, sd)), mean * 0.3)
            for name, (mean, sd) in LAB_BASELINE.items()}
    cga = float(rng.lognormal(5.8, 1.2))
    response = float(rng.uniform(0.3, 1.2))
    draws: list[tuple[date, list[str], float]] = []
    for c1d1, last in _course_starts(patient):
        draws.append((c1d1 - _days(rng, 3, 20), [*BLOOD_COUNT, "CGA", "NSE"], 1.0))
        for cycle in patient.cycles:
            if c1d1 <= cycle.cycle_date <= last:
                draws.append((cycle.cycle_date + _days(rng, 24, 32), BLOOD_COUNT,
                              float(rng.uniform(0.45, 0.9))))
        for months in (3, 6, 12):
            draws.append((last + timedelta(days=30 * months) + _days(rng, -10, 10),
                          [*BLOOD_COUNT, "CGA", "NSE"], 0.95))
    records = []
    for when, analytes, depth in draws:
        if when > end:
            continue
        for analyte in analytes:
            if analyte == "CGA":
                value = cga * (response if when > patient.cycles[0].cycle_date else 1)
            elif analyte == "CREAT":
                value = base[analyte] * float(rng.uniform(0.95, 1.15))
            elif analyte == "NSE":
                value = base[analyte] * float(rng.uniform(0.8, 1.2))
            else:
                value = base[analyte] * depth * float(rng.uniform(0.92, 1.08))
            records.append({"sample_date": when, "analyte": analyte, "value": value})
    return records


def _imaging(rng: np.random.Generator, patient: SyntheticPatient, progression: date,
             end: date) -> dict[str, list[dict]]:
    """Exams every ~3 months with per-lesion diameters: shrinkage, then progression with
    growth and a new lesion; reported responses as a centre's radiologist would."""
    c1d1 = patient.cycles[0].cycle_date
    lesions = []
    for number in range(1, int(rng.integers(1, 5)) + 1):
        lesions.append({"id": str(number), "organ": str(rng.choice(LESION_ORGANS)),
                        "target": True, "d0": int(rng.integers(12, 60))})
    for number in range(len(lesions) + 1, len(lesions) + int(rng.integers(0, 3)) + 1):
        lesions.append({"id": str(number), "organ": str(rng.choice(["bone", "liver"])),
                        "target": False, "d0": int(rng.integers(8, 20))})
    shrink = float(rng.uniform(0.4, 1.0))
    new_lesion_id = str(len(lesions) + 1)
    exams, measurements, responses = [], [], []
    when = c1d1 - _days(rng, 10, 60)
    sld_baseline, nadir = None, None
    while when <= end:
        modality = "CT" if rng.random() < 0.7 else "MRI"
        exams.append({"exam_date": when, "modality": modality})
        progressed = when >= progression
        sld = 0
        for lesion in lesions:
            if when <= c1d1:
                factor = 1.0
            else:
                factor = max(shrink, 1 - (1 - shrink) * (when - c1d1).days / 240)
            if progressed:
                factor *= 1.35
            diameter = int(round(lesion["d0"] * factor))
            measured = lesion["target"] or rng.random() > 0.1
            measurements.append({"exam_date": when, "lesion_id": lesion["id"],
                                 "organ": lesion["organ"], "is_target": lesion["target"],
                                 "diameter_mm": float(diameter) if measured else None,
                                 "is_new": False})
            sld += diameter if lesion["target"] else 0
        if progressed:
            measurements.append({"exam_date": when, "lesion_id": new_lesion_id,
                                 "organ": "liver", "is_target": False,
                                 "diameter_mm": float(rng.integers(8, 25)), "is_new": True})
        if sld_baseline is None:
            sld_baseline = nadir = sld
        else:
            category = _swog(sld, sld_baseline, nadir, progressed)
            nadir = min(nadir, sld)
            responses.append({"assessment_date": when, "category": category,
                              "bone": any(les["organ"] == "bone" for les in lesions)})
        when += _days(rng, 75, 105)
    return {"imaging_exam": exams, "lesion_measurement": measurements,
            "response": responses}


def _swog(sld: int, baseline: int, nadir: int, new_lesion: bool) -> str:
    if new_lesion or (nadir and (sld - nadir) / nadir >= 0.25):
        return "PD"
    change = (sld - baseline) / baseline if baseline else 0
    if sld == 0:
        return "CR"
    return "PR" if change <= -0.5 else "MR" if change <= -0.25 else "SD"


def _adverse_events(rng: np.random.Generator, patient: SyntheticPatient, end: date
                    ) -> list[dict]:
    events = []
    for _ in range(int(rng.integers(0, 4))):
        cycle = patient.cycles[int(rng.integers(0, len(patient.cycles)))]
        onset = cycle.cycle_date + _days(rng, 1, 40)
        if onset <= end:
            term = str(rng.choice(AE_TERMS))
            events.append({"onset_date": onset, "term": term,
                           "grade": int(rng.choice([1, 1, 2, 2, 3, 4]))})
    return events


def truth_tables(cohort: list[SyntheticPatient], export_date: date) -> dict[str, pd.DataFrame]:
    """Every canonical table as the centre's records stand on ``export_date``."""
    tables: dict[str, list[dict]] = {name: [] for name in NATURAL_KEYS}
    tables["response"] = []
    for patient in cohort:
        if patient.first_record_date() > export_date or patient.cycles[0].cycle_date > export_date:
            continue
        _patient_rows(patient, export_date, tables)
    frames = {}
    for name, rows in tables.items():
        frame = pd.DataFrame(rows)
        if name in DATE_OF and not frame.empty:
            frame = frame[frame[DATE_OF[name]] <= export_date]
        keys = NATURAL_KEYS.get(name)
        if keys and not frame.empty:
            frame = frame.drop_duplicates(subset=keys, keep="first")
        frames[name] = frame.reset_index(drop=True)
    return frames


def _patient_rows(patient: SyntheticPatient, export: date, tables: dict[str, list]) -> None:
    pid = patient.patient_id
    tables["patient"].append({
        "patient_id": pid, "sex": patient.sex, "birth_year": patient.birth_year,
        "birth_date": patient.birth_date, "diagnosis_date": patient.diagnosis_date,
        "primary_origin": patient.primary_origin, "who_grade": patient.who_grade,
        "ki67_percent": patient.ki67_percent, "ki67_below_detection": patient.ki67_below_detection,
        "krenning_score": patient.krenning_score, "tumour_burden": patient.tumour_burden,
        "bone_metastases": any(m["organ"] == "bone" for m in patient.records["lesion_measurement"]),
        "liver_metastases": any(m["organ"] == "liver"
                                for m in patient.records["lesion_measurement"]),
    })
    for cycle in patient.cycles:
        tables["treatment_cycle"].append({
            "patient_id": pid, "cycle_no": cycle.cycle_no, "cycle_date": cycle.cycle_date,
            "administered_activity_gbq": cycle.activity_gbq, "agent": "177Lu-DOTATATE",
            "phase": cycle.phase})
    for visit in patient.records["qol_visit"]:
        tables["qlq_c30_assessment"].append({"patient_id": pid, "assessment_date": visit["date"],
                                             "instrument": "QLQ-C30"})
        for item, response in visit["items"].items():
            if response is not None:
                tables["qlq_c30_item_response"].append({
                    "patient_id": pid, "assessment_date": visit["date"], "item_no": item,
                    "response": response})
        tables["performance_status"].append({
            "patient_id": pid, "assessment_date": visit["date"], "scale": "KPS",
            "score": visit["kps"], "ecog": KPS_TO_ECOG[visit["kps"]],
            "ecog_instead": visit["ecog_instead"]})
    for name in ("lab_result", "imaging_exam", "lesion_measurement", "adverse_event",
                 "response"):
        tables[name] += [{"patient_id": pid, **record} for record in patient.records[name]]
    dated = [d for d in _all_dates(patient) if d <= export]
    dead = patient.death_date is not None and patient.death_date <= export
    tables["vital_status"].append({
        "patient_id": pid, "last_contact_date": patient.death_date if dead else max(dated),
        "is_dead": dead, "death_date": patient.death_date if dead else None})


def _all_dates(patient: SyntheticPatient) -> list[date]:
    dates = [c.cycle_date for c in patient.cycles]
    dates += [v["date"] for v in patient.records["qol_visit"]]
    for name, column in (("lab_result", "sample_date"), ("imaging_exam", "exam_date"),
                         ("adverse_event", "onset_date")):
        dates += [r[column] for r in patient.records[name]]
    return dates

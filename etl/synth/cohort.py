"""Centre-neutral synthetic patients: demography, tumour, PRRT cycles and follow-up.

The numbers are plausible for a PRRT registry (four regular cycles of about 7.4 GBq
some 8 weeks apart; a minority of patients receive two salvage cycles after
progression), not a model of any real cohort.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import numpy as np

ORIGINS = ["pancreas", "small_intestine", "lung", "stomach", "rectum", "unknown", "other"]
ORIGIN_WEIGHTS = [0.35, 0.35, 0.08, 0.05, 0.05, 0.08, 0.04]


@dataclass
class Cycle:
    cycle_no: int
    cycle_date: date
    activity_gbq: Decimal
    phase: str  # regular | salvage


@dataclass
class SyntheticPatient:
    patient_id: str
    sex: str
    birth_year: int
    diagnosis_date: date
    primary_origin: str
    who_grade: str
    ki67_percent: float | None
    ki67_below_detection: bool
    krenning_score: int
    bone_metastases: bool
    liver_metastases: bool
    cycles: list[Cycle] = field(default_factory=list)
    last_contact_date: date | None = None
    death_date: date | None = None


def draw_cohort(patients: int, seed: int, export_date: str) -> list[SyntheticPatient]:
    """``patients`` synthetic patients, reproducible from ``seed``, all dated before export."""
    rng = np.random.default_rng(seed)
    export = date.fromisoformat(export_date)
    ids = rng.choice(np.arange(1_000_000, 9_999_999), size=patients, replace=False)
    return [_draw_patient(rng, str(patient_id), export) for patient_id in ids]


def _days(rng: np.random.Generator, low: int, high: int) -> timedelta:
    return timedelta(days=int(rng.integers(low, high)))


def _draw_patient(rng: np.random.Generator, patient_id: str, export: date) -> SyntheticPatient:
    c1d1 = export - _days(rng, 120, 365 * 7)
    diagnosis = c1d1 - _days(rng, 60, 365 * 4)
    ki67_below = bool(rng.random() < 0.1)
    ki67 = None if rng.random() < 0.05 else round(float(rng.gamma(2.0, 3.0)) + 1, 1)
    patient = SyntheticPatient(
        patient_id=patient_id,
        sex=str(rng.choice(["female", "male"])),
        birth_year=int(c1d1.year - rng.integers(30, 85)),
        diagnosis_date=diagnosis,
        primary_origin=str(rng.choice(ORIGINS, p=ORIGIN_WEIGHTS)),
        who_grade=str(rng.choice(["G1", "G2", "G3"], p=[0.4, 0.5, 0.1])),
        ki67_percent=2.0 if ki67_below else ki67,
        ki67_below_detection=ki67_below,
        krenning_score=int(rng.choice([2, 3, 4], p=[0.1, 0.4, 0.5])),
        bone_metastases=bool(rng.random() < 0.3),
        liver_metastases=bool(rng.random() < 0.8),
    )
    cycle_date = c1d1
    for number in range(1, int(rng.choice([2, 3, 4, 4, 4, 4])) + 1):
        if cycle_date >= export:
            break
        patient.cycles.append(Cycle(number, cycle_date, _activity(rng), "regular"))
        cycle_date += _days(rng, 42, 70)
    salvage_start = patient.cycles[-1].cycle_date + _days(rng, 365, 900)
    if rng.random() < 0.2 and salvage_start + timedelta(days=70) < export:
        for offset in range(2):
            patient.cycles.append(Cycle(len(patient.cycles) + 1,
                                        salvage_start + timedelta(days=56 * offset),
                                        _activity(rng), "salvage"))
    last_cycle = patient.cycles[-1].cycle_date
    follow_up_end = min(export, last_cycle + _days(rng, 30, 365 * 5))
    if rng.random() < 0.35 and follow_up_end < export:
        patient.death_date = follow_up_end
    patient.last_contact_date = follow_up_end
    return patient


def _activity(rng: np.random.Generator) -> Decimal:
    return Decimal(str(round(float(rng.normal(7.4, 0.12)), 2)))

"""From one cohort to the truth of a given night's export, with optional faults.

Night 1 is the export on the base date. Night n is 91 days later per night (or any
other interval, e.g. one day as a nightly schedule sees it): the same
patients with more follow-up, new patients whose first cycle came since, and the
changes a registry sees between nights: about 1 % of lab values and cycle activities
corrected, about 1 % of patients withdrawn (all their records gone from the export) and
a few adverse events deleted. Which records change is decided by a stable hash of the
record's key, so night 3 carries night 2's changes and adds its own.

Faults (``faults=True``) plant one row per kind the loader must quarantine; the list
returned says which table and reason code each should produce.
"""

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pandas as pd

from etl.synth.cohort import NATURAL_KEYS, draw_cohort, truth_tables

NIGHT_INTERVAL = timedelta(days=91)
UNPARSEABLE_DATE = "2024-02-31"


@dataclass(frozen=True)
class Fault:
    """A planted fault: the raw table whose row it spoils and the expected reason code."""

    table: str
    reason_code: str
    what: str


def centre_seed(seed: int, centre: str) -> int:
    """Each centre draws its own patients from the same seed."""
    return seed + zlib.crc32(centre.encode()) % 10_000


def export_date_of(base_date: str, night: int, interval: timedelta = NIGHT_INTERVAL) -> date:
    return date.fromisoformat(base_date) + interval * (night - 1)


def night_truth(centre: str, patients: int, seed: int, base_date: str, night: int,
                faults: bool, interval: timedelta = NIGHT_INTERVAL
                ) -> tuple[dict[str, pd.DataFrame], date, list[Fault]]:
    """The truth tables a centre's export shows on ``night``, and any planted faults;
    ``interval`` apart per night (91 days for the demo, 1 day for a nightly schedule)."""
    [(_, tables, when, planted)] = nights_truth(centre, patients, seed, base_date, [night],
                                                faults, interval)
    return tables, when, planted


def nights_truth(centre: str, patients: int, seed: int, base_date: str, nights: list[int],
                 faults: bool, interval: timedelta = NIGHT_INTERVAL
                 ) -> Iterator[tuple[int, dict[str, pd.DataFrame], date, list[Fault]]]:
    """``night_truth`` for several nights of one cohort, drawn once (the draw is a good
    part of the cost)."""
    cohort = draw_cohort(patients, centre_seed(seed, centre), base_date)
    for night in nights:
        when = export_date_of(base_date, night, interval)
        tables = truth_tables(cohort, when)
        for later_night in range(2, night + 1):
            tables = _changes(tables, later_night)
        planted = _plant_faults(centre, tables, when) if faults else []
        yield night, tables, when, planted


def _picked(frame: pd.DataFrame, columns: list[str], salt: str, per: int) -> pd.Series:
    """A stable pseudo-random 1-in-``per`` choice of rows, by the hash of their key."""
    keys = frame[columns[0]].astype(str)
    for column in columns[1:]:  # column-wise: joining each row in Python cost 4x as much
        keys = keys + "|" + frame[column].astype(str)
    prefix = f"{salt}:"
    return pd.Series([zlib.crc32((prefix + key).encode()) % per == 0 for key in keys],
                     index=frame.index, dtype=bool)


def _changes(tables: dict[str, pd.DataFrame], night: int) -> dict[str, pd.DataFrame]:
    tables = dict(tables)
    withdrawn_patients = set(tables["patient"].loc[
        _picked(tables["patient"], ["patient_id"], f"withdraw{night}", 100), "patient_id"])
    for name, frame in tables.items():
        if "patient_id" in frame and not frame.empty:
            tables[name] = frame[~frame["patient_id"].isin(withdrawn_patients)].reset_index(
                drop=True)
    labs = tables["lab_result"].copy()
    corrected = _picked(labs, NATURAL_KEYS["lab_result"], f"correct{night}", 100)
    labs.loc[corrected, "value"] = labs.loc[corrected, "value"] * 1.1
    tables["lab_result"] = labs
    cycles = tables["treatment_cycle"].copy()
    corrected = _picked(cycles, NATURAL_KEYS["treatment_cycle"], f"correct{night}", 100)
    cycles.loc[corrected, "administered_activity_gbq"] = [
        value + Decimal("0.05") for value in cycles.loc[corrected, "administered_activity_gbq"]]
    tables["treatment_cycle"] = cycles
    events = tables["adverse_event"]
    if not events.empty:
        deleted = _picked(events, NATURAL_KEYS["adverse_event"], f"delete{night}", 50)
        tables["adverse_event"] = events[~deleted].reset_index(drop=True)
    return tables


def _plant_faults(centre: str, tables: dict[str, pd.DataFrame], export: date) -> list[Fault]:
    """One spoiled row per fault kind the centre's format can carry."""
    from etl.synth import WRITERS

    covers = set(WRITERS[centre].TABLES)
    patients = list(tables["patient"]["patient_id"])
    if len(patients) < 3:
        raise ValueError("fault injection needs at least 3 patients per centre")
    planted = []

    patient = tables["patient"].copy()
    patient.loc[0, "sex"] = "X"
    tables["patient"] = patient
    planted.append(Fault("patient", "unknown_code", "sex 'X' is in no code list"))

    cycles = tables["treatment_cycle"].copy()
    cycles.loc[0, "administered_activity_gbq"] = Decimal("25")
    tables["treatment_cycle"] = cycles
    planted.append(Fault("treatment_cycle", "out_of_range", "25 GBq in one cycle"))

    if "qlq_c30_item_response" in covers and not tables["qlq_c30_item_response"].empty:
        items = tables["qlq_c30_item_response"].copy()
        first = items.index[items["item_no"] <= 28][0]
        items.loc[first, "response"] = 5
        tables["qlq_c30_item_response"] = items
        planted.append(Fault("qlq_c30_item_response", "out_of_range", "item answered 5"))

    labs = tables["lab_result"].copy()
    labs["unit_as_sent"] = ""
    future = labs.iloc[[0]].assign(sample_date=export + timedelta(days=30))
    labs = pd.concat([labs, future], ignore_index=True)
    planted.append(Fault("lab_result", "future_date", "a sample dated after the export"))
    if centre != "IOW":  # IOW's units are fixed per column: nothing to spoil
        labs.loc[1, "unit_as_sent"] = "mg/furlong"
        planted.append(Fault("lab_result", "unknown_unit", "unit 'mg/furlong'"))
    tables["lab_result"] = labs

    vital = tables["vital_status"].copy().astype({"last_contact_date": object})
    vital.loc[vital["patient_id"] == patients[1], "last_contact_date"] = UNPARSEABLE_DATE
    planted.append(Fault("vital_status", "unparseable_date", f"date {UNPARSEABLE_DATE}"))
    first_cycle = cycles.groupby("patient_id")["cycle_date"].min()
    row = vital["patient_id"] == patients[2]
    vital.loc[row, "is_dead"] = True
    vital.loc[row, "death_date"] = first_cycle[patients[2]] - timedelta(days=10)
    tables["vital_status"] = vital
    planted.append(Fault("vital_status", "death_before_cycle", "death 10 days before C1D1"))
    return planted

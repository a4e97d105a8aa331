"""Per-patient date rules across tables (``etl.load.cross_check``), worked out by hand on
the one rule of ``etl/reference/cross_checks.csv``: no cycle after the recorded death."""

from datetime import date

import pandas as pd

from etl.canonical import SOURCE_ROW, UNIT_ID
from etl.load import EXTRACT_NO, cross_check


def frame(rows: list[dict]) -> pd.DataFrame:
    """Canonical rows with their provenance: source rows 2, 3, ... of one file."""
    return pd.DataFrame(rows).assign(**{
        SOURCE_ROW: range(2, len(rows) + 2), UNIT_ID: range(len(rows)), EXTRACT_NO: 0,
        "source_file": "followup.csv"})


def test_a_death_before_the_last_cycle_quarantines_the_follow_up_row_only():
    vital = frame([
        {"patient_pseudonym": "P1", "death_date": date(2024, 3, 1)},   # before C2: broken
        {"patient_pseudonym": "P2", "death_date": date(2024, 4, 1)},   # on the last cycle
        {"patient_pseudonym": "P3", "death_date": None},               # alive
        {"patient_pseudonym": "P4", "death_date": date(2020, 1, 1)},   # never treated
    ])
    cycles = frame([
        {"patient_pseudonym": "P1", "cycle_date": date(2024, 1, 1)},
        {"patient_pseudonym": "P1", "cycle_date": date(2024, 4, 1)},
        {"patient_pseudonym": "P2", "cycle_date": date(2024, 4, 1)},
        {"patient_pseudonym": "P2", "cycle_date": date(2024, 2, 1)},
        {"patient_pseudonym": "P3", "cycle_date": date(2024, 5, 1)},
    ])
    tables = {"vital_status": vital, "treatment_cycle": cycles}

    [issues] = cross_check(tables)

    assert issues[SOURCE_ROW].tolist() == [2]
    assert issues["reason_code"].tolist() == ["death_before_cycle"]
    assert issues["column_name"].tolist() == ["death_date"]
    assert issues["source_value"].tolist() == ["2024-03-01"]
    assert issues["message"].tolist() == [
        "a patient is not treated after death: the recorded death date is implausible "
        "(treatment_cycle.cycle_date later: 2024-04-01)"]
    assert tables["vital_status"]["patient_pseudonym"].tolist() == ["P2", "P3", "P4"]
    assert len(tables["treatment_cycle"]) == 5


def test_no_death_before_a_cycle_leaves_the_tables_alone():
    vital = frame([{"patient_pseudonym": "P1", "death_date": date(2024, 6, 1)}])
    cycles = frame([{"patient_pseudonym": "P1", "cycle_date": date(2024, 1, 1)}])
    tables = {"vital_status": vital, "treatment_cycle": cycles}

    assert cross_check(tables) == []
    assert tables["vital_status"] is vital

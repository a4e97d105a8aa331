"""PRRT cycles, and their place in the patient's history (after diagnosis, in life)."""

import great_expectations.expectations as gxe
import pandas as pd

from etl.severity import CRITICAL, WARNING
from expectations.rules import (
    COMPLETENESS,
    canonical_table,
    date_order,
    meta,
    patient_dates,
    with_source,
)

TABLES = ["treatment_cycle"]


def derived_frames(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    cycles = tables.get("treatment_cycle")
    if cycles is None:
        return {}
    dated = patient_dates(tables, with_source(cycles, ["patient_pseudonym", "cycle_date"]))
    patients = tables.get("patient", pd.DataFrame(columns=["patient_pseudonym"]))
    dated["has_patient_row"] = dated["patient_pseudonym"].isin(patients["patient_pseudonym"])
    return {"cycle_in_history": dated}


def expectations() -> dict[str, list[gxe.Expectation]]:
    return {
        "treatment_cycle": canonical_table("treatment_cycle"),
        "cycle_in_history": [
            date_order("diagnosis_date", "cycle_date", WARNING,
                       "PRRT is given after the diagnosis"),
            date_order("cycle_date", "death_date", CRITICAL,
                       "no cycle after death (the loader quarantines such deaths)"),
            gxe.ExpectColumnValuesToBeInSet(
                column="has_patient_row", value_set=[True],
                meta=meta(COMPLETENESS, WARNING,
                          "a treated patient has a patient row (one quarantined or missing "
                          "leaves episodes without patient facts; dbt's relationship test "
                          "then blocks publication)")),
        ],
    }

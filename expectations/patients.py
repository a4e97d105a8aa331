"""Patient facts: demography and tumour at registration."""

import great_expectations.expectations as gxe
import pandas as pd

from etl.severity import WARNING
from expectations.rules import PLAUSIBILITY, canonical_table, meta, with_source

TABLES = ["patient"]


def derived_frames(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    patients = tables.get("patient")
    if patients is None:
        return {}
    facts = with_source(patients, ["patient_pseudonym", "diagnosis_date", "birth_year"])
    diagnosis_year = pd.to_datetime(facts["diagnosis_date"]).dt.year
    return {"patient_diagnosis_age": facts.drop(columns=["diagnosis_date", "birth_year"]).assign(
        age_at_diagnosis=diagnosis_year - pd.to_numeric(facts["birth_year"]))}


def expectations() -> dict[str, list[gxe.Expectation]]:
    return {
        "patient": canonical_table("patient"),
        "patient_diagnosis_age": [gxe.ExpectColumnValuesToBeBetween(
            column="age_at_diagnosis", min_value=0, max_value=110,
            meta=meta(PLAUSIBILITY, WARNING,
                      "diagnosed between birth and 110 years of age"))],
    }

"""EORTC QLQ-C30 questionnaires and performance status."""

import great_expectations.expectations as gxe
import pandas as pd

from etl.severity import WARNING
from expectations.rules import canonical_table, date_order, patient_dates, with_source

TABLES = ["qlq_c30_assessment", "qlq_c30_item_response", "performance_status"]


def derived_frames(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    assessments = [with_source(tables[name], ["patient_pseudonym", "assessment_date"])
                   for name in ("qlq_c30_assessment", "performance_status") if name in tables]
    if not assessments:
        return {}
    dated = patient_dates(tables, pd.concat(assessments, ignore_index=True))
    dated["assessment_year"] = pd.to_datetime(dated["assessment_date"]).dt.year
    return {"assessment_in_life": dated}


def expectations() -> dict[str, list[gxe.Expectation]]:
    return {
        "qlq_c30_assessment": canonical_table("qlq_c30_assessment"),
        "qlq_c30_item_response": canonical_table("qlq_c30_item_response"),
        "performance_status": canonical_table("performance_status"),
        "assessment_in_life": [
            date_order("birth_year", "assessment_year", WARNING,
                       "a questionnaire or performance status is dated after birth"),
            date_order("assessment_date", "death_date", WARNING,
                       "a questionnaire or performance status is dated before death"),
        ],
    }

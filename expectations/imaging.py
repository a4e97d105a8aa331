"""Imaging exams, lesion measurements and site-reported responses."""

import great_expectations.expectations as gxe
import pandas as pd

from etl.severity import WARNING
from expectations.rules import PLAUSIBILITY, canonical_table, meta

TABLES = ["imaging_exam", "lesion_measurement", "reported_response"]


def derived_frames(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    lesions = tables.get("lesion_measurement")
    if lesions is None or lesions.empty or "is_new" not in lesions:
        return {}
    # as datetime64: the minimum of date objects runs in Python, row by row (mapped dates
    # were parsed by pandas, so they are within its range)
    exams = lesions[["patient_pseudonym", "lesion_id"]].assign(
        exam_date=pd.to_datetime(lesions["exam_date"]))
    key = ["patient_pseudonym", "lesion_id"]
    first_seen = exams.groupby(key)["exam_date"].min().rename("first_seen")
    first_new = exams[lesions["is_new"].eq(True).to_numpy()].groupby(key)["exam_date"].min(
        ).rename("first_flagged_new")
    order = pd.concat([first_seen, first_new], axis=1).reset_index()
    for column in ("first_seen", "first_flagged_new"):
        order[column] = order[column].dt.date.astype(object).where(order[column].notna(), None)
    return {"lesion_history": order}


def expectations() -> dict[str, list[gxe.Expectation]]:
    return {
        "imaging_exam": canonical_table("imaging_exam"),
        "lesion_measurement": canonical_table("lesion_measurement"),
        "reported_response": canonical_table("reported_response"),
        "lesion_history": [gxe.ExpectColumnPairValuesToBeEqual(
            column_A="first_seen", column_B="first_flagged_new",
            ignore_row_if="either_value_is_missing",
            meta=meta(PLAUSIBILITY, WARNING,
                      "a lesion flagged new is new at its first exam: its exams are in "
                      "date order and it was not recorded before"))],
    }

"""Imaging exams, lesion measurements and site-reported responses."""

import great_expectations.expectations as gxe
import pandas as pd

from expectations.rules import PLAUSIBILITY, WARNING, canonical_table, meta

TABLES = ["imaging_exam", "lesion_measurement", "reported_response"]


def derived_frames(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    lesions = tables.get("lesion_measurement")
    if lesions is None or lesions.empty or "is_new" not in lesions:
        return {}
    by_lesion = lesions.groupby(["patient_pseudonym", "lesion_id"])
    first_seen = by_lesion["exam_date"].min().rename("first_seen")
    first_new = lesions[lesions["is_new"].eq(True)].groupby(
        ["patient_pseudonym", "lesion_id"])["exam_date"].min().rename("first_flagged_new")
    order = pd.concat([first_seen, first_new], axis=1).reset_index()
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

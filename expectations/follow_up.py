"""Follow-up: last contact and death."""

import great_expectations.expectations as gxe
import pandas as pd
from great_expectations.expectations.row_conditions import Column

from etl.severity import WARNING
from expectations.rules import COMPLETENESS, canonical_table, date_order, meta

TABLES = ["vital_status"]


def derived_frames(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {}


def expectations() -> dict[str, list[gxe.Expectation]]:
    return {"vital_status": [
        *canonical_table("vital_status"),
        date_order("last_contact_date", "death_date", WARNING,
                   "the last contact is not after death"),
        gxe.ExpectColumnValuesToNotBeNull(
            column="death_date", row_condition=Column("is_dead") == True,  # noqa: E712
            meta=meta(COMPLETENESS, WARNING,
                      "a death without a date makes OS end at the last known date")),
    ]}

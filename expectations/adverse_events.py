"""Reported adverse events (CTCAE v5.0 term and grade)."""

import great_expectations.expectations as gxe
import pandas as pd

from etl.severity import WARNING
from expectations.rules import canonical_table, date_order, patient_dates, with_source

TABLES = ["adverse_event"]


def derived_frames(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    events = tables.get("adverse_event")
    if events is None:
        return {}
    return {"adverse_event_in_life": patient_dates(
        tables, with_source(events, ["patient_pseudonym", "onset_date"]))}


def expectations() -> dict[str, list[gxe.Expectation]]:
    return {
        "adverse_event": canonical_table("adverse_event"),
        "adverse_event_in_life": [date_order("onset_date", "death_date", WARNING,
                                             "an adverse event starts before death")],
    }

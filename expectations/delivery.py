"""The delivery as a whole: how much a snapshot would withdraw, how much was quarantined.

Shares are judged only on tables and files with at least ``min_records_for_shares``
records: two faulty rows of a six-patient file are a third of it, but no sign of a
broken export. These catch what no single row shows: a truncated export (half the patients missing
would withdraw half the centre's records) or a centre that changed its coding (every
row of a file quarantined).
"""

import great_expectations.expectations as gxe
import pandas as pd
from great_expectations.expectations.row_conditions import Column

from etl.severity import CRITICAL, WARNING
from expectations.rules import COMPLETENESS, CONFORMANCE, meta
from expectations.thresholds import thresholds

TABLES: list[str] = []


def derived_frames(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {}  # the gate adds ``delivery_snapshot`` and ``delivery_files`` (need the database)


def expectations() -> dict[str, list[gxe.Expectation]]:
    limits = thresholds()
    return {
        "delivery_snapshot": [gxe.ExpectColumnValuesToBeBetween(
            column="withdrawn_share", max_value=limits["max_withdrawn_share"],
            row_condition=Column("current_records") >= limits["min_records_for_shares"],
            meta=meta(COMPLETENESS, CRITICAL,
                      "a snapshot withdrawing this share of a centre's current records is "
                      "more likely a truncated export than real withdrawals"))],
        "delivery_files": [
            gxe.ExpectColumnValuesToBeBetween(
                column="quarantined_share", max_value=limits["max_quarantined_share"],
                row_condition=Column("units_read") >= limits["min_records_for_shares"],
                meta=meta(CONFORMANCE, CRITICAL,
                          "this share of a file quarantined means the centre changed its "
                          "format or coding: fix the mapping, then resend")),
            gxe.ExpectColumnValuesToBeBetween(
                column="quarantined_share", max_value=limits["warn_quarantined_share"],
                meta=meta(CONFORMANCE, WARNING, "rows of this file were quarantined")),
        ],
    }

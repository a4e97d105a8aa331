"""Laboratory values: canonical analytes and units, plausible values."""

import great_expectations.expectations as gxe
import pandas as pd

from etl.severity import WARNING
from expectations.rules import CONFORMANCE, canonical_table, meta

TABLES = ["lab_result"]


def derived_frames(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {}


def expectations() -> dict[str, list[gxe.Expectation]]:
    return {"lab_result": [
        *canonical_table("lab_result"),
        gxe.ExpectColumnValuesToBeInSet(
            column="is_canonical_unit", value_set=[True],
            meta=meta(CONFORMANCE, WARNING,
                      "values kept in a non-canonical unit (e.g. CgA in nmol/L) are "
                      "never graded or compared")),
    ]}

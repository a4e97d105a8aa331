"""Per-value parsing done once per distinct value gives the row-by-row result."""

import numpy as np
import pandas as pd

from etl.distinct import per_distinct


def test_each_distinct_text_is_transformed_once_and_spread_back_in_row_order():
    text = pd.Series([" 2", "1", None, " 2", np.nan, "x"], index=[10, 11, 12, 13, 14, 15],
                     dtype=object)
    seen: list[list] = []

    def parse(distinct: pd.Series) -> pd.Series:
        seen.append(distinct.tolist())
        return pd.to_numeric(distinct.str.strip(), errors="coerce")

    numbers = per_distinct(text, parse)

    assert len(seen) == 1 and len(seen[0]) == 4  # " 2", "1", one missing, "x"
    assert numbers.index.tolist() == [10, 11, 12, 13, 14, 15]
    assert numbers.tolist()[:2] == [2, 1] and numbers.tolist()[3] == 2
    assert numbers.isna().tolist() == [False, False, True, False, True, True]


def test_values_are_told_apart_as_text_and_tuples_come_back_aligned():
    from decimal import Decimal

    values = pd.Series([Decimal("1.0"), Decimal("1.00"), 1.0], dtype=object)
    as_text, length = per_distinct(values, lambda d: (d, d.str.len()))

    assert as_text.tolist() == ["1.0", "1.00", "1.0"]  # equal numbers, different texts
    assert length.tolist() == [3, 4, 3]

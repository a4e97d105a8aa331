"""Per-value parsing done once per distinct value gives the row-by-row result."""

import numpy as np
import pandas as pd

from etl.distinct import cell_texts, fixed_width_texts, per_distinct


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


def test_cell_texts_calls_once_per_value_and_type_and_blanks_missing_tokens():
    from datetime import date

    calls: list[object] = []

    def to_text(value: object) -> str | None:
        calls.append(value)
        if value is None:
            return None
        if isinstance(value, bool):
            return "yes" if value else "no"
        return str(value).strip()

    cells = pd.Series([1, 1.0, True, " a", 1, None, " a", date(2024, 2, 29), "NA", True],
                      index=range(5, 15), dtype=object)
    texts = cell_texts(cells, to_text, missing={"NA"})

    # 1, 1.0 and True are one hash key but three texts; each (type, value) is made once
    assert sorted(map(repr, calls)) == sorted(map(repr, [1, 1.0, True, " a", None,
                                                         date(2024, 2, 29), "NA"]))
    assert texts.dtype == "string" and texts.index.tolist() == list(range(10))
    assert texts.tolist() == ["1", "1.0", "yes", "a", "1", pd.NA, "a", "2024-02-29", pd.NA,
                              "yes"]


def test_cell_texts_of_numbers_keeps_nan_for_the_function_to_judge():
    numbers = pd.Series([2.0, np.nan, 2.5, 2.0])
    texts = cell_texts(numbers, lambda v: None if np.isnan(v) else repr(v))

    assert texts.tolist() == ["2.0", pd.NA, "2.5", "2.0"]


def test_fixed_width_cells_call_once_per_distinct_stored_value():
    calls: list[bytes] = []

    def to_text(stored: bytes) -> str | None:
        calls.append(stored)
        return stored.decode().strip()

    # as a SAS character variable stores them: blank-padded to the variable's width
    cells = np.array([b" QLQ01", b"NA    ", b"      ", b" QLQ01", b"x     "], dtype="S6")

    texts = fixed_width_texts(cells, to_text, missing={"NA", ""})

    assert sorted(calls) == [b"      ", b" QLQ01", b"NA    ", b"x     "]
    assert texts.dtype == "string" and texts.index.tolist() == list(range(5))
    assert texts.fillna("<missing>").tolist() == ["QLQ01", "<missing>", "<missing>", "QLQ01",
                                                  "x"]


def test_fixed_width_cells_of_no_record_are_an_empty_text_column():
    texts = fixed_width_texts(np.array([], dtype="S3"), lambda stored: "never")

    assert texts.dtype == "string" and texts.empty

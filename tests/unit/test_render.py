"""Cell texts of the synthetic writers, rendered once per distinct value."""

from datetime import date

import numpy as np
import pandas as pd

from etl.synth.render import as_text, as_texts


def test_as_texts_renders_each_value_like_as_text():
    values = pd.Series([2.0, None, 2.0, 1.5, float("nan"), 4.0])
    assert as_texts(values).tolist() == ["2", "", "2", "1.5", "", "4"]


def test_as_texts_keeps_equal_values_of_different_types_apart():
    # 1, 1.0 and True compare equal; as one distinct value they would share a text
    values = pd.Series([True, 1, 1.0, date(2024, 2, 29), None], dtype=object)
    assert as_texts(values).tolist() == ["true", "1", "1", "2024-02-29", ""]
    assert as_texts(values).tolist() == [as_text(v) for v in values]


def test_as_texts_of_integers_and_dates():
    assert as_texts(pd.Series(np.array([3, 1, 3]))).tolist() == ["3", "1", "3"]
    days = pd.Series([date(2026, 6, 1), date(2026, 6, 2), date(2026, 6, 1)])
    assert as_texts(days).tolist() == ["2026-06-01", "2026-06-02", "2026-06-01"]

"""Cell texts of the synthetic writers, rendered once per distinct value."""

from datetime import date

import numpy as np
import pandas as pd

from etl.synth import rot
from etl.synth.render import as_text, as_texts, questionnaires


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


def test_as_texts_with_a_centre_renderer():
    days = pd.Series([date(2026, 6, 1), None, date(2026, 6, 1), date(2025, 12, 31)])
    assert as_texts(days, rot._date).tolist() == ["01-06-2026", "", "01-06-2026", "31-12-2025"]
    # a planted fault's text among dates: rendered one by one, as _date renders it
    spoiled = pd.Series([date(2026, 6, 1), "31-02-2026", None], dtype=object)
    assert as_texts(spoiled, rot._date).tolist() == ["01-06-2026", "31-02-2026", ""]
    flags = pd.Series([True, False, None, True], dtype=object)
    assert as_texts(flags, rot._yes_no).tolist() == ["ja", "nee", "", "ja"]


def test_questionnaires_give_item_texts_and_blanks():
    answered, unanswered = date(2026, 1, 5), date(2026, 3, 2)
    items = pd.DataFrame({"patient_id": "P1", "assessment_date": answered,
                          "item_no": [1, 3, 29, 30], "response": [2, 4, 6, 7]})
    tables = {
        "qlq_c30_item_response": items,
        "performance_status": pd.DataFrame({"patient_id": ["P1"], "assessment_date": [answered],
                                            "score": [80]}),
        "qlq_c30_assessment": pd.DataFrame({"patient_id": ["P1", "P1"],
                                            "assessment_date": [answered, unanswered]}),
    }
    first, second = questionnaires(tables)
    assert first[:3] == ("P1", answered, "80")
    assert first[3] == ["2", "", "4", *[""] * 25, "6", "7"]
    assert second == ("P1", unanswered, "", [""] * 30)

"""Small helpers the centre writers share to turn truth values into cell text."""

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd

from etl.reference import normalise_unit, unit_conversions


def missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float):  # the common case, without pandas' scalar dispatch
        return value != value
    return not isinstance(value, str | date) and bool(pd.isna(value))


def as_text(value: object) -> str:
    """A cell as text: empty for missing, whole numbers without ``.0``."""
    if missing(value):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def as_texts(values: pd.Series, render: Callable[[object], str] = as_text) -> np.ndarray:
    """``render`` (``as_text`` unless told) of each value, computed once per distinct
    value; a missing value is "", as every renderer here makes it. Objects of several
    types are rendered one by one instead: equal-comparing values of different types
    (``1``, ``1.0``, ``True``) would share a text otherwise."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if values.dtype == object and len({type(u) for u in uniques}) > 1:
        return np.array([render(v) for v in values], dtype=object)
    texts = np.array([*(render(u) for u in uniques), ""], dtype=object)
    return texts[codes]  # the sentinel -1 (missing) picks the trailing ""


def decimal_comma(value: object) -> str:
    return as_text(value).replace(".", ",")


def rounded(value: float, digits: int) -> float:
    return float(round(value, digits))


def questionnaires(tables: dict[str, pd.DataFrame]):
    """Per questionnaire: (patient id, date, Karnofsky text, item texts 1-30), for the
    centres that send one wide row per questionnaire with its Karnofsky score."""
    items = tables["qlq_c30_item_response"].pivot_table(
        index=["patient_id", "assessment_date"], columns="item_no", values="response",
        aggfunc="first").reindex(columns=range(1, 31))
    texts = np.column_stack([as_texts(items[item]) for item in items.columns])
    answers_of = dict(zip(items.index, texts.tolist(), strict=True))
    unanswered = [""] * 30
    kps = tables["performance_status"].set_index(["patient_id", "assessment_date"])["score"]
    kps_of = dict(zip(kps.index, kps.tolist(), strict=True))
    for a in tables["qlq_c30_assessment"].itertuples():
        key = (a.patient_id, a.assessment_date)
        yield (a.patient_id, a.assessment_date, as_text(kps_of.get(key)),
               answers_of.get(key, unanswered))


def exam_modality(tables: dict[str, pd.DataFrame]) -> dict[tuple, str]:
    """(patient id, exam date) -> the exam's modality, for writers that repeat it on each
    lesion row."""
    exams = tables["imaging_exam"]
    return dict(zip(zip(exams["patient_id"], exams["exam_date"], strict=True),
                    exams["modality"], strict=True))


def to_canonical(quantity: str, unit: str) -> float:
    """The factor from ``unit`` to the canonical unit, from the loader's own conversion
    table (``etl/reference/unit_conversions.csv``), so writers and loader agree."""
    return float(unit_conversions()[quantity, normalise_unit(unit)].factor)

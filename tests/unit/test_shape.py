"""Shaping a read file into one extract's units: the rows it takes and the columns it
keeps (a wide REDCap row carries many other forms' columns)."""

import pandas as pd
import pytest

from etl.canonical import SOURCE_ROW
from etl.errors import DeliveryRejected
from etl.extract.shape import select_rows, skip_and_unpivot, unit_columns
from etl.mapping import Extract

WIDE = pd.DataFrame({
    "record_id": ["1", "2", "3"],
    "qlq_complete": ["2", None, "2"],
    "qlq_date": ["2024-01-02", None, "2024-02-03"],
    "q1": ["1", None, None],
    "q2": ["3", None, "4"],
    "lab_hgb": ["7.1", "6.9", None],  # another form's column
}).astype("string").assign(**{SOURCE_ROW: [2, 3, 4]})
ITEMS = Extract.model_validate({
    "table": "qlq_c30_item_response", "form": "qlq", "skip_empty": ["q1", "q2"],
    "unpivot": {"key_field": "item_no", "value_field": "response", "matching": r"q(\d+)"},
    "fields": {"assessment_date": "qlq_date"}})


def test_an_extract_keeps_the_columns_its_units_need_and_the_rows_it_takes():
    columns = unit_columns(WIDE, ITEMS, "redcap.csv", ["qlq_date", "record_id"])

    selected = select_rows(WIDE, ITEMS, "redcap.csv", columns)

    assert columns == ["record_id", "qlq_date", "q1", "q2", SOURCE_ROW]
    assert list(selected.columns) == columns
    assert selected[SOURCE_ROW].tolist() == [2, 4]  # the rows whose form is filled in
    shaped = skip_and_unpivot(selected, ITEMS, "redcap.csv", ["qlq_date", "record_id"])
    assert shaped.frame[[SOURCE_ROW, "unpivot_key", "unpivot_value"]].values.tolist() == [
        [2, "1", "1"], [2, "2", "3"], [4, "2", "4"]]
    assert (shaped.units_read, shaped.units_skipped) == (4, 1)


def test_a_missing_skip_empty_column_is_named_with_every_column_found():
    extract = ITEMS.model_copy(update={"skip_empty": ["q3"]})

    with pytest.raises(DeliveryRejected, match=r"redcap\.csv: column\(s\) named by the "
                       r"mapping's 'skip_empty' are missing: q3; found: record_id, "
                       r"qlq_complete, qlq_date, q1, q2, lab_hgb"):
        unit_columns(WIDE, extract, "redcap.csv", ["record_id"])

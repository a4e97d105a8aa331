"""Field mapping on hand-made source rows: codes, numbers, dates, units, ranges."""

from datetime import date
from decimal import Decimal

import pandas as pd
import pytest

from etl.canonical import SOURCE_ROW, UNIT_ID, map_extract
from etl.mapping import SiteMapping

EXPORT = date(2024, 6, 1)


def mapping(unit: str = "GBq") -> SiteMapping:
    return SiteMapping.model_validate({
        "site": "TST", "name": "test centre", "format": "delimited",
        "delivery": {"pattern": "TST_(?P<export_date>\\d{8})"},
        "reader": {"decimal": ","}, "date_format": "%d-%m-%Y", "patient_id": "pid",
        "codes": {"phase": {"regulier": "regular", "aanvullend": "salvage"},
                  "sex": {"M": "male", "V": "female"}},
        "extracts": [
            {"table": "treatment_cycle", "file": "c.csv", "fields": {
                "cycle_date": "datum",
                "administered_activity_gbq": {"column": "act", "unit": unit},
                "phase": {"column": "fase", "codes": "phase"}}},
            {"table": "patient", "file": "p.csv", "fields": {
                "sex": {"column": "sex", "codes": "sex"},
                "ki67_percent": {"column": "ki67", "qualifier": "ki67_qualifier"}}},
        ],
    })


def cycles(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["pid", "datum", "act", "fase"]).astype("string")
    frame[SOURCE_ROW] = range(2, len(frame) + 2)
    frame[UNIT_ID] = range(len(frame))
    return frame


def run(frame: pd.DataFrame, unit: str = "GBq", extract: int = 0):
    m = mapping(unit)
    return map_extract(frame, m.extracts[extract], m, b"k", EXPORT)


def test_decimal_comma_dates_and_codes_map_to_canonical_values():
    result = run(cycles([("1", "20-03-2024", "7,41", "regulier"),
                         ("1", "03-02-2021", "7,54", "Aanvullend ")]))
    assert result.issues.empty
    rows = result.rows
    assert list(rows["cycle_date"]) == [date(2024, 3, 20), date(2021, 2, 3)]
    assert list(rows["administered_activity_gbq"]) == [Decimal("7.41"), Decimal("7.54")]
    assert list(rows["phase"]) == ["regular", "salvage"]
    assert list(rows["phase_source"]) == ["regulier", "Aanvullend "]
    assert list(rows["activity_source_value"]) == ["7,41", "7,54"]


@pytest.mark.parametrize(("unit", "value", "expected_gbq"), [
    ("mCi", "200", Decimal("7.4")),          # 200 × 37 MBq = 7400 MBq exactly
    ("mCi", "7,41", Decimal("0.27417")),     # 7.41 × 0.037, no float error
    ("MBq", "7400", Decimal("7.4")),
])
def test_activity_converts_exactly_to_gbq(unit, value, expected_gbq):
    result = run(cycles([("1", "20-03-2024", value, "regulier")]), unit=unit)
    assert result.rows["administered_activity_gbq"][0] == expected_gbq
    assert result.rows["activity_source_unit"][0] == unit


def test_every_problem_is_quarantined_with_reason_column_and_value():
    result = run(cycles([
        ("1", "20-03-2024", "7,41", "regulier"),   # fine
        ("2", "31-02-2024", "7,41", "regulier"),   # no such date
        ("3", "20-03-2025", "7,41", "regulier"),   # after the export date
        ("4", "20-03-2024", "25", "regulier"),     # > 20 GBq per cycle
        ("5", "20-03-2024", "7,41", "extra"),      # unknown phase code
        ("6", "20-03-2024", "zeven", "regulier"),  # not a number
        (None, "20-03-2024", "7,41", "regulier"),  # no patient id
    ]))
    assert list(result.rows[SOURCE_ROW]) == [2]
    found = {(r.source_row, r.reason_code, r.column_name, r.source_value)
             for r in result.issues.itertuples()}
    assert found == {
        (3, "unparseable_date", "datum", "31-02-2024"),
        (4, "future_date", "datum", "20-03-2025"),
        (5, "out_of_range", "act", "25"),
        (6, "unknown_code", "fase", "extra"),
        (7, "invalid_number", "act", "zeven"),
        (8, "missing_value", "pid", None),
    }


def test_unknown_unit_is_quarantined():
    result = run(cycles([("1", "20-03-2024", "7,41", "regulier")]), unit="Bq-ish")
    assert result.rows.empty
    assert list(result.issues["reason_code"]) == ["unknown_unit"]


def test_ki67_written_below_detection_keeps_its_qualifier():
    frame = pd.DataFrame({"pid": ["1", "2", "3"], "sex": ["V", "M", None],
                          "ki67": ["<2", "3,3", None]}).astype("string")
    frame[SOURCE_ROW] = [2, 3, 4]
    frame[UNIT_ID] = [0, 1, 2]
    rows = run(frame, extract=1).rows
    assert list(rows["ki67_percent"].fillna(-1)) == [2.0, 3.3, -1]
    assert list(rows["ki67_qualifier"].fillna("")) == ["<", "", ""]
    assert list(rows["sex"].fillna("")) == ["female", "male", ""]

"""Records sent twice: an exact copy counts once, two versions of one key are both
quarantined (``etl.load._separate_duplicates``), worked out by hand on lab results."""

from datetime import date

import pandas as pd

from etl.canonical import SOURCE_ROW, UNIT_ID
from etl.fingerprint import with_fingerprints
from etl.load import EXTRACT_NO, _separate_duplicates
from models.base import metadata

LABS = metadata.tables["raw.lab_result"]


def labs(*records: tuple[str, date, str, str]) -> pd.DataFrame:
    """Lab results (patient, sample date, analyte, value) from source rows 1, 2, ..."""
    rows = range(1, len(records) + 1)
    return pd.DataFrame({
        "patient_pseudonym": [r[0] for r in records],
        "sample_date": [r[1] for r in records],
        "analyte": [r[2] for r in records],
        "value": [r[3] for r in records],
        SOURCE_ROW: rows, UNIT_ID: [r - 1 for r in rows], EXTRACT_NO: 0,
        "source_file": "lab.csv",
    })


DAY1, DAY2 = date(2024, 3, 1), date(2024, 4, 1)


def test_copies_count_once_and_two_versions_of_a_key_are_both_quarantined():
    rows = labs(
        ("P1", DAY1, "cga", "120"),  # 1: kept
        ("P1", DAY1, "cga", "120"),  # 2: a copy of 1
        ("P1", DAY2, "cga", "95"),   # 3: conflicts with 4
        ("P1", DAY2, "cga", "59"),   # 4: conflicts with 3
        ("P2", DAY1, "hb", "7.4"),   # 5: kept
        ("P1", DAY2, "cga", "95"),   # 6: a copy of 3 (still conflicting with 4)
    )

    kept, values, issues = _separate_duplicates(LABS, rows)

    assert kept[SOURCE_ROW].tolist() == [1, 5]
    assert kept.index.tolist() == [0, 1]
    assert kept["value"].tolist() == ["120", "7.4"]
    assert list(zip(issues[SOURCE_ROW], issues["reason_code"], strict=True)) == [
        (2, "duplicate_record"), (6, "duplicate_record"),
        (3, "conflicting_record"), (4, "conflicting_record")]
    assert set(issues["target_table"]) == {"lab_result"}
    # the content values handed on are the kept records', in their order
    assert values["value"].tolist() == ["120", "7.4"] and values.index.tolist() == [0, 1]
    pd.testing.assert_frame_equal(with_fingerprints(LABS, kept, values),
                                  with_fingerprints(LABS, kept))


def test_a_table_whose_keys_are_all_distinct_comes_back_whole_with_no_issues():
    rows = labs(("P1", DAY1, "cga", "120"), ("P1", DAY2, "cga", "120"),
                ("P2", DAY1, "cga", "120"))

    kept, values, issues = _separate_duplicates(LABS, rows)

    assert kept[SOURCE_ROW].tolist() == [1, 2, 3]
    assert issues.empty
    pd.testing.assert_frame_equal(with_fingerprints(LABS, kept, values),
                                  with_fingerprints(LABS, kept))

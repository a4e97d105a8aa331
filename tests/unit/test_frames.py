"""frame_of: a relation as DuckDB's .df() makes it, through Arrow."""

import duckdb
import pandas as pd
import pytest

from etl.analysis.frames import frame_of

COHORT_LIKE = """
    SELECT * FROM (VALUES
        ('ROT', 1::INTEGER, 10::BIGINT, TRUE, NULL::BOOLEAN, NULL::INTEGER, 1.5::DOUBLE),
        (NULL, 2::INTEGER, 20::BIGINT, FALSE, TRUE, 7::INTEGER, NULL::DOUBLE),
        ('IOW', 3::INTEGER, 30::BIGINT, TRUE, FALSE, 8::INTEGER, 2.25::DOUBLE)
    ) AS t(site, episode_no, days, is_event, ki67_above_10, age, score)
"""


def test_frame_of_types_as_duckdb_df_does() -> None:
    connection = duckdb.connect()
    made = frame_of(connection.sql(COHORT_LIKE))
    pd.testing.assert_frame_equal(made, connection.sql(COHORT_LIKE).df())
    # checked by hand too: a missing flag or integer makes the column nullable
    assert str(made["ki67_above_10"].dtype) == "boolean"
    assert made["ki67_above_10"].isna().tolist() == [True, False, False]
    assert str(made["age"].dtype) == "Int32" and made["age"].tolist()[1:] == [7, 8]
    assert made["episode_no"].dtype == "int32" and made["is_event"].dtype == bool
    assert made["site"].tolist() == ["ROT", None, "IOW"]


def test_frame_of_an_empty_relation() -> None:
    connection = duckdb.connect()
    empty = f"SELECT * FROM ({COHORT_LIKE}) WHERE false"
    pd.testing.assert_frame_equal(frame_of(connection.sql(empty)), connection.sql(empty).df())


def test_frame_of_refuses_dates() -> None:
    with pytest.raises(ValueError, match="'day' is date32"):
        frame_of(duckdb.connect().sql("SELECT DATE '2026-01-01' AS day"))

"""Row hashes for the memory between nights: equal rows hash alike wherever they stand,
values of different types never do, and the two hashes use different keys."""

from datetime import date

import pandas as pd

from etl.memo import row_hashes

KEY = b"test-key"


def hashes(values: list, other: list | None = None) -> list[tuple[int, int]]:
    frame = pd.DataFrame({"value": pd.Series(values, dtype=object),
                          "other": pd.Series(other or ["x"] * len(values), dtype=object)})
    return [tuple(row) for row in row_hashes(frame, ["value", "other"], KEY).to_numpy()]


def test_the_same_row_hashes_alike_at_any_position_and_in_any_frame():
    first = hashes([date(2024, 1, 2), date(2023, 5, 6), None])
    again = hashes([None, date(2024, 1, 2)])
    assert first[0] == again[1] and first[2] == again[0]
    assert len(set(first)) == 3


def test_a_date_its_iso_text_and_its_day_number_hash_apart():
    as_date = hashes([date(2024, 1, 2)])[0]
    as_text = hashes(["2024-01-02"])[0]
    as_number = hashes([(date(2024, 1, 2) - date(1970, 1, 1)).days])[0]
    mixed = hashes([date(2024, 1, 2), "2024-01-02"])
    assert len({as_date, as_text, as_number, *mixed}) == 5


def test_dates_outside_pandas_range_still_hash_by_day():
    far = hashes([date(1, 1, 1), date(2024, 1, 2)])
    assert far[0] != far[1]
    assert far[1] == hashes([date(2024, 1, 2)])[0]  # the same day number either way


def test_the_two_hashes_differ_and_depend_on_the_key():
    frame = pd.DataFrame({"n": [1, 2], "t": ["a", "b"]})
    one = row_hashes(frame, ["n", "t"], KEY)
    other = row_hashes(frame, ["n", "t"], b"another key")
    assert (one["row_hash_a"] != one["row_hash_b"]).all()
    assert (one.to_numpy() != other.to_numpy()).all()


def test_column_order_matters():
    frame = pd.DataFrame({"a": ["x", "y"], "b": ["y", "x"]})
    forward = row_hashes(frame, ["a", "b"], KEY).to_numpy()
    assert tuple(forward[0]) != tuple(forward[1])


def test_repeated_text_hashes_as_each_row_does_alone():
    """Long text columns with repeats hash each distinct text once; the result must be
    the hash every row gets on its own (None, NaN and NA still hash apart)."""
    cells = ["mmol/L", "g/dL", None, float("nan"), "mmol/L", pd.NA]
    frame = pd.DataFrame({"unit": pd.Series(cells * 500, dtype=object),
                          "code": pd.Series(["HB", "PLT", None] * 1000, dtype="string")})
    together = row_hashes(frame, ["unit", "code"], KEY).to_numpy()
    for position in range(6):
        alone = row_hashes(frame.iloc[[position]], ["unit", "code"], KEY).to_numpy()[0]
        assert tuple(together[position]) == tuple(alone), position
    assert len({tuple(row) for row in together[:6]}) == 6

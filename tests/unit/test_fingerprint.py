"""A record's fingerprint is equal exactly when its content is (``etl.fingerprint``)."""

from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd

from etl.fingerprint import FINGERPRINT_HIGH, FINGERPRINT_LOW, with_fingerprints
from models.base import metadata

PATIENT = metadata.tables["raw.patient"]
CYCLE = metadata.tables["raw.treatment_cycle"]


def fingerprints(rows: pd.DataFrame) -> list[tuple[int, int]]:
    marked = with_fingerprints(PATIENT, rows)
    return list(zip(marked[FINGERPRINT_HIGH].tolist(), marked[FINGERPRINT_LOW].tolist(),
                    strict=True))


def patients(**columns) -> pd.DataFrame:
    return pd.DataFrame({"patient_pseudonym": ["p1", "p2"], **columns})


def test_equal_content_gives_equal_fingerprints_whatever_the_provenance_and_column_order():
    night_1 = patients(sex=["F", "M"], diagnosis_date=[date(2020, 1, 2), None],
                       source_row=[2, 3], source_file="a.csv")
    night_2 = patients(diagnosis_date=[date(2020, 1, 2), None], sex=["F", "M"],
                       source_row=[7, 9], source_file="b.csv")
    assert fingerprints(night_1) == fingerprints(night_2)
    first, second = fingerprints(night_1)
    assert first != second and first[0] != first[1]  # two independent halves


def test_a_changed_value_changes_the_fingerprint():
    before = fingerprints(patients(sex=["F", "M"], birth_year=[1950, 1960]))
    after = fingerprints(patients(sex=["F", "M"], birth_year=[1950, 1961]))
    assert before[0] == after[0] and before[1] != after[1]


def test_missing_is_not_the_text_none_and_absent_is_not_all_missing():
    assert fingerprints(patients(sex_source=[None, "x"]))[0] != \
        fingerprints(patients(sex_source=["None", "x"]))[0]
    assert fingerprints(patients(sex=["F", "M"])) != \
        fingerprints(patients(sex=["F", "M"], sex_source=[None, None]))


def test_the_same_bits_in_another_dtype_are_another_fingerprint():
    # pandas alone hashes an int8 -1 like an int16 255 (the same low byte)
    as_int8 = patients(krenning_score=np.array([-1, 3], dtype="int8"))
    as_int16 = patients(krenning_score=np.array([255, 3], dtype="int16"))
    assert fingerprints(as_int8)[0] != fingerprints(as_int16)[0]


def test_fingerprints_stored_on_earlier_nights_are_computed_again_bit_for_bit():
    # The values with_fingerprints gave at 3fdf80d, before it factorized each column once
    # for both halves: a change would send every stored record the slow way on the next
    # night. Dates, decimals (7.40 seen before 7.4), text with NA, Int64 with NA, flags.
    rows = pd.DataFrame({
        "patient_pseudonym": ["p1", "p1", "p2", "p3"],
        "cycle_date": [date(2024, 1, 5), date(2024, 3, 1), None, date(2024, 1, 5)],
        "administered_activity_gbq": [Decimal("7.40"), Decimal("7.4"), None, Decimal("7.3")],
        "activity_source_value": pd.array(["7,40", "7.4", None, "7.3"], dtype="string"),
        "cycle_no": pd.array([1, 2, None, 1], dtype="Int64"),
        "dates_imputed": [False, True, None, False],
        "source_row": [2, 3, 4, 5],
    })
    marked = with_fingerprints(CYCLE, rows)
    assert marked[[FINGERPRINT_HIGH, FINGERPRINT_LOW]].to_numpy().tolist() == [
        [15127933222673426529, 1178885181210042343],
        [4502570038217263414, 10748548140270990001],
        [11563390170243576032, 6735461864346905704],
        [17550733517114004885, 14623653546580786528],
    ]
    assert marked.drop(columns=[FINGERPRINT_HIGH, FINGERPRINT_LOW]).equals(rows)

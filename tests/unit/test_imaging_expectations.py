"""The lesion history gate 1 checks: when each lesion was first seen and first flagged new."""

from datetime import date

import pandas as pd

from expectations.imaging import derived_frames


def test_lesion_history_first_seen_and_first_flagged_new_per_lesion():
    lesions = pd.DataFrame({
        "patient_pseudonym": ["p1", "p1", "p1", "p1", "p2"],
        "lesion_id": ["L1", "L1", "L2", "L2", "L1"],
        "exam_date": [date(2024, 3, 1), date(2024, 1, 15), date(2024, 1, 15),
                      date(2024, 3, 1), date(2023, 12, 31)],
        "is_new": [True, False, True, None, False],
    })

    history = derived_frames({"lesion_measurement": lesions})["lesion_history"]

    rows = {(r.patient_pseudonym, r.lesion_id): (r.first_seen, r.first_flagged_new)
            for r in history.itertuples()}
    # p1/L1 was measured in January and only flagged new in March: the gate warns
    assert rows == {("p1", "L1"): (date(2024, 1, 15), date(2024, 3, 1)),
                    ("p1", "L2"): (date(2024, 1, 15), date(2024, 1, 15)),
                    ("p2", "L1"): (date(2023, 12, 31), None)}
    assert all(type(v) is date for v in history["first_seen"])

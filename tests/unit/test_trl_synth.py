"""TRL's TU/TR link ids: numbered per patient and kind, in numeric lesion order."""

import pandas as pd

from etl.synth.trl import link_ids


def test_link_ids_number_each_kind_in_lesion_order_from_first_appearance():
    lesions = pd.DataFrame({
        "patient_id": ["7", "7", "7", "7", "7", "8"],
        "exam_date": ["2024-01-10", "2024-01-10", "2024-01-10", "2024-04-10", "2024-04-10",
                      "2024-02-01"],
        "lesion_id": ["10", "2", "1", "3", "1", "1"],
        "is_target": [True, False, True, False, False, False],  # 1 at its first exam: target
        "is_new": [False, False, False, True, False, False],
    })
    assert link_ids(lesions) == {("7", "1"): "T01", ("7", "2"): "NT01", ("7", "3"): "NEW01",
                                 ("7", "10"): "T02", ("8", "1"): "NT01"}

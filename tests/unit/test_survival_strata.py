"""Which episodes each Kaplan–Meier stratum holds (``strata``), worked out by hand."""

import pandas as pd

from etl.analysis.survival_tables import strata

COHORT = pd.DataFrame({
    "endpoint": ["PFS", "PFS", "PFS", "PFS", "OS", "OS"],
    "criterion": ["RECIST11", "RECIST11", "RECIST11", "RECIST11", "RECIST11", "RECIST11"],
    "phase": ["regular", "regular", "salvage", "regular", "regular", "regular"],
    "days": [100.0, 200.0, 50.0, 300.0, 400.0, 500.0],
    "is_event": [True, False, True, True, False, True],
    "bone_metastases": [True, None, False, False, None, None],
    "site": ["ROT", "BBK", "ROT", "ROT", "ROT", "BBK"],
})
FACTORS = pd.DataFrame({
    "factor": ["all", "phase", "bone_metastases", "site"],
    "stratify": [True, True, True, False],
    "episodes": ["regular", "all", "regular", "regular"],
})


def _yielded() -> list[tuple]:
    return [(key, factor, sorted(zip(group["stratum"], group["days"], strict=True)), unknown)
            for key, factor, group, unknown in strata(COHORT, FACTORS, ["days", "is_event"])]


def test_strata_hold_the_factor_population_with_labels_and_unknowns_counted():
    assert _yielded() == [
        # keys sorted (OS before PFS); the salvage episode is outside "regular" factors
        (("OS", "RECIST11"), "all", [("all", 400.0), ("all", 500.0)], 0),
        (("PFS", "RECIST11"), "all", [("all", 100.0), ("all", 200.0), ("all", 300.0)], 0),
        (("OS", "RECIST11"), "phase", [("regular", 400.0), ("regular", 500.0)], 0),
        (("PFS", "RECIST11"), "phase",
         [("regular", 100.0), ("regular", 200.0), ("regular", 300.0), ("salvage", 50.0)], 0),
        # OS: bone metastases unknown for both episodes, so no stratum at all
        (("PFS", "RECIST11"), "bone_metastases", [("no", 300.0), ("yes", 100.0)], 1),
    ]


def test_strata_carry_only_the_columns_asked_for_and_the_label():
    _, _, group, _ = next(strata(COHORT, FACTORS, ["days"]))
    assert list(group.columns) == ["days", "stratum"]

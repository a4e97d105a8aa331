"""Kaplan–Meier, log-rank and Cox against R survival 3.5-3 on the `aml` data.

The expected numbers were printed by R (Debian r-cran-survival 3.5-3, 15 digits) with:
    survfit(Surv(time, status) ~ 1, conf.type = "log-log"); quantile(fit, 0.5)
    survdiff(Surv(time, status) ~ group)
    coxph(Surv(time, status) ~ x, ties = "efron")
    survfit(Surv(time, 1 - status) ~ 1, conf.type = "log-log")   # reverse KM
R's median rule and spec §8's agree here (no plateau at exactly 0.5).
"""

import math

import numpy as np
import pandas as pd
import pytest

from etl.analysis.survival import (
    Median,
    cox_hazard_ratios,
    km_curve,
    log_rank,
    median_follow_up,
    median_survival,
)

TOLERANCE = 1e-9  # spec §8 (the dbt var threshold_tolerance)

AML = pd.DataFrame({
    "days": [9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161, 5, 5, 8, 8, 12, 16, 23, 27, 30, 33,
             43, 45],
    "event": [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1],
    "group": ["maintained"] * 11 + ["nonmaintained"] * 12,
})

# R: time, surv, lower, upper, n.risk, n.event, n.censor (whole cohort)
R_CURVE = [
    (5, 0.913043478260870, 0.69494753753205873, 0.977515669900713, 23, 2, 0),
    (8, 0.826086956521739, 0.60061041123719894, 0.930903558387115, 21, 2, 0),
    (9, 0.782608695652174, 0.55421150666872854, 0.903207489881887, 19, 1, 0),
    (12, 0.739130434782609, 0.50920943875421876, 0.873375781697676, 18, 1, 0),
    (13, 0.695652173913043, 0.46564174976200395, 0.841721291391763, 17, 1, 1),
    (16, 0.695652173913043, 0.46564174976200395, 0.841721291391763, 15, 0, 1),
    (18, 0.645962732919255, 0.41395295071711707, 0.805307764482079, 14, 1, 0),
    (23, 0.546583850931677, 0.31925041397118686, 0.726449173820634, 13, 2, 0),
    (27, 0.496894409937888, 0.27556562801213719, 0.684213788447816, 11, 1, 0),
    (28, 0.496894409937888, 0.27556562801213719, 0.684213788447816, 10, 0, 1),
    (30, 0.441683919944790, 0.22738116846254250, 0.637092687459888, 9, 1, 0),
    (31, 0.386473429951691, 0.18283661864862794, 0.587476914417940, 8, 1, 0),
    (33, 0.331262939958592, 0.14182569348173837, 0.535273789989068, 7, 1, 0),
    (34, 0.276052449965493, 0.10444134323359304, 0.480284660416562, 6, 1, 0),
    (43, 0.220841959972395, 0.07099664898286148, 0.422167443380925, 5, 1, 0),
    (45, 0.165631469979296, 0.04211428126157690, 0.360361360273183, 4, 1, 1),
    (48, 0.082815734989648, 0.00695596679853646, 0.286760367980918, 2, 1, 0),
    (161, 0.082815734989648, 0.00695596679853646, 0.286760367980918, 1, 0, 1),
]


def test_kaplan_meier_curve_matches_r_log_log_bands():
    curve = km_curve(AML["days"], AML["event"], TOLERANCE).set_index("time")
    assert curve.loc[0.0, "survival"] == 1.0
    for time, surv, lower, upper, at_risk, events, censored in R_CURVE:
        row = curve.loc[float(time)]
        assert row["survival"] == pytest.approx(surv, abs=1e-6), time
        assert row["ci_lower"] == pytest.approx(lower, abs=1e-6), time
        assert row["ci_upper"] == pytest.approx(upper, abs=1e-6), time
        assert (row["at_risk"], row["events"], row["censored"]) == (at_risk, events, censored)


@pytest.mark.parametrize(("group", "expected"), [
    (None, Median(27, 13, 34)),
    ("maintained", Median(31, 13, None)),       # R: upper NA (band never reaches 0.5)
    ("nonmaintained", Median(23, 5, 33)),
])
def test_median_and_its_confidence_limits_match_r(group, expected):
    data = AML if group is None else AML[AML["group"] == group]
    assert median_survival(km_curve(data["days"], data["event"], TOLERANCE), TOLERANCE) == expected


def test_bands_are_undefined_where_survival_reaches_zero():
    """R gives NA where S(t) = 0 (the last nonmaintained patient dies at day 45)."""
    data = AML[AML["group"] == "nonmaintained"]
    last = km_curve(data["days"], data["event"], TOLERANCE).iloc[-1]
    assert last["survival"] == 0.0
    assert math.isnan(last["ci_lower"]) and math.isnan(last["ci_upper"])


def test_median_is_the_first_time_at_or_below_one_half():
    """Spec §8: 0.5 itself counts (S = 1/2 after one of two patients dies at day 10)."""
    curve = km_curve(pd.Series([10, 20]), pd.Series([1, 0]), TOLERANCE)
    assert median_survival(curve, TOLERANCE).median == 10


def test_log_rank_matches_r_survdiff():
    result = log_rank(AML["days"], AML["event"], AML["group"])
    assert result.chi_square == pytest.approx(3.3963886989776, abs=1e-6)
    assert result.p_value == pytest.approx(0.0653393220405052, abs=1e-6)
    assert result.degrees_of_freedom == 1


def test_log_rank_of_three_groups_with_ties_matches_lifelines():
    """Three groups, tied times across groups, censoring, and a last subject alone at
    risk (N = 1, whose variance term is 0): the statistic and p-value lifelines gives."""
    from lifelines.statistics import multivariate_logrank_test

    days = [2, 3, 3, 5, 8, 8, 9, 12, 3, 4, 5, 5, 8, 10, 1, 3, 6, 8, 8, 15, 20]
    event = [1, 1, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 0]
    group = ["c"] * 8 + ["a"] * 6 + ["b"] * 7
    expected = multivariate_logrank_test(days, group, event)
    result = log_rank(pd.Series(days), pd.Series(event), pd.Series(group))
    assert result.chi_square == pytest.approx(expected.test_statistic, rel=1e-12)
    assert result.p_value == pytest.approx(expected.p_value, rel=1e-12)
    assert result.degrees_of_freedom == 2


def test_cox_hazard_ratio_matches_r_coxph_efron():
    frame = AML.assign(nonmaintained=(AML["group"] == "nonmaintained").astype(int))
    row = cox_hazard_ratios(frame, "days", "event", ["nonmaintained"]).iloc[0]
    assert row["hazard_ratio"] == pytest.approx(2.49810532617214, abs=1e-6)
    assert row["ci_lower"] == pytest.approx(0.915907257436408, abs=1e-6)
    assert row["ci_upper"] == pytest.approx(6.8134957660633, abs=1e-6)
    assert row["p_value"] == pytest.approx(0.0737148606390457, abs=1e-6)


def tied_cohort(seed: int, n: int, covariates: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Random covariates, follow-up in few distinct days (many ties, deaths and censored
    rows at one time), sorted as lifelines sorts (by time, deaths last), and case weights."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(n, covariates)),
                         columns=[f"x{c}" for c in range(covariates)])
    frame["days"] = rng.integers(1, 25, size=n).astype(float)
    frame["event"] = rng.random(n) < 0.6
    frame = frame.sort_values(["days", "event"], kind="stable", ignore_index=True)
    return frame, rng.uniform(0.2, 3.0, size=n)


@pytest.mark.parametrize("seed", range(4))
def test_efron_sums_in_numpy_are_lifelines_sums(seed):
    """Hessian, gradient and log partial likelihood at a random point equal those of
    both of lifelines' Efron loops, with and without case weights."""
    from lifelines.fitters.coxph_fitter import SemiParametricPHFitter

    from etl.analysis.cox import efron_values

    frame, case_weights = tied_cohort(seed, n=300, covariates=3)
    X, T, E = frame[["x0", "x1", "x2"]], frame["days"], frame["event"]
    beta = np.random.default_rng(seed + 100).normal(scale=0.5, size=3)
    lifelines = SemiParametricPHFitter()
    for weights in (pd.Series(np.ones(len(frame))), pd.Series(case_weights)):
        ours = efron_values(X, T, E, weights, None, beta)
        for theirs in (lifelines._get_efron_values_batch(X, T, E, weights, None, beta),
                       lifelines._get_efron_values_single(X, T, E, weights, None, beta)):
            for mine, expected in zip(ours, theirs, strict=True):
                assert np.asarray(mine) == pytest.approx(np.asarray(expected), rel=1e-12)


def test_cox_hazard_ratios_equal_lifelines_coxphfitter_on_tied_data():
    from lifelines import CoxPHFitter

    frame, _ = tied_cohort(7, n=400, covariates=3)
    frame["event"] = frame["event"].astype(int)
    ours = cox_hazard_ratios(frame, "days", "event", ["x0", "x1", "x2"])
    theirs = CoxPHFitter().fit(frame, duration_col="days", event_col="event",
                               fit_options={"precision": 1e-12}).summary
    assert ours["covariate"].to_list() == ["x0", "x1", "x2"]
    for ours_column, theirs_column in [("hazard_ratio", "exp(coef)"),
                                       ("ci_lower", "exp(coef) lower 95%"),
                                       ("ci_upper", "exp(coef) upper 95%"), ("p_value", "p")]:
        assert ours[ours_column].to_numpy() == pytest.approx(
            theirs[theirs_column].to_numpy(), rel=1e-9)


def test_median_follow_up_by_reverse_kaplan_meier_matches_r():
    assert median_follow_up(AML["days"], AML["event"], TOLERANCE) == Median(161, 28, None)


@pytest.mark.parametrize("seed", range(6))
def test_kaplan_meier_is_lifelines_estimator(seed):
    """The numpy curve equals lifelines' KaplanMeierFitter (exponential Greenwood bands)
    on data with ties, censoring at event times, day-0 events and an end at S = 0."""
    from lifelines import KaplanMeierFitter

    rng = np.random.default_rng(seed)
    days = pd.Series(rng.integers(0, 60, size=200).astype(float))
    events = pd.Series(rng.random(200) < [0.2, 0.5, 0.8, 1.0, 0.0, 0.6][seed]).astype(int)
    ours = km_curve(days, events, TOLERANCE)
    fitted = KaplanMeierFitter(alpha=0.05).fit(days, event_observed=events)
    table = fitted.event_table
    bands = fitted.confidence_interval_survival_function_
    np.testing.assert_array_equal(ours["time"], table.index.to_numpy(dtype=float))
    np.testing.assert_array_equal(ours["at_risk"], table["at_risk"].to_numpy(dtype=int))
    np.testing.assert_array_equal(ours["events"], table["observed"].to_numpy(dtype=int))
    np.testing.assert_array_equal(ours["censored"], table["censored"].to_numpy(dtype=int))
    np.testing.assert_allclose(ours["survival"], fitted.survival_function_.iloc[:, 0],
                               rtol=1e-12, atol=1e-15)
    defined = ours["survival"] > TOLERANCE
    assert ours.loc[~defined, ["ci_lower", "ci_upper"]].isna().all().all()
    if events.all():  # everyone dies: the curve ends at 0, where the bands are undefined
        assert ours["survival"].iloc[-1] == 0 and not defined.iloc[-1]
    np.testing.assert_allclose(ours.loc[defined, "ci_lower"], bands.iloc[:, 0][defined.values],
                               rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(ours.loc[defined, "ci_upper"], bands.iloc[:, 1][defined.values],
                               rtol=1e-10, atol=1e-15)

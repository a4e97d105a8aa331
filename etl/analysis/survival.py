"""Kaplan–Meier, log-rank and Cox statistics of spec §5.

Kaplan–Meier is computed here with numpy: the survival tables fit it once or twice per
stratum (hundreds of strata a night), and lifelines' fitter spent most of its time in
per-fit pandas overhead. It is the same estimator as lifelines' ``KaplanMeierFitter``
(tests check both against each other and against R): the product-limit estimate,
Greenwood's variance and the bands on the log(−log) scale ("exponential Greenwood"),
the same as R survival's ``conf.type = "log-log"``. The log-rank test is computed here
too (``log_rank``); Cox uses lifelines' fitter, its Efron sums in numpy (``etl.analysis.cox``).

The median and its confidence limits follow spec §8 rather than lifelines'
``median_survival_time_``: the first time S(t) ≤ 0.5 (within the spec's tolerance,
passed in from the dbt var ``threshold_tolerance``), and the first time the lower /
upper band is ≤ 0.5; a band is undefined where S(t) = 0, so a limit that is never
reached stays "not reached" (None).
"""

import warnings
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

ALPHA = 0.05  # 95 % confidence
Z = NormalDist().inv_cdf(1 - ALPHA / 2)


@dataclass(frozen=True)
class Median:
    """A median survival time with its 95 % confidence limits (None: not reached)."""

    median: float | None
    lower: float | None
    upper: float | None


def km_curve(durations: pd.Series, events: pd.Series, tolerance: float) -> pd.DataFrame:
    """The Kaplan–Meier estimate at time 0 and at every distinct duration.

    Columns: time, survival, ci_lower, ci_upper, at_risk, events, censored. The bands are
    NaN where the estimate is 0 (undefined on the log(−log) scale), and 1 where it is
    still 1 (no variance yet).
    """
    time = np.asarray(durations, dtype=float)
    observed = np.asarray(events).astype(bool)
    # each duration's position among the distinct ones from the one sort np.unique makes
    # (a searchsorted of the unsorted durations took three times as long)
    times, position = np.unique(np.append(time, min(0.0, time.min(initial=0.0))),
                                return_inverse=True)
    position = position[:-1]  # the appended time 0 is not an episode
    removed = np.bincount(position, minlength=len(times))
    deaths = np.bincount(position[observed], minlength=len(times))
    at_risk = len(time) - np.concatenate(([0], np.cumsum(removed)[:-1]))
    with np.errstate(divide="ignore", invalid="ignore"):
        survival = np.exp(np.cumsum(np.log(at_risk - deaths) - np.log(at_risk)))
        survivors = (at_risk - deaths).astype(float)
        greenwood = np.cumsum(np.where(survivors > 0, deaths / (at_risk * survivors), 0.0))
        log_survival = np.log(survival)
        spread = Z * np.sqrt(greenwood) / log_survival
        bands = [np.exp(-np.exp(np.log(-log_survival) + sign * spread)) for sign in (-1, 1)]
    undefined = survival <= tolerance
    lower, upper = (np.where(undefined, np.nan, np.nan_to_num(band, nan=1.0)) for band in bands)
    return pd.DataFrame({
        "time": times, "survival": survival, "ci_lower": lower, "ci_upper": upper,
        "at_risk": at_risk.astype(int), "events": deaths.astype(int),
        "censored": (removed - deaths).astype(int),
    })


def _first_time_at_or_below_half(times: pd.Series, values: pd.Series, tolerance: float
                                 ) -> float | None:
    reached = np.flatnonzero(values.to_numpy() <= 0.5 + tolerance)  # NaN never is
    return float(times.iloc[reached[0]]) if len(reached) else None


def median_survival(curve: pd.DataFrame, tolerance: float) -> Median:
    """Median and 95 % CI from a curve of :func:`km_curve` (spec §8); ``tolerance`` is
    the spec's threshold tolerance (dbt var ``threshold_tolerance``)."""
    return Median(
        median=_first_time_at_or_below_half(curve["time"], curve["survival"], tolerance),
        lower=_first_time_at_or_below_half(curve["time"], curve["ci_lower"], tolerance),
        upper=_first_time_at_or_below_half(curve["time"], curve["ci_upper"], tolerance),
    )


def median_follow_up(durations: pd.Series, events: pd.Series, tolerance: float) -> Median:
    """Median follow-up by reverse Kaplan–Meier: censoring is the event (spec §5)."""
    return median_survival(km_curve(durations, 1 - events.astype(int), tolerance), tolerance)


@dataclass(frozen=True)
class LogRank:
    """A log-rank test across the groups of one stratification."""

    chi_square: float
    degrees_of_freedom: int
    p_value: float


def log_rank(durations: pd.Series, events: pd.Series, groups: pd.Series) -> LogRank:
    """Log-rank test of equal survival in every group (two or more groups).

    The statistic lifelines' ``multivariate_logrank_test`` and R's ``survdiff`` compute
    (tests check it against both), in numpy: at each distinct time t, with n_g at risk
    and d_g events in group g (N, D over all groups), observed minus expected
    O_g - E_g = sum(d_g - n_g D / N) and the hypergeometric covariance
    V_gh = sum(D (N - D) / (N^2 (N - 1)) (N n_g [g = h] - n_g n_h)); the statistic is
    (O - E)' V^-1 (O - E) over all groups but the last (sorted by label), chi-square
    with k - 1 degrees of freedom. lifelines builds a pandas survival table per group and
    test: at registry scale its 63 tests a night took 4 s, most of them in pandas."""
    from scipy.special import chdtrc

    time = np.asarray(durations, dtype=float)
    observed = np.asarray(events).astype(bool)
    group, labels = pd.factorize(np.asarray(groups), sort=True)
    times, position = np.unique(time, return_inverse=True)
    k, cells = len(labels), len(times) * len(labels)
    removed = np.bincount(position * k + group, minlength=cells).reshape(-1, k)
    deaths = np.bincount(position[observed] * k + group[observed],
                         minlength=cells).reshape(-1, k)
    at_risk = removed.sum(axis=0) - np.cumsum(removed, axis=0) + removed  # just before t
    n, d = at_risk.sum(axis=1), deaths.sum(axis=1)
    difference = deaths.sum(axis=0) - (at_risk * (d / n)[:, None]).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):  # N = 1: V's term is 0 anyway
        factor = np.where(n > 1, (n - d) / (n - 1), 1.0) * d / n.astype(float) ** 2
    covariance = (np.diag((factor * n) @ at_risk)
                  - (at_risk * factor[:, None]).T @ at_risk)
    statistic = float(difference[:-1] @ np.linalg.pinv(covariance[:-1, :-1])
                      @ difference[:-1])
    return LogRank(statistic, k - 1, float(chdtrc(k - 1, statistic)))


def cox_hazard_ratios(frame: pd.DataFrame, duration: str, event: str,
                      covariates: list[str]) -> pd.DataFrame:
    """Cox proportional hazards (Efron ties, lifelines' only method) on complete cases:
    lifelines' fitter with its sums in numpy (``etl.analysis.cox``).

    Returns one row per covariate: hazard_ratio, ci_lower, ci_upper, p_value (Wald).
    """
    from etl.analysis.cox import EfronCoxFitter  # imports lifelines: only when fitting

    data = frame[[duration, event, *covariates]].dropna().astype(float)
    with warnings.catch_warnings():  # a failed fit raises; numerical notes are noise here
        warnings.simplefilter("ignore")
        fitter = EfronCoxFitter().fit(data, duration_col=duration, event_col=event,
                                      fit_options={"precision": 1e-12})
    summary = fitter.summary
    return pd.DataFrame({
        "covariate": summary.index.to_list(),
        "hazard_ratio": summary["exp(coef)"].to_numpy(),
        "ci_lower": summary["exp(coef) lower 95%"].to_numpy(),
        "ci_upper": summary["exp(coef) upper 95%"].to_numpy(),
        "p_value": summary["p"].to_numpy(),
    })

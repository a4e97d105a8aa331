"""The published survival tables (km_curve, km_summary, km_logrank, cox_hazard_ratios),
built by dbt Python models from ``intermediate.int_survival_cohort``.

Which factors stratify the curves and which adjust the Cox model is data: the seed
``codes.survival_factors``. A factor applies to the regular episodes (one per patient, so
the observations are independent) unless the seed says ``all`` (phase: regular against
salvage episodes). Rows with an unknown factor value are left out of that factor's
strata and counted in ``km_summary.n_unknown``.
"""

from collections.abc import Iterator

import numpy as np
import pandas as pd

from etl.analysis.survival import (
    cox_hazard_ratios,
    km_curve,
    log_rank,
    median_follow_up,
    median_survival,
)

KEYS = ["endpoint", "criterion"]
TEXT, NUMBER, COUNT = "string", "float64", "Int64"
# Column types of each table: fixed, so an all-null column (a median never reached) keeps
# its type and the analytic views' contracts hold on every night.
CURVE = {"endpoint": TEXT, "criterion": TEXT, "factor": TEXT, "stratum": TEXT,
         "days": NUMBER, "months": NUMBER, "survival": NUMBER, "ci_lower": NUMBER,
         "ci_upper": NUMBER, "at_risk": COUNT, "events": COUNT, "censored": COUNT}
SUMMARY = {"endpoint": TEXT, "criterion": TEXT, "factor": TEXT, "stratum": TEXT, "n": COUNT,
           "events": COUNT, "n_unknown": COUNT, "median_days": NUMBER,
           "median_ci_lower_days": NUMBER, "median_ci_upper_days": NUMBER,
           "median_follow_up_days": NUMBER, "median_months": NUMBER,
           "median_ci_lower_months": NUMBER, "median_ci_upper_months": NUMBER,
           "median_follow_up_months": NUMBER}
LOG_RANK = {"endpoint": TEXT, "criterion": TEXT, "factor": TEXT, "strata": TEXT, "n": COUNT,
            "events": COUNT, "chi_square": NUMBER, "degrees_of_freedom": COUNT,
            "p_value": NUMBER}
COX = {"endpoint": TEXT, "criterion": TEXT, "covariate": TEXT, "n": COUNT, "events": COUNT,
       "hazard_ratio": NUMBER, "ci_lower": NUMBER, "ci_upper": NUMBER, "p_value": NUMBER,
       "note": TEXT}


def _typed(rows: list[dict] | pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(columns))
    return frame.astype(columns)


def _label(value: object) -> str:
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    return str(value)


def _labels(values: pd.Series) -> np.ndarray:
    """``_label`` of each value (None where unknown), made once per distinct value: a
    factor has a few levels, the cohort a row per episode, endpoint and criterion."""
    codes, levels = pd.factorize(values)
    return np.array([*map(_label, levels), None], dtype=object)[codes]  # -1: the None


def strata(cohort: pd.DataFrame, factors: pd.DataFrame, columns: list[str]
           ) -> Iterator[tuple[tuple, str, pd.DataFrame, int]]:
    """(endpoint, criterion), factor, the ``columns`` of the episodes of the factor's
    population whose factor is known, with their ``stratum`` label, and how many episodes
    had the factor unknown. An (endpoint, criterion) whose factor is unknown throughout
    has no stratum and is not yielded.

    The cohort is grouped and each factor labelled once, not per stratum: at registry
    scale this was most of the survival tables' time."""
    cohort = cohort.assign(all="all")  # the unstratified curve: one level for everybody
    by_key = cohort.groupby(KEYS, sort=True).indices  # sorted keys -> row positions
    table = cohort[columns]
    phases = {}
    for _, factor in factors[factors["stratify"]].iterrows():
        name, episodes = factor["factor"], factor["episodes"]
        if episodes not in phases:
            phases[episodes] = (np.ones(len(cohort), dtype=bool) if episodes == "all"
                                else (cohort["phase"] == episodes).to_numpy())
        labels = _labels(cohort[name])
        known = pd.notna(labels)
        for key, positions in by_key.items():
            members = positions[phases[episodes][positions]]
            present = members[known[members]]
            if len(present):
                yield (key, name, table.iloc[present].assign(stratum=labels[present]),
                       len(members) - len(present))


def km_curves(cohort: pd.DataFrame, factors: pd.DataFrame, days_per_month: float,
              tolerance: float) -> pd.DataFrame:
    """Kaplan–Meier curve per endpoint × criterion × factor × stratum × time; months =
    days / ``days_per_month``, bands undefined where S(t) ≤ ``tolerance`` (dbt vars)."""
    parts = []
    for (endpoint, criterion), factor, episodes, _ in strata(cohort, factors,
                                                             ["days", "is_event"]):
        for stratum, group in episodes.groupby("stratum", sort=True):
            curve = km_curve(group["days"], group["is_event"].astype(int),
                             tolerance)
            parts.append(curve.assign(endpoint=endpoint, criterion=criterion,
                                      factor=factor, stratum=stratum))
    if not parts:
        return _typed([], CURVE)
    curves = pd.concat(parts, ignore_index=True).rename(columns={"time": "days"})
    curves["months"] = curves["days"] / days_per_month
    return _typed(curves, CURVE)


def km_summaries(cohort: pd.DataFrame, factors: pd.DataFrame, days_per_month: float,
                 tolerance: float) -> pd.DataFrame:
    """Median with 95 % CI, events, n and median follow-up per stratum (spec §8: the
    first time at or below 0.5, compared with ``tolerance``)."""
    episode = ["site", "patient_pseudonym", "episode_no", "criterion"]
    follow_up = cohort.loc[cohort["endpoint"] == "OS", [*episode, "days", "is_event"]]
    cohort = cohort.merge(follow_up.rename(columns={"days": "os_days", "is_event": "os_event"}),
                          on=episode, how="left", validate="many_to_one")  # once, not per stratum
    rows = []
    for (endpoint, criterion), factor, episodes, unknown in strata(
            cohort, factors, ["days", "is_event", "os_days", "os_event"]):
        for stratum, group in episodes.groupby("stratum", sort=True):
            median = median_survival(km_curve(group["days"], group["is_event"].astype(int),
                                              tolerance), tolerance)
            os_rows = group[group["os_days"].notna()]
            reverse = median_follow_up(os_rows["os_days"], os_rows["os_event"].astype(int),
                                       tolerance)
            rows.append({
                "endpoint": endpoint, "criterion": criterion, "factor": factor,
                "stratum": stratum, "n": len(group), "events": int(group["is_event"].sum()),
                "n_unknown": unknown,
                "median_days": median.median, "median_ci_lower_days": median.lower,
                "median_ci_upper_days": median.upper,
                "median_follow_up_days": reverse.median,
            })
    summary = _typed(rows, {k: v for k, v in SUMMARY.items() if not k.endswith("_months")})
    for column in ["median", "median_ci_lower", "median_ci_upper", "median_follow_up"]:
        summary[f"{column}_months"] = summary[f"{column}_days"] / days_per_month
    return _typed(summary, SUMMARY)


def log_rank_tests(cohort: pd.DataFrame, factors: pd.DataFrame) -> pd.DataFrame:
    """Log-rank test per endpoint × criterion × factor with at least two strata."""
    rows = []
    for (endpoint, criterion), factor, episodes, _ in strata(cohort, factors,
                                                             ["days", "is_event"]):
        if factor == "all" or episodes["stratum"].nunique() < 2:
            continue
        test = log_rank(episodes["days"], episodes["is_event"].astype(int),
                        episodes["stratum"])
        rows.append({"endpoint": endpoint, "criterion": criterion, "factor": factor,
                     "strata": " | ".join(sorted(episodes["stratum"].unique())),
                     "n": len(episodes), "events": int(episodes["is_event"].sum()),
                     "chi_square": test.chi_square,
                     "degrees_of_freedom": test.degrees_of_freedom,
                     "p_value": test.p_value})
    return _typed(rows, LOG_RANK)


def _without_events_at_a_level(data: pd.DataFrame, covariates: list[str]) -> list[str]:
    """Binary covariates with no event at one of their two levels: the partial likelihood
    has no maximum there (an infinite hazard ratio), so they cannot enter the model."""
    return [c for c in covariates if data[c].nunique() == 2
            and (data.groupby(c)["event"].sum() == 0).any()]


def cox_models(cohort: pd.DataFrame, factors: pd.DataFrame, min_events_per_covariate: int
               ) -> pd.DataFrame:
    """Hazard ratios with 95 % CI of the adjusting factors, one Cox model per endpoint ×
    criterion on the regular episodes with every factor known (complete cases). A binary
    factor without events at one level is left out of that model, and a model with fewer
    than ``min_events_per_covariate`` events per covariate (dbt var; rule of thumb 10) is
    not fitted; the rows say so in ``note``."""
    from lifelines.exceptions import ConvergenceError

    covariates = factors.loc[factors["adjust"], "factor"].to_list()
    rows = []
    regular = cohort[cohort["phase"] == "regular"]
    for (endpoint, criterion), group in regular.groupby(KEYS, sort=True):
        complete = group.assign(event=group["is_event"].astype(int)).dropna(subset=covariates)
        base = {"endpoint": endpoint, "criterion": criterion, "n": len(complete),
                "events": int(complete["event"].sum())}
        left_out = _without_events_at_a_level(complete, covariates)
        rows += [{**base, "covariate": c, "note": "left out: no events at one level"}
                 for c in left_out]
        kept = [c for c in covariates if c not in left_out]
        if base["events"] < min_events_per_covariate * len(kept):
            rows += [{**base, "covariate": c, "note": f"not fitted: fewer than "
                      f"{min_events_per_covariate} events per covariate"} for c in kept]
            continue
        try:
            ratios = cox_hazard_ratios(complete, "days", "event", kept)
        except (ConvergenceError, ValueError, ZeroDivisionError) as error:
            rows += [{**base, "covariate": c, "note": f"not estimable: {error}"[:200]}
                     for c in kept]
            continue
        rows += [{**base, **r, "note": None} for r in ratios.to_dict("records")]
    return _typed(rows, COX)

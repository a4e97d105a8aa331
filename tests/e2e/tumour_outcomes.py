"""Spec §3–§5 (tumour response, best response, time to event) written out in plain Python,
independently of the dbt models, to check the published marts against a generated cohort."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
import pytest

TOL = 1e-9
SEVERITY = ["CR", "PR", "MR", "SD", "NE", "PD"]  # spec §8: on one date the worst counts


@dataclass(frozen=True)
class Criterion:
    """Spec §3 thresholds of one criterion, written out here rather than read from dbt."""

    bone_only: bool
    progression_percent: float
    progression_min_mm: float | None
    partial_percent: float
    minor_percent: float | None
    lymph_node_below_mm: float | None


CRITERIA = {
    "SWOG": Criterion(False, 25, None, -50, -25, None),
    "RECIST11": Criterion(False, 20, 5, -30, None, 10),
    "MMDA": Criterion(True, 25, None, -50, -25, None),
}

Episode = tuple[int, date, date, date | None]  # episode_no, C1D1, last cycle, next C1D1


def lesions_by_patient(view: dict[str, pd.DataFrame], key) -> dict[str, dict[date, list]]:
    """pseudonym -> exam date -> lesion records (exams without lesions keep an empty list)."""
    exams: dict[str, dict[date, list]] = defaultdict(lambda: defaultdict(list))
    for exam in view["imaging_exam"].itertuples():
        exams[key(exam.patient_id)].setdefault(exam.exam_date, [])
    for lesion in view["lesion_measurement"].itertuples():
        diameter = None if pd.isna(lesion.diameter_mm) else float(lesion.diameter_mm)
        exams[key(lesion.patient_id)][lesion.exam_date].append(
            (lesion.lesion_id, lesion.organ, bool(lesion.is_target), diameter,
             bool(lesion.is_new)))
    return exams


def responses(exams: dict[date, list], episode: Episode, name: str) -> list[tuple]:
    """[(exam date, category, % change from baseline)] of one episode under one criterion."""
    rule = CRITERIA[name]
    _, c1d1, _, following = episode
    baseline_dates = [d for d in exams if c1d1 - timedelta(120) <= d <= c1d1]
    if not baseline_dates:
        return []
    at_baseline = exams[max(baseline_dates)]
    in_set = {lid: (organ, diameter) for lid, organ, target, diameter, _ in at_baseline
              if diameter is not None and (organ == "bone" if rule.bone_only else target)}
    if not in_set:
        return []
    baseline_ids = {lid for lid, *_ in at_baseline}
    baseline_sum = sum(d for _, d in in_set.values())
    complete_sums, rows = [], []
    for when in sorted(d for d in exams if d > c1d1 and (following is None or d < following)):
        measured = {lid: diameter for lid, _, _, diameter, _ in exams[when]
                    if lid in in_set and diameter is not None}
        total = sum(measured.values())
        new = any(is_new and lid not in baseline_ids and (organ == "bone" or not rule.bone_only)
                  for lid, organ, _, _, is_new in exams[when])
        nadir = min([baseline_sum, *complete_sums])
        if nadir > 0:
            pct_nadir = 100 * (total - nadir) / nadir
            grown = pct_nadir >= rule.progression_percent - TOL and (
                rule.progression_min_mm is None or total - nadir >= rule.progression_min_mm - TOL)
        else:
            grown = total > TOL and (rule.progression_min_mm is None
                                     or total >= rule.progression_min_mm - TOL)
        pct = 100 * (total - baseline_sum) / baseline_sum if baseline_sum > 0 else None
        resolved = len(measured) == len(in_set) and all(
            d == 0 or (rule.lymph_node_below_mm is not None and in_set[lid][0] == "lymph_node"
                       and d < rule.lymph_node_below_mm) for lid, d in measured.items())
        if grown or new:
            category = "PD"
        elif len(measured) < len(in_set):
            category = "NE"
        elif resolved:
            category = "CR"
        elif pct is not None and pct <= rule.partial_percent + TOL:
            category = "PR"
        elif pct is not None and rule.minor_percent is not None and pct <= rule.minor_percent + TOL:
            category = "MR"
        else:
            category = "SD"
        if len(measured) == len(in_set):
            complete_sums.append(total)
        rows.append((when, category, pct))
    return rows


def best_response(rows: list[tuple], c1d1: date, minor: bool) -> tuple[str, str]:
    """(unconfirmed, confirmed) best overall response of spec §4 and §8."""
    worst: dict[date, str] = {}
    for when, category, _ in rows:
        if when not in worst or SEVERITY.index(category) > SEVERITY.index(worst[when]):
            worst[when] = category
    series = []
    for when in sorted(worst):
        series.append((when, worst[when]))
        if worst[when] == "PD":
            break

    def confirmed(i: int) -> str:
        when, category = series[i]
        allowed = {"CR": {"CR"}, "PR": {"CR", "PR"}}
        for wanted in ("CR", "PR"):
            if category == "PR" and wanted == "CR":
                continue
            for j in range(i + 1, len(series)):
                later, later_category = series[j]
                between = [c for _, c in series[i + 1:j]]
                if (later >= when + timedelta(28) and later_category in allowed[wanted]
                        and set(between) <= allowed[wanted] | {"NE"}
                        and between.count("NE") <= 1):
                    return wanted
        return "SD" if (when - c1d1).days >= 42 else "NE"

    def best(categories: list[tuple[date, str]]) -> str:
        found = {c for _, c in categories}
        for category in ("CR", "PR") + (("MR",) if minor else ()):
            if category in found:
                return category
        if any(c in ("CR", "PR", "MR", "SD") and (d - c1d1).days >= 42 for d, c in categories):
            return "SD"
        return "PD" if "PD" in found else "NE" if found else "MISSING"

    confirmed_series = [(d, confirmed(i) if c in ("CR", "PR") else c)
                        for i, (d, c) in enumerate(series)]
    return best(series), best(confirmed_series)


def time_to_event(rows: list[tuple], episode: Episode, death: date | None, dead: bool,
                  last_alive: date) -> dict[str, tuple[int, bool, str]]:
    """endpoint -> (days, event, reason) of spec §5 and §8."""
    _, c1d1, _, following = episode
    progression = min((d for d, c, _ in rows if c == "PD"), default=None)
    adequate = max((d for d, c, _ in rows if c != "NE"), default=None)
    in_window = death if death and death >= c1d1 and (following is None or death < following) \
        else None

    def days(end: date) -> int:
        return (end - c1d1).days + 1

    censored = ((days(adequate), False, "last_adequate_assessment") if adequate
                else (1, False, "no_adequate_assessment"))
    ttp = (days(progression), True, "progression") if progression else censored
    if progression and (in_window is None or progression <= in_window):
        pfs = ttp
    elif in_window:
        pfs = (days(in_window), True, "death")
    else:
        pfs = censored
    os_ = ((days(death or last_alive), True, "death") if dead
           else (days(last_alive), False, "last_contact"))
    return {"TTP": ttp, "PFS": pfs, "OS": os_}


def last_known_alive(view: dict[str, pd.DataFrame], key) -> dict[str, date]:
    """pseudonym -> the latest date of the patient in any table but the death date."""
    latest: dict[str, date] = {}
    for table, column in (("treatment_cycle", "cycle_date"), ("qlq_c30_assessment",
                          "assessment_date"), ("performance_status", "assessment_date"),
                          ("lab_result", "sample_date"), ("imaging_exam", "exam_date"),
                          ("lesion_measurement", "exam_date"), ("adverse_event", "onset_date"),
                          ("vital_status", "last_contact_date")):
        for patient_id, when in zip(view[table]["patient_id"], view[table][column], strict=True):
            if when is not None and not pd.isna(when):
                latest[key(patient_id)] = max(latest.get(key(patient_id), when), when)
    return latest


def assert_tumour_outcomes_match(release_rows, view: dict[str, pd.DataFrame],
                                 episodes: dict[str, list[Episode]], key) -> None:
    """fct_tumour_response, fct_best_response and fct_time_to_event against §3–§5 in Python.

    ``view``: the tables as the centre delivered them; ``key``: centre id -> pseudonym.
    """
    exams = lesions_by_patient(view, key)
    alive = last_known_alive(view, key)
    vital = {key(v.patient_id): (bool(v.is_dead), None if pd.isna(v.death_date) else v.death_date)
             for v in view["vital_status"].itertuples()}
    expected_rows, expected_best, expected_tte = {}, {}, {}
    for patient, patient_episodes in episodes.items():
        for episode in patient_episodes:
            number, c1d1 = episode[0], episode[1]
            for name in CRITERIA:
                rows = responses(exams.get(patient, {}), episode, name)
                for when, category, pct in rows:
                    expected_rows[patient, number, name, when] = (category, pct)
                expected_best[patient, number, name] = best_response(
                    rows, c1d1, CRITERIA[name].minor_percent is not None)
                dead, death = vital.get(patient, (False, None))
                for endpoint, value in time_to_event(rows, episode, death, dead,
                                                     alive[patient]).items():
                    expected_tte[patient, number, endpoint, name] = value

    published = {(p, n, c, d): (cat, pct) for p, n, c, d, cat, pct in release_rows(
        "SELECT patient_pseudonym, episode_no, criterion, exam_date, category, "
        "percent_change_from_baseline FROM marts.fct_tumour_response")}
    assert published.keys() == expected_rows.keys()
    for key_, (category, pct) in expected_rows.items():
        assert published[key_][0] == category, key_
        assert published[key_][1] == pytest.approx(pct, abs=1e-9), key_
    assert {c for c, _ in expected_rows.values()} >= {"PR", "MR", "SD", "PD"}

    best = {(p, n, c): (b, cb) for p, n, c, b, cb in release_rows(
        "SELECT patient_pseudonym, episode_no, criterion, best_response, "
        "confirmed_best_response FROM marts.fct_best_response")}
    assert best == expected_best
    assert {b for b, _ in expected_best.values()} >= {"PR", "MR", "SD", "MISSING"}

    tte = {(p, n, e, c): (days, event, reason) for p, n, e, c, days, event, reason
           in release_rows("SELECT patient_pseudonym, episode_no, endpoint, criterion, days, "
                           "is_event, reason FROM marts.fct_time_to_event")}
    assert tte == expected_tte
    assert {r for _, _, r in expected_tte.values()} >= {
        "progression", "death", "last_adequate_assessment", "last_contact"}

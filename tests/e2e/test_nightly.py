"""The whole night as a user runs it: `prrt` in a subprocess, synthetic deliveries."""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from functools import partial

import duckdb
import pytest

from etl.pseudonym import pseudonym
from etl.synth import WRITERS, write_deliveries, write_nights
from etl.synth.nights import night_truth
from tests.conftest import (
    PRRT,
    ROT_SAMPLE_PATIENT_IDS,
    TEST_KEY,
    prrt,
    release_rows,
    text_columns_containing,
)
from tests.e2e.tumour_outcomes import assert_tumour_outcomes_match

EXPORT = "2024-06-01"


def test_nightly_publishes_marts_that_match_the_generated_truth(settings):
    write_deliveries(settings.inbox, 40, 7, ["ROT"], EXPORT)
    night = prrt(settings, "nightly")
    assert night.returncode == 0, night.stderr

    truth: dict[tuple[str, str], tuple[int, Decimal]] = defaultdict(lambda: (0, Decimal(0)))
    tables, _, _ = night_truth("ROT", 40, 7, EXPORT, night=1, faults=False)
    for cycle in tables["treatment_cycle"].itertuples():
        key = (pseudonym("ROT", cycle.patient_id, TEST_KEY.encode()), cycle.phase)
        count, total = truth[key]
        truth[key] = (count + 1, total + cycle.administered_activity_gbq)
    published = {
        (pseudonym_, phase): (cycles, Decimal(str(gbq)).normalize())
        for pseudonym_, phase, cycles, gbq in release_rows(
            settings, "SELECT patient_pseudonym, phase, cycles_given, cumulative_activity_gbq "
                      "FROM marts.fct_treatment_episode")
    }
    assert published == {k: (n, total.normalize()) for k, (n, total) in truth.items()}
    assert release_rows(settings, "SELECT count(*) FROM marts.dim_patient") == [
        (len(tables["patient"]),)]
    scores = assert_qlq_scores_match(settings, tables)
    assert_deltas_match(settings, tables, scores)
    assert_biomarkers_match(settings, tables)
    assert_toxicity_matches(settings, tables)
    assert_tumour_outcomes_match(
        partial(release_rows, settings), WRITERS["ROT"].centre_view(tables), episodes_of(tables),
        partial(pseudonym, "ROT", key=TEST_KEY.encode()))
    # The release holds marts, analytics and code lists only: no raw rows, no audit trail.
    schemas = {s for (s,) in release_rows(settings, "SELECT DISTINCT schema_name FROM "
                                                    "duckdb_tables()")}
    assert schemas == {"marts", "codes", "analytics", "main"}

    again = prrt(settings, "nightly")
    assert again.returncode == 0
    assert "already loaded" in again.stderr and "nothing new" in again.stderr


QLQ_SCALES = {  # spec §1: items, item range, kind; written out here independently of dbt
    "QL2": ([29, 30], 6, "global"), "PF2": ([1, 2, 3, 4, 5], 3, "functional"),
    "RF2": ([6, 7], 3, "functional"), "EF": ([21, 22, 23, 24], 3, "functional"),
    "CF": ([20, 25], 3, "functional"), "SF": ([26, 27], 3, "functional"),
    "FA": ([10, 12, 18], 3, "symptom"), "NV": ([14, 15], 3, "symptom"),
    "PA": ([9, 19], 3, "symptom"), "DY": ([8], 3, "symptom"), "SL": ([11], 3, "symptom"),
    "AP": ([13], 3, "symptom"), "CO": ([16], 3, "symptom"), "DI": ([17], 3, "symptom"),
    "FI": ([28], 3, "symptom"),
}


def qlq_scores(answers: dict[int, int]) -> dict[str, float | None]:
    scores: dict[str, float | None] = {}
    for scale, (items, item_range, kind) in QLQ_SCALES.items():
        given = [answers[i] for i in items if i in answers]
        if 2 * len(given) < len(items):
            scores[scale] = None
            continue
        raw = sum(given) / len(given)
        scores[scale] = (100 * (1 - (raw - 1) / item_range) if kind == "functional"
                         else 100 * (raw - 1) / item_range)
    summary = [scale for scale in QLQ_SCALES if scale not in ("QL2", "FI")]
    if all(scores[s] is not None for s in summary):
        scores["C30SUM"] = sum(scores[s] if QLQ_SCALES[s][2] == "functional"
                               else 100 - scores[s] for s in summary) / len(summary)
    else:
        scores["C30SUM"] = None
    return scores


def assert_qlq_scores_match(settings, tables) -> None:
    """marts.fct_qlq_c30_scores against the generator's answers, scored in Python."""
    answers: dict[tuple[str, object], dict[int, int]] = defaultdict(dict)
    for item in tables["qlq_c30_item_response"].itertuples():
        key = (pseudonym("ROT", item.patient_id, TEST_KEY.encode()), item.assessment_date)
        answers[key][int(item.item_no)] = int(item.response)
    expected = {(*key, scale): score for key, given in answers.items()
                for scale, score in qlq_scores(given).items()}
    published = {(p, d, s): score for p, d, s, score in release_rows(
        settings, "SELECT patient_pseudonym, assessment_date, scale, score "
                  "FROM marts.fct_qlq_c30_scores")}
    assert published.keys() == expected.keys()
    for key, score in expected.items():
        assert (published[key] is None) == (score is None), key
        if score is not None:
            assert published[key] == pytest.approx(score, abs=1e-9), key
    return expected


WINDOWS = {"FU6W": (21, 76, 42), "M6": (77, 273, 182), "M12": (274, 456, 365)}  # spec §2


def episodes_of(tables) -> dict[str, list[tuple[int, date, date, date | None]]]:
    """(episode_no, C1D1, last cycle, next C1D1) per pseudonym, from the truth's cycles."""
    courses: dict[str, dict[str, list[date]]] = defaultdict(lambda: defaultdict(list))
    for cycle in tables["treatment_cycle"].itertuples():
        courses[pseudonym("ROT", cycle.patient_id, TEST_KEY.encode())][cycle.phase].append(
            cycle.cycle_date)
    result = {}
    for patient, phases in courses.items():
        ordered = sorted((min(d), max(d)) for d in phases.values())
        result[patient] = [(n + 1, c1d1, last, ordered[n + 1][0] if n + 1 < len(ordered)
                            else None) for n, (c1d1, last) in enumerate(ordered)]
    return result


def expected_deltas(episodes, scores, lower_is_better) -> dict[tuple, tuple]:
    """(pseudonym, episode, window, scale) -> (delta, class), computed from spec §2."""
    by_series: dict[tuple[str, str], list[tuple[date, float]]] = defaultdict(list)
    for (patient, when, scale), score in scores.items():
        if score is not None:
            by_series[patient, scale].append((when, score))
    expected = {}
    for (patient, scale), series in by_series.items():
        for number, c1d1, last, following in episodes.get(patient, []):
            base = [(d, v) for d, v in series if c1d1 - timedelta(42) <= d <= c1d1]
            baseline = max(base)[1] if base else None
            for window, (start, end, target) in WINDOWS.items():
                inside = [(d, v) for d, v in series
                          if last + timedelta(start) <= d <= last + timedelta(end)
                          and (following is None or d < following)]
                aim = last + timedelta(target)
                chosen = min(inside, key=lambda dv: (abs((dv[0] - aim).days),
                                                     -dv[0].toordinal()))[1] if inside else None
                if baseline is None and chosen is None:
                    continue
                delta = chosen - baseline if None not in (baseline, chosen) else None
                sign = -1 if lower_is_better(scale) else 1
                kind = None if delta is None else (
                    "improved" if sign * delta >= 10 - 1e-9 else
                    "worsened" if sign * delta <= -10 + 1e-9 else "unchanged")
                expected[patient, number, window, scale] = (delta, kind)
    return expected


def assert_deltas_match(settings, tables, qlq_scores_by_key) -> None:
    """Both delta marts against spec §2 applied in Python to the generator's truth."""
    episodes = episodes_of(tables)
    symptom = {s for s, (_, _, kind) in QLQ_SCALES.items() if kind == "symptom"}
    kps: dict[tuple, float] = {}
    for row in tables["performance_status"].itertuples():
        key = (pseudonym("ROT", row.patient_id, TEST_KEY.encode()), row.assessment_date, "KPS")
        kps[key] = min(float(row.score), kps.get(key, 1000.0))
    for mart, scores in (("fct_qol_score_deltas", qlq_scores_by_key),
                         ("fct_performance_deltas", kps)):
        expected = expected_deltas(episodes, scores, lambda scale: scale in symptom)
        published = {(p, n, w, s): (d, c) for p, n, w, s, d, c in release_rows(
            settings, f'SELECT patient_pseudonym, episode_no, "window", scale, delta, '
                      f"classification FROM marts.{mart}")}
        assert published.keys() == expected.keys(), mart
        assert {kind for _, kind in expected.values()} >= {"improved", "worsened", None}, mart
        for key, (delta, kind) in expected.items():
            got_delta, got_kind = published[key]
            assert got_kind == kind, (mart, key)
            assert (got_delta is None) == (delta is None), (mart, key)
            if delta is not None:
                assert got_delta == pytest.approx(delta, abs=1e-9), (mart, key)


def assert_biomarkers_match(settings, tables) -> None:
    """marts.fct_biomarker_response against spec §7 applied to the values ROT reports."""
    labs = WRITERS["ROT"].centre_view(tables)["lab_result"]
    series: dict[tuple[str, str], list[tuple[date, float]]] = defaultdict(list)
    for lab in labs[labs["analyte"].isin(["CGA", "NSE"])].itertuples():
        patient = pseudonym("ROT", lab.patient_id, TEST_KEY.encode())
        series[patient, lab.analyte].append((lab.sample_date, float(lab.value)))
    expected = {}
    for patient, episodes in episodes_of(tables).items():
        for number, c1d1, last, following in episodes:
            row = {}
            for analyte in ("CGA", "NSE"):
                values = series.get((patient, analyte), [])
                base = [(d, v) for d, v in values if c1d1 - timedelta(42) <= d <= c1d1]
                baseline = max(base)[1] if base else None
                after = [(v, d) for d, v in values if c1d1 < d <= last + timedelta(182)
                         and (following is None or d < following)]
                nadir = min(after)[0] if after else None
                change = (100 * (nadir - baseline) / baseline
                          if None not in (baseline, nadir) else None)
                row[analyte] = (baseline, nadir, change)
            expected[patient, number] = row
    published = {(p, n): {"CGA": (cb, cn, cp), "NSE": (nb, nn, np_)}
                 for p, n, cb, cn, cp, nb, nn, np_ in release_rows(
                     settings, "SELECT patient_pseudonym, episode_no, cga_baseline_ng_ml, "
                               "cga_nadir_ng_ml, cga_percent_change, nse_baseline_ng_ml, "
                               "nse_nadir_ng_ml, nse_percent_change "
                               "FROM marts.fct_biomarker_response")}
    assert published.keys() == expected.keys()
    compared = 0
    for key, row in expected.items():
        for analyte, values in row.items():
            for want, got in zip(values, published[key][analyte], strict=True):
                assert (want is None) == (got is None), (key, analyte)
                if want is not None:
                    assert got == pytest.approx(want, rel=1e-9), (key, analyte)
                    compared += 1
    assert compared > 50


TOXICITY = {  # spec §6: term -> (analyte, direction, grade thresholds G1..G4)
    "Platelet count decreased": ("PLT", ["LLN", 75, 50, 25]),
    "Anemia": ("HGB", ["LLN", 10.0, 8.0]),
    "Neutrophil count decreased": ("NEUT", ["LLN", 1.5, 1.0, 0.5]),
    "White blood cell decreased": ("WBC", ["LLN", 3.0, 2.0, 1.0]),
    "Lymphocyte count decreased": ("LYMPH", ["LLN", 0.8, 0.5, 0.2]),
}
LLN = {"PLT": 150, "NEUT": 2.0, "WBC": 4.0, "LYMPH": 1.0}


def lab_grade(analyte: str, value: float, sex: str, baseline: float | None) -> int:
    if analyte == "CREAT":
        uln = {"female": 90, "male": 110}[sex]
        limits = [(4, 6 * uln), (3, 3 * uln), (3, 3 * (baseline or float("inf"))),
                  (2, 1.5 * uln), (2, 1.5 * (baseline or float("inf"))), (1, uln)]
        return max([g for g, limit in limits if value > limit + 1e-9], default=0)
    term = next(t for t, (a, _) in TOXICITY.items() if a == analyte)
    lln = {"female": 12.0, "male": 13.0}[sex] if analyte == "HGB" else LLN[analyte]
    thresholds = [lln if t == "LLN" else t for t in TOXICITY[term][1]]
    return max([g for g, t in enumerate(thresholds, 1) if value < t - 1e-9], default=0)


def assert_toxicity_matches(settings, tables) -> None:
    """marts.fct_haematological_toxicity (lab-derived grades) against spec §6 in Python."""
    sexes = {pseudonym("ROT", p.patient_id, TEST_KEY.encode()): p.sex
             for p in tables["patient"].itertuples()}
    labs = WRITERS["ROT"].centre_view(tables)["lab_result"]
    series: dict[tuple[str, str], list[tuple[date, float]]] = defaultdict(list)
    for lab in labs.itertuples():
        series[pseudonym("ROT", lab.patient_id, TEST_KEY.encode()), lab.analyte].append(
            (lab.sample_date, float(lab.value)))
    terms = {**{t: a for t, (a, _) in TOXICITY.items()}, "Creatinine increased": "CREAT"}
    expected = {}
    for patient, episodes in episodes_of(tables).items():
        for number, c1d1, last, following in episodes:
            for term, analyte in terms.items():
                values = series.get((patient, analyte), [])
                base = [(d, v) for d, v in values if c1d1 - timedelta(42) <= d <= c1d1]
                last_base = max((d for d, _ in base), default=None)
                baseline_value = max((v for d, v in base if d == last_base), default=None)
                on_treatment = [v for d, v in values if c1d1 < d <= last + timedelta(90)
                                and (following is None or d < following)]
                sex = sexes[patient]
                expected[patient, number, term] = (
                    max((lab_grade(analyte, v, sex, baseline_value)
                         for d, v in base if d == last_base), default=None),
                    max((lab_grade(analyte, v, sex, baseline_value) for v in on_treatment),
                        default=None))
    published = {(p, n, t): (b, w) for p, n, t, b, w in release_rows(
        settings, "SELECT patient_pseudonym, episode_no, term, baseline_grade, "
                  "worst_lab_grade FROM marts.fct_haematological_toxicity")}
    assert published == expected
    assert {w for _, w in expected.values()} >= {0, 1, 2}


def test_no_centre_patient_id_reaches_the_warehouse_or_the_release(settings, rot_inbox):
    assert prrt(settings, "nightly").returncode == 0
    files = [p for p in settings.home.rglob("*") if p.is_file() and "inbox" not in p.parts]
    assert any(p.name == "warehouse.duckdb" for p in files)
    for path in files:
        content = path.read_bytes()
        for patient_id in ROT_SAMPLE_PATIENT_IDS:
            assert patient_id.encode() not in content, f"{patient_id} found in {path}"
    for database in (settings.warehouse_path, settings.current_link / "warehouse.duckdb"):
        assert text_columns_containing(database, ROT_SAMPLE_PATIENT_IDS) == []


def test_the_report_of_a_small_registry_names_the_patients_it_draws(settings, rot_inbox):
    """The swimmer plot draws up to 30 patients; its caption counts the ones drawn."""
    night = prrt(settings, "nightly")
    assert night.returncode == 0, night.stderr
    assert "UserWarning" not in night.stderr
    [(treated,)] = release_rows(settings, "SELECT count(DISTINCT (site, patient_pseudonym)) "
                                          "FROM analytics.treatment_episodes")
    assert 1 < treated < 30
    page = (settings.current_link / "report.html").read_text(encoding="utf-8")
    assert f"Swimmer plot of {treated} patients (" in page


def patients_on_night(night: int, patients: int = 20, seed: int = 1) -> int:
    tables, _, _ = night_truth("ROT", patients, seed, EXPORT, night=night, faults=False)
    return len(tables["patient"])


def test_readers_query_current_while_a_night_runs(settings):
    write_deliveries(settings.inbox, 20, 1, ["ROT"], EXPORT)
    assert prrt(settings, "nightly").returncode == 0
    first, second = patients_on_night(1), patients_on_night(2)
    assert first != second
    reader_script = (
        "import duckdb, sys, time\n"
        "path, seconds = sys.argv[1], float(sys.argv[2])\n"
        "end, queries = time.time() + seconds, 0\n"
        "while time.time() < end:\n"
        "    with duckdb.connect(path, read_only=True) as c:\n"
        "        n = c.sql('SELECT count(*) FROM marts.dim_patient').fetchone()[0]\n"
        f"        assert n in ({first}, {second}), n\n"
        "    queries += 1\n"
        "print(queries)\n"
    )
    reader = subprocess.Popen(
        [sys.executable, "-c", reader_script,
         str(settings.current_link / "warehouse.duckdb"), "25"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1)
    write_deliveries(settings.inbox, 20, 1, ["ROT"], EXPORT, night=2)
    night = prrt(settings, "nightly")
    out, errors = reader.communicate(timeout=120)
    assert night.returncode == 0, night.stderr
    assert reader.returncode == 0, errors
    assert int(out) > 10
    assert release_rows(settings, "SELECT count(*) FROM marts.dim_patient") == [(second,)]


def test_a_load_left_unpublished_is_published_by_the_next_night(settings):
    write_deliveries(settings.inbox, 40, 3, ["ROT"], EXPORT)
    assert prrt(settings, "nightly").returncode == 0
    assert release_rows(settings, "SELECT count(*) FROM marts.dim_patient") == [(40,)]
    # `prrt load` writes raw rows without building or publishing (as after a failed build).
    write_deliveries(settings.inbox, 40, 3, ["ROT"], EXPORT, night=2)
    assert prrt(settings, "load").returncode == 0
    night = prrt(settings, "nightly")
    assert night.returncode == 0, night.stderr
    assert "already loaded" in night.stderr
    assert release_rows(settings, "SELECT count(*) FROM marts.dim_patient") == [
        (patients_on_night(2, 40, 3),)]


def built_per_patient(settings) -> list[str]:
    """Every model derived again only for the patients whose records changed
    (dbt_project/macros/changed_patients.sql: materialized incremental), as schema.name,
    from the manifest of the last build: a model made per patient later is checked too."""
    manifest = json.loads((settings.build_dir / "dbt_target" / "manifest.json").read_text())
    return sorted(f"{node['schema']}.{node['name']}" for node in manifest["nodes"].values()
                  if node["resource_type"] == "model"
                  and node["config"]["materialized"] == "incremental")


def test_a_later_night_derives_again_only_what_changed_as_a_whole_build_would(
        settings, tmp_path):
    # Seed 3, 60 patients, 91 days on: one patient withdrawn, two new, new questionnaires
    # and exams for some of the others; the rest resent unchanged.
    inboxes = {1: tmp_path / "night1", 2: tmp_path / "night2"}
    write_nights(inboxes, 60, 3, ["ROT"], EXPORT)
    first, _, _ = night_truth("ROT", 60, 3, EXPORT, night=1, faults=False)
    tables, _, _ = night_truth("ROT", 60, 3, EXPORT, night=2, faults=False)
    ids = {night: set(t["patient"]["patient_id"]) for night, t in ((1, first), (2, tables))}
    assert len(ids[1] - ids[2]) == 1 and len(ids[2] - ids[1]) == 2

    night = prrt(settings, "nightly", "--inbox", str(inboxes[1]))
    assert night.returncode == 0, night.stderr
    assert "every mart built whole (no marts were built per patient before)" in night.stderr
    assert "unit tests not run" not in night.stderr
    assert re.search(r" PASS \w+::\w+", night.stderr)  # dbt's line for a unit test
    night = prrt(settings, "nightly", "--inbox", str(inboxes[2]))
    assert night.returncode == 0, night.stderr
    assert "derived again for the patients whose records changed" in night.stderr
    assert "unit tests not run: they all passed under this project digest" in night.stderr
    assert not re.search(r" PASS \w+::\w+", night.stderr)
    per_patient = built_per_patient(settings)
    assert {"marts.fct_qlq_c30_scores", "marts.fct_qol_score_deltas",
            "marts.fct_tumour_response", "marts.fct_best_response",
            "intermediate.int_response_exam_sums"} <= set(per_patient)
    night_two = tmp_path / "night_two.duckdb"  # as built per patient, for the comparison
    shutil.copyfile(settings.warehouse_path, night_two)
    with duckdb.connect(str(night_two), read_only=True) as built:
        for relation in per_patient:
            assert built.execute(f"SELECT count(*) FROM {relation}").fetchone()[0] > 0
    scores = assert_qlq_scores_match(settings, tables)  # no rows of the withdrawn patient
    assert_deltas_match(settings, tables, scores)
    assert_tumour_outcomes_match(
        partial(release_rows, settings), WRITERS["ROT"].centre_view(tables), episodes_of(tables),
        partial(pseudonym, "ROT", key=TEST_KEY.encode()))

    with duckdb.connect(str(settings.warehouse_path)) as warehouse:
        warehouse.execute("DELETE FROM build_state.incremental_build")
    whole = prrt(settings, "build")
    assert whole.returncode == 0, whole.stderr
    assert "every mart built whole (no marts were built per patient before)" in whole.stderr
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as warehouse:
        warehouse.execute(f"ATTACH '{night_two}' AS night (READ_ONLY)")
        warehouse.execute(f"ATTACH '{settings.current_link / 'warehouse.duckdb'}' AS "
                          "published (READ_ONLY)")
        for relation in per_patient:
            assert rows_differing(warehouse, relation, "night") == 0, relation
            if relation.startswith("marts."):  # and night 2 published what it built
                assert rows_differing(warehouse, relation, "published") == 0, relation


def rows_differing(warehouse: duckdb.DuckDBPyConnection, relation: str, other: str) -> int:
    """Rows of ``relation`` missing from the same relation in the attached database
    ``other``, and the reverse (as multisets: a row made twice counts twice)."""
    return warehouse.execute(
        f"SELECT count(*) FROM ((SELECT * FROM {relation} EXCEPT ALL SELECT * FROM "
        f"{other}.{relation}) UNION ALL (SELECT * FROM {other}.{relation} EXCEPT ALL "
        f"SELECT * FROM {relation}))").fetchone()[0]


def test_rejected_delivery_publishes_nothing_and_exits_1(settings, rot_inbox):
    assert prrt(settings, "nightly").returncode == 0
    first = os.readlink(settings.current_link)
    broken = rot_inbox / "ROT_20240701"
    broken.mkdir()
    (broken / "patienten.csv").write_text("patnr;geslacht\n1;M\n", encoding="cp1252")
    night = prrt(settings, "nightly")
    assert night.returncode == 1
    assert "ROT_20240701" in night.stderr and "REJECTED" in night.stderr
    assert os.readlink(settings.current_link) == first


@pytest.mark.parametrize("command", ["nightly", "load"])
def test_extracting_without_a_pseudonym_key_is_a_configuration_error(settings, command):
    result = prrt(settings, command, key=None)
    assert result.returncode == 2
    assert "PRRT_PSEUDONYM_KEY is not set" in result.stderr


def test_help_answers_where_data_lives():
    result = subprocess.run([PRRT, "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "PRRT_HOME" in result.stdout and "nightly" in result.stdout

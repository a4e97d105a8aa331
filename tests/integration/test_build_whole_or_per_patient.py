"""When a build may derive the kept marts again for the changed patients only, and when it
must build everything; when dbt's unit tests run again (etl/transform.py): the stored
project digests decide."""

import dataclasses
import shutil

import duckdb

from etl import transform

STATE = ("CREATE SCHEMA build_state; CREATE TABLE build_state.incremental_build "
         "(model varchar primary key, project_digest varchar, built_at timestamp)")


def _warehouse_with(settings, digests: dict[str, str] | None) -> None:
    settings.build_dir.mkdir(parents=True)
    with duckdb.connect(str(settings.warehouse_path)) as warehouse:
        warehouse.execute("CREATE TABLE t (x integer)")
        if digests is not None:
            warehouse.execute(STATE)
            for model, digest in digests.items():
                warehouse.execute("INSERT INTO build_state.incremental_build VALUES "
                                  "(?, ?, now())", [model, digest])


def test_a_new_warehouse_is_built_whole(settings):
    assert transform.rebuilt_whole_because(settings, "d1") == "a new warehouse"


def test_a_warehouse_without_per_patient_marts_is_built_whole(settings):
    _warehouse_with(settings, None)
    assert (transform.rebuilt_whole_because(settings, "d1")
            == "no marts were built per patient before")


def test_an_emptied_record_of_builds_means_a_whole_build(settings):
    _warehouse_with(settings, {})
    assert (transform.rebuilt_whole_because(settings, "d1")
            == "no marts were built per patient before")


def test_the_same_project_derives_only_changed_patients_again(settings):
    _warehouse_with(settings, {"fct_a": "d1", "fct_b": "d1"})
    assert transform.rebuilt_whole_because(settings, "d1") is None


def test_a_mart_built_under_another_project_means_a_whole_build(settings):
    # e.g. a build that stopped half way after the project changed: one mart is new
    _warehouse_with(settings, {"fct_a": "d1", "fct_b": "d0"})
    assert transform.rebuilt_whole_because(settings, "d1") == (
        "the dbt project, migrations or tools changed since the last build")


def test_the_digest_follows_models_seeds_and_vars_not_the_folder(settings, tmp_path):
    copy = tmp_path / "dbt_project"
    shutil.copytree(settings.dbt_project_dir, copy)
    copied = dataclasses.replace(settings, dbt_project_dir=copy)
    digest = transform.project_digest(settings)
    assert len(digest) == 64 and transform.project_digest(copied) == digest

    seed = copy / "seeds" / "follow_up_windows.csv"
    seed.write_text(seed.read_text() + "\n")
    assert transform.project_digest(copied) != digest
    seed.write_text(seed.read_text()[:-1])
    assert transform.project_digest(copied) == digest

    project = copy / "dbt_project.yml"
    project.write_text(project.read_text().replace("minimal_important_difference: 10",
                                                   "minimal_important_difference: 15"))
    assert transform.project_digest(copied) != digest


def _builds(settings, monkeypatch, unit_test_statuses: list[str]) -> list[list[str]]:
    """The dbt arguments of each build, dbt replaced by one whose unit tests end with
    ``unit_test_statuses`` (when they are run); the project digest is fixed."""
    calls = []

    def run_dbt(_settings, arguments, _digest):
        calls.append(arguments)
        tests = [] if "unit_test" in arguments else [
            transform.TestOutcome(f"unit_test.p.m.t{i}", status, None, "", None)
            for i, status in enumerate(unit_test_statuses)]
        return transform.BuildResult(True, len(tests), [], tests)

    monkeypatch.setattr(transform, "run_dbt", run_dbt)
    monkeypatch.setattr(transform, "project_digest", lambda _settings: "d1")
    settings.build_dir.joinpath("dbt_target").mkdir(parents=True, exist_ok=True)
    return calls


def test_unit_tests_run_again_only_when_the_project_changed(settings, monkeypatch):
    calls = _builds(settings, monkeypatch, ["pass", "pass"])
    transform.build(settings)
    transform.build(settings)
    assert "--exclude-resource-type" not in calls[0]
    assert calls[1][-2:] == ["--exclude-resource-type", "unit_test"]
    passed_under = settings.build_dir / "dbt_target" / "unit_tests.digest"
    assert passed_under.read_text() == "d1"

    passed_under.write_text("d0")  # they passed under another project
    transform.build(settings)
    assert "--exclude-resource-type" not in calls[2]
    assert passed_under.read_text() == "d1"


def test_a_failed_unit_test_runs_them_all_again_next_time(settings, monkeypatch):
    calls = _builds(settings, monkeypatch, ["pass", "fail"])
    passed_under = settings.build_dir / "dbt_target" / "unit_tests.digest"
    passed_under.write_text("d0")
    transform.build(settings)
    assert not passed_under.exists()
    transform.build(settings)
    assert all("--exclude-resource-type" not in arguments for arguments in calls)


def test_unit_tests_skipped_by_a_failed_model_run_again_next_time(settings, monkeypatch):
    calls = _builds(settings, monkeypatch, ["pass", "skipped"])
    transform.build(settings)
    transform.build(settings)
    assert all("--exclude-resource-type" not in arguments for arguments in calls)

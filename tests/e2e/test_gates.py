"""Write-audit-publish as a user sees it: what gate 1 and gate 2 stop, what is published
beside a release, and that a process killed at any point loses or duplicates nothing."""

import fcntl
import json
import os
import re
import shutil
import time

import duckdb
import pytest

from etl.config import REPO_DIR, Settings
from etl.crashpoints import POINTS
from etl.synth import write_deliveries
from tests.conftest import ROT_SAMPLE, SAMPLES, TEST_KEY, prrt, release_rows

EXPORT = "2024-06-01"


def test_a_critical_fault_rejects_one_centre_and_publishes_the_others(settings):
    write_deliveries(settings.inbox, 30, 4, ["ROT", "IOW"], EXPORT)
    assert prrt(settings, "nightly").returncode == 0
    first = os.readlink(settings.current_link)
    published = release_rows(settings, "SELECT site, count(*) FROM marts.dim_patient "
                                        "GROUP BY site ORDER BY site")
    written = write_deliveries(settings.inbox, 30, 4, ["ROT", "IOW"], EXPORT, night=2)
    rot = next(w.path for w in written if w.site == "ROT")
    for path in rot.glob("*.csv"):  # a truncated export: only the header and 3 lines
        lines = path.read_text(encoding="cp1252").splitlines()
        path.write_text("\r\n".join(lines[:4]) + "\r\n", encoding="cp1252")

    night = prrt(settings, "nightly")
    assert night.returncode == 1
    assert f"{rot.name}: REJECTED by gate 1" in night.stderr
    assert "withdrawn_share" in night.stderr
    # IOW's night 2 is published; ROT keeps its last accepted data, nothing withdrawn.
    assert os.readlink(settings.current_link) != first
    after = dict(release_rows(settings, "SELECT site, count(*) FROM marts.dim_patient "
                                        "GROUP BY site"))
    assert after["ROT"] == dict(published)["ROT"]
    status = prrt(settings, "status", "--json")
    deliveries = json.loads(status.stdout)["deliveries"]
    assert any(d["delivery_name"] == rot.name and d["status"] == "rejected" for d in deliveries)


def test_a_dbt_test_failure_blocks_publication(settings, rot_inbox):
    assert prrt(settings, "nightly").returncode == 0
    first = os.readlink(settings.current_link)
    night2 = rot_inbox / "ROT_20240602"
    shutil.copytree(ROT_SAMPLE, night2)
    # 1654551's salvage cycle 5 dated before its regular course: every row is valid on
    # its own (gate 1 passes), but the episodes cannot be interpreted; a dbt test fails.
    cycles = night2 / "behandelingen.csv"
    cycles.write_text(cycles.read_text(encoding="cp1252").replace(
        "1654551;5;03-02-2021", "1654551;5;03-02-2019"), encoding="cp1252")
    night = prrt(settings, "nightly")
    assert night.returncode == 1
    assert "salvage_episodes_follow_the_regular_course" in night.stderr
    assert "offending rows" in night.stderr and "2019-02-03" in night.stderr
    assert "nothing published" in night.stderr
    assert os.readlink(settings.current_link) == first


def test_a_key_stored_twice_fails_its_uniqueness_test(settings, rot_inbox):
    # the merge keeps one current version per natural key; a second, written behind its
    # back, is what staging's uniqueness test (unique_combination) is there to catch
    assert prrt(settings, "nightly").returncode == 0
    with duckdb.connect(str(settings.warehouse_path)) as warehouse:
        warehouse.execute(
            "INSERT INTO raw.lab_result BY NAME SELECT * EXCLUDE (raw_id) FROM raw.lab_result "
            "WHERE valid_to IS NULL AND NOT is_withdrawn ORDER BY raw_id LIMIT 1")
    build = prrt(settings, "build")
    assert build.returncode == 1
    assert re.search(r"FAIL 1 unique_combination_stg_raw__lab_results_site__patient_pseudonym"
                     r"__sample_date__analyte", build.stderr), build.stderr[-3000:]
    assert not re.search(r"FAIL \d+ unique_combination_stg_raw__(?!lab_results)", build.stderr)


def test_a_quarantined_patient_record_does_not_orphan_the_patients_episodes(settings,
                                                                           rot_inbox):
    patients = rot_inbox / ROT_SAMPLE.name / "patienten.csv"
    patients.write_text(patients.read_text(encoding="cp1252").replace(
        "9988620;M;", "9988620;X;"), encoding="cp1252")
    night = prrt(settings, "nightly")
    assert night.returncode == 0, night.stderr
    assert "warning: cycle_in_history: expect_column_values_to_be_in_set(has_patient_row)" \
        in night.stderr
    assert release_rows(settings, "SELECT count(*), count(sex) FROM marts.dim_patient") == [
        (6, 5)]


def test_a_warning_only_night_publishes_with_data_docs_and_the_warning(settings):
    settings.inbox.mkdir(parents=True)
    for site in ("ROT", "TRL"):
        shutil.copytree(ROT_SAMPLE.parent / SAMPLES[site], settings.inbox / SAMPLES[site])
    patients = settings.inbox / SAMPLES["ROT"] / "patienten.csv"  # diagnosis after C1D1
    patients.write_text(patients.read_text(encoding="cp1252").replace(
        "9988620;M;1965;29-11-2023", "9988620;M;1965;01-04-2024"), encoding="cp1252")
    night = prrt(settings, "nightly")
    assert night.returncode == 0, night.stderr
    assert "warning: cycle_in_history" in night.stderr
    release = settings.current_link
    index = (release / "data_docs" / "index.html").read_text(encoding="utf-8")
    assert "ROT.patient" in index and "TRL.lesion_history" in index
    summary = json.loads((release / "quality.json").read_text(encoding="utf-8"))
    assert {d["site_code"] for d in summary["deliveries"]} == {"ROT", "TRL"}
    assert summary["checks"] > 100
    assert [(f["site_code"], f["target"], f["severity"]) for f in summary["failed"]] == [
        ("ROT", "cycle_in_history", "warning")]


def test_a_second_writer_stops_at_once(settings, rot_inbox):
    settings.build_dir.mkdir(parents=True)
    with open(settings.build_dir / "writer.lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.write("4242")
        held.flush()
        started = time.monotonic()
        second = prrt(settings, "nightly")
    assert second.returncode == 1
    assert "Another prrt process (pid 4242)" in second.stderr
    assert time.monotonic() - started < 30
    assert not settings.warehouse_path.exists()


def raw_state(settings) -> dict[str, tuple[int, int, int]]:
    """Per raw table: all versions, current records, withdrawn records."""
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        tables = [t for (t,) in connection.sql(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw'").fetchall()]
        return {t: connection.sql(
            f"SELECT count(*), count(*) FILTER (valid_to IS NULL AND NOT is_withdrawn), "
            f"count(*) FILTER (is_withdrawn) FROM raw.{t}").fetchone() for t in tables}


def marts(settings) -> dict[str, list[tuple]]:
    return {t: sorted(release_rows(settings, f"SELECT * FROM marts.{t}"))
            for t in ("dim_patient", "fct_treatment_episode")}


CENTRES = ["BBK", "ROT"]


def home_settings(home) -> Settings:
    return Settings(home=home, pseudonym_key=TEST_KEY, sites_dir=None, keep_releases=5,
                    dbt_project_dir=REPO_DIR / "dbt_project")


@pytest.fixture(scope="module")
def after_night_one(tmp_path_factory):
    """A warehouse home after night 1, published; each crash test starts from a copy."""
    settings = home_settings(tmp_path_factory.mktemp("night1") / "home")
    write_deliveries(settings.inbox, 20, 6, CENTRES, EXPORT)
    assert prrt(settings, "nightly").returncode == 0
    return settings.home


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, after_night_one):
    """Night 2 run without a crash: what every crash test must end with."""
    settings = home_settings(tmp_path_factory.mktemp("reference") / "home")
    shutil.copytree(after_night_one, settings.home, symlinks=True)
    write_deliveries(settings.inbox, 20, 6, CENTRES, EXPORT, night=2)
    assert prrt(settings, "nightly").returncode == 0
    return raw_state(settings), marts(settings)


@pytest.mark.parametrize("point", POINTS)
def test_a_night_killed_at_any_point_is_completed_by_the_next(settings, after_night_one,
                                                              uninterrupted, point):
    shutil.copytree(after_night_one, settings.home, symlinks=True)
    published = os.readlink(settings.current_link)
    published_marts = marts(settings)
    before = raw_state(settings)
    write_deliveries(settings.inbox, 20, 6, CENTRES, EXPORT, night=2)

    killed = prrt(settings, "nightly", PRRT_CRASH_AT=point)
    assert killed.returncode == -9, killed.stderr
    assert os.readlink(settings.current_link) == published
    assert marts(settings) == published_marts
    state = raw_state(settings)
    if point in ("extract", "gate", "raw_write"):
        # Killed before the first delivery's transaction committed: raw is untouched.
        assert state == before
    else:
        assert state == uninterrupted[0]

    again = prrt(settings, "nightly")
    assert again.returncode == 0, again.stderr
    expected_raw, expected_marts = uninterrupted
    assert raw_state(settings) == expected_raw
    assert marts(settings) == expected_marts

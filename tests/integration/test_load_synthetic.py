"""Generated deliveries of every centre load back to the generator's truth; a second
night gives exactly the expected inserts, updates and withdrawals; planted faults are
quarantined with the right reason, and every file's rows reconcile."""

from collections import Counter

import pandas as pd
import pytest

from etl import db
from etl.mapping import load_all_mappings
from etl.pipeline import load_deliveries
from etl.pseudonym import pseudonymise
from etl.runs import start_run
from etl.synth import WRITERS, write_deliveries
from etl.synth.cohort import NATURAL_KEYS
from etl.synth.nights import night_truth
from tests.conftest import TEST_KEY

EXPORT = "2024-06-01"
CENTRES = sorted(WRITERS)
COMPARED = {  # canonical columns compared besides the natural key
    "patient": ["sex", "birth_year", "primary_origin", "who_grade", "ki67_percent",
                "krenning_score", "bone_metastases", "liver_metastases"],
    "treatment_cycle": ["administered_activity_gbq", "phase"],
    "qlq_c30_assessment": [],
    "qlq_c30_item_response": ["response"],
    "performance_status": ["score"],
    "lab_result": ["value"],
    "imaging_exam": [],
    "lesion_measurement": ["organ", "is_target", "diameter_mm", "is_new"],
    "reported_response": ["category"],
    "adverse_event": ["grade"],
    "vital_status": ["last_contact_date", "is_dead", "death_date"],
}
APPROXIMATE = {"ki67_percent", "administered_activity_gbq", "value", "diameter_mm"}


def load(settings):
    with db.connect(settings) as connection:
        db.upgrade(connection)
        return load_deliveries(connection, settings, start_run(connection, "test"),
                               settings.inbox, load_all_mappings(settings))


def expected_view(site: str, patients: int, seed: int, night: int) -> dict[str, pd.DataFrame]:
    """The truth as the centre's loaded records should show it, keyed by pseudonym."""
    tables, _, _ = night_truth(site, patients, seed, EXPORT, night, faults=False)
    view = WRITERS[site].centre_view(tables)
    result = {}
    for table, frame in view.items():
        frame = frame.copy()
        frame["patient_pseudonym"] = pseudonymise(frame["patient_id"].astype("string"), site,
                                                  TEST_KEY.encode())
        if table == "lesion_measurement":
            frame["lesion_id"] = frame["lesion_id"].astype(str)
        result[table] = frame
    return result


def key_columns(table: str) -> list[str]:
    return ["patient_pseudonym" if c == "patient_id" else c for c in NATURAL_KEYS[table]]


def loaded(settings, table: str, site: str, columns: list[str]) -> pd.DataFrame:
    with db.connect(settings) as connection:
        frame = connection.connection.driver_connection.execute(
            f"SELECT {', '.join(columns)} FROM raw.{table} WHERE site = ? AND "
            "valid_to IS NULL AND NOT is_withdrawn", [site]).df()
    for column in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[column]):
            frame[column] = frame[column].dt.date.astype(object).where(frame[column].notna())
    return frame


def same(a: object, b: object, approximate: bool) -> bool:
    if pd.isna(a) if not isinstance(a, list) else False:
        return pd.isna(b)
    if approximate:
        return float(a) == pytest.approx(float(b), rel=1e-9, abs=1e-9)
    return a == b


@pytest.mark.parametrize("site", CENTRES)
def test_generated_delivery_loads_back_to_the_truth(settings, site):
    write_deliveries(settings.inbox, 15, 11, [site], EXPORT)
    [report] = load(settings)
    assert report.status == "loaded", report.message
    assert all(f.rows_quarantined == 0 for f in report.files), [
        (f.file_name, f.table, f.quarantined) for f in report.files if f.rows_quarantined]
    for table, truth in expected_view(site, 15, 11, 1).items():
        keys = key_columns(table)
        compared = [c for c in COMPARED[table] if c in truth]
        if table == "treatment_cycle" and site != "TRL":
            compared.append("cycle_no")
        got = loaded(settings, table, site, keys + compared)
        merged = truth[keys + compared].merge(got, on=keys, how="outer", indicator=True,
                                              suffixes=("_truth", "_loaded"))
        assert (merged["_merge"] == "both").all(), (table, merged[merged["_merge"] != "both"])
        for column in compared:
            for want, have in zip(merged[f"{column}_truth"], merged[f"{column}_loaded"],
                                  strict=True):
                assert same(want, have, column in APPROXIMATE), (table, column, want, have)


def changes(before: pd.DataFrame, after: pd.DataFrame, table: str) -> tuple[int, int, int]:
    """(inserted, updated, withdrawn) records between two nights' truths."""
    keys = key_columns(table)
    compared = [c for c in COMPARED[table] if c in after]
    merged = before[keys + compared].merge(after[keys + compared], on=keys, how="outer",
                                           indicator=True)
    both = merged[merged["_merge"] == "both"]
    differs = pd.Series(False, index=both.index)
    for column in compared:
        differs |= ~pd.Series([same(a, b, False) for a, b in zip(
            both[f"{column}_x"], both[f"{column}_y"], strict=True)], index=both.index)
    return (int((merged["_merge"] == "right_only").sum()), int(differs.sum()),
            int((merged["_merge"] == "left_only").sum()))


def test_night_two_gives_exactly_the_expected_inserts_updates_and_withdrawals(settings):
    write_deliveries(settings.inbox, 60, 5, CENTRES, EXPORT, night=1)
    assert {r.status for r in load(settings)} == {"loaded"}
    write_deliveries(settings.inbox, 60, 5, CENTRES, EXPORT, night=2)
    reports = [r for r in load(settings) if r.status != "skipped"]
    assert sorted(r.delivery.site for r in reports) == CENTRES
    for report in reports:
        site = report.delivery.site
        night1 = expected_view(site, 60, 5, 1)
        night2 = expected_view(site, 60, 5, 2)
        for table, counts in report.merges.items():
            expected = changes(night1[table], night2[table], table)
            assert (counts.inserted, counts.updated, counts.withdrawn) == expected, (
                site, table)
        assert sum(report.merges[t].updated for t in ("lab_result", "treatment_cycle")) > 0
    # History: a corrected record keeps its previous version with its validity period.
    with db.connect(settings) as connection:
        closed, withdrawn = connection.exec_driver_sql(
            "SELECT count(*) FILTER (valid_to IS NOT NULL), count(*) FILTER (is_withdrawn) "
            "FROM raw.lab_result").fetchone()
    assert closed > 0 and withdrawn > 0


def test_planted_faults_are_quarantined_with_the_right_reason(settings):
    written = write_deliveries(settings.inbox, 12, 3, CENTRES, EXPORT, faults=True)
    reports = {r.delivery.site: r for r in load(settings)}
    with db.connect(settings) as connection:
        quarantined = connection.exec_driver_sql(
            "SELECT site_code, target_table, reason_code FROM meta.quarantined_row").fetchall()
        unreconciled = connection.exec_driver_sql(
            "SELECT count(*) FROM meta.delivery_file WHERE rows_read <> rows_loaded + "
            "rows_skipped + rows_quarantined").scalar_one()
    assert unreconciled == 0
    for delivery in written:
        assert reports[delivery.site].status == "loaded"
        planted = Counter((f.table, f.reason_code) for f in delivery.faults)
        found = Counter((table, reason) for site, table, reason in quarantined
                        if site == delivery.site)
        assert found == planted, delivery.site
        for file in reports[delivery.site].files:
            assert file.rows_read == file.rows_loaded + file.rows_skipped + file.rows_quarantined


def test_a_delivery_older_than_the_centres_newest_loaded_is_refused(settings):
    """Night 1 arriving after night 2 was loaded would roll night 2's corrections and
    records back: it is rejected, naming the newer delivery, and raw stays as it was."""
    write_deliveries(settings.inbox, 20, 5, ["ROT"], EXPORT, night=2)
    [newer] = load(settings)
    assert newer.status == "loaded"
    versions = "SELECT count(*), count(*) FILTER (is_withdrawn) FROM raw.lab_result"
    with db.connect(settings) as connection:
        before = connection.exec_driver_sql(versions).fetchone()
    write_deliveries(settings.inbox, 20, 5, ["ROT"], EXPORT, night=1)
    older, again = load(settings)
    assert older.delivery.export_date < newer.delivery.export_date
    assert (older.status, again.status) == ("rejected", "skipped")
    assert again.delivery.name == newer.delivery.name
    with db.connect(settings) as connection:
        assert connection.exec_driver_sql(versions).fetchone() == before
        status, message, read = connection.exec_driver_sql(
            "SELECT status, message, rows_read FROM meta.delivery WHERE delivery_name = ?",
            (older.delivery.name,)).fetchone()
    assert (status, read) == ("rejected", 0)
    assert (f"exported {older.delivery.export_date}, before {newer.delivery.name} "
            f"(exported {newer.delivery.export_date}), which is loaded") in message

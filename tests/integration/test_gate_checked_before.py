"""Gate 1 gives its per-record expectations only new and changed records when the suite
that checked the records resent unchanged is tonight's (``etl.checked_before``), and every
record again when the suite changed."""

import shutil
from decimal import Decimal

import great_expectations.expectations as gxe
import pandas as pd
import pytest

from etl import extract_ahead
from etl.checked_before import (
    EVERY,
    NEW_OR_CHANGED,
    NONE,
    SHARING_KEYS,
    records_to_check,
    suite_digest,
)
from etl.fingerprint import FINGERPRINT_COLUMNS, with_fingerprints
from etl.severity import CRITICAL, WARNING
from expectations import treatment
from expectations.rules import PLAUSIBILITY, meta
from models.base import metadata
from tests.conftest import ROT_SAMPLE
from tests.integration.test_gate_one import load, query

NIGHT_2 = "ROT_20240602"


def resend_with_a_correction(settings) -> None:
    """The ROT sample again, exported the next day: patient 9988620's first cycle
    corrected from 7.41 to 7.45 GBq, the other 20 cycles as they were."""
    second = settings.inbox / NIGHT_2
    shutil.copytree(settings.inbox / ROT_SAMPLE.name, second)
    cycles = second / "behandelingen.csv"
    text = cycles.read_text(encoding="cp1252")
    assert "9988620;1;20-03-2024;7,41;" in text
    cycles.write_text(text.replace("9988620;1;20-03-2024;7,41;", "9988620;1;20-03-2024;7,45;"),
                      encoding="cp1252")


def load_sample(settings) -> None:
    settings.inbox.mkdir(parents=True)
    shutil.copytree(ROT_SAMPLE, settings.inbox / ROT_SAMPLE.name)
    [night1] = load(settings)
    assert night1.status == "loaded"


def night_2_results(settings, target: str) -> list[tuple[str, bool, str]]:
    return query(settings, "SELECT g.check_name, g.passed, g.message FROM meta.gate_result g "
                 "JOIN meta.delivery d USING (delivery_id) WHERE d.delivery_name = ? AND "
                 "g.target = ? ORDER BY g.check_name", NIGHT_2, target)


def test_the_next_night_checks_each_record_of_the_changed_one_only(settings):
    load_sample(settings)
    night1_checks = query(settings, "SELECT count(*) FROM meta.gate_result")[0][0]
    resend_with_a_correction(settings)

    [night2] = [r for r in load(settings) if r.status != "skipped"]

    assert night2.status == "loaded"
    assert night2.merges["treatment_cycle"].updated == 1
    results = night_2_results(settings, "treatment_cycle")
    note = "[checked the 1 new or changed records; the 20 resent unchanged passed it when loaded]"
    keys = ("[checked the 1 records new, changed or sharing a key with another; each of the 20 "
            "others resent unchanged is a current record whose key no other has]")
    per_record = [name for name, passed, message in results if message.endswith(note)]
    sharing_keys = [name for name, passed, message in results if message.endswith(keys)]
    every_record = [name for name, passed, message in results
                    if note not in message and keys not in message]
    assert all(passed for _, passed, _ in results)
    assert "expect_column_values_to_be_between(administered_activity_gbq)" in per_record
    assert "expect_column_values_to_not_be_null(patient_pseudonym)" in per_record
    assert "expect_column_values_to_be_in_type_list(cycle_date)" in per_record
    assert sharing_keys == ["expect_compound_columns_to_be_unique(patient_pseudonym, cycle_date)"]
    assert "expect_column_to_exist(cycle_date)" in every_record
    # the same checks as the first night, none lost by the split
    assert query(settings, "SELECT count(*) FROM meta.gate_result")[0][0] == 2 * night1_checks
    # a table resent unchanged: its per-record checks see no record, and pass
    labs = night_2_results(settings, "lab_result")
    assert labs and all(passed for _, passed, _ in labs)
    assert any("[checked the 0 new or changed records; the 491 resent" in message
               for _, _, message in labs)
    assert query(settings, "SELECT table_name, delivery_id FROM meta.checked_snapshot WHERE "
                 "site_code = 'ROT' AND table_name = 'treatment_cycle'") == \
        [("treatment_cycle", 2)]


def test_a_stricter_suite_checks_every_record_again(settings, monkeypatch):
    """A limit of 7.6 GBq, new tonight: the corrected cycle (7.45) meets it, but patient
    6203273's first cycle (7.70 GBq), resent unchanged, does not, and rejects the
    delivery."""
    load_sample(settings)
    resend_with_a_correction(settings)
    suites = treatment.expectations()
    suites["treatment_cycle"].append(gxe.ExpectColumnValuesToBeBetween(
        column="administered_activity_gbq", max_value=7.6,
        meta=meta(PLAUSIBILITY, CRITICAL, "a stricter limit")))
    monkeypatch.setattr(treatment, "expectations", lambda: suites)

    [night2] = [r for r in load(settings) if r.status != "skipped"]

    assert night2.status == "rejected"
    failed = [(name, message) for name, passed, message in
              night_2_results(settings, "treatment_cycle") if not passed]
    assert failed == [("expect_column_values_to_be_between(administered_activity_gbq)",
                       "a stricter limit (e.g. behandelingen.csv row 4: 7.700000000)")]
    assert query(settings, "SELECT failures FROM meta.gate_result WHERE NOT passed") == [(1,)]


@pytest.mark.parametrize("change", ["a new record with its key", "it twice"])
def test_a_record_resent_unchanged_is_checked_for_its_keys_uniqueness_when_another_shares_it(
        settings, monkeypatch, change):
    """Night 2 sends a cycle stored the night before unchanged and, beside it, a record
    with the same patient and date: another activity, or the same one (rows the
    extract's duplicate rule quarantines; here added behind it, as a faulty mapping
    could). The key's uniqueness sees both and rejects the delivery."""
    load_sample(settings)
    resend_with_a_correction(settings)
    shutil.rmtree(settings.inbox / ROT_SAMPLE.name)  # night 2 alone: extracted here
    extract = extract_ahead.extract_delivery
    cycles_table = metadata.tables["raw.treatment_cycle"]

    def with_a_second_record(loaded, delivery, key):
        extracted = extract(loaded, delivery, key)
        cycles = extracted.tables["treatment_cycle"]
        second = cycles.tail(1).drop(columns=list(FINGERPRINT_COLUMNS))
        if change == "a new record with its key":
            second["administered_activity_gbq"] = Decimal("7.00")
        extracted.tables["treatment_cycle"] = pd.concat(
            [cycles, with_fingerprints(cycles_table, second)], ignore_index=True)
        return extracted

    monkeypatch.setattr(extract_ahead, "extract_delivery", with_a_second_record)

    [night2] = [r for r in load(settings) if r.status != "skipped"]

    assert night2.status == "rejected"
    [(check, failures, message)] = query(
        settings, "SELECT g.check_name, g.failures, g.message FROM meta.gate_result g JOIN "
        "meta.delivery d USING (delivery_id) WHERE d.delivery_name = ? AND NOT g.passed",
        NIGHT_2)
    assert (check, failures) == (
        "expect_compound_columns_to_be_unique(patient_pseudonym, cycle_date)", 2)
    assert message.endswith("[checked the 3 records new, changed or sharing a key with "
                            "another; each of the 19 others resent unchanged is a current "
                            "record whose key no other has]")


NATURAL_KEY = ["patient_pseudonym", "cycle_date"]


@pytest.mark.parametrize(("expectation", "records"), [
    (gxe.ExpectColumnValuesToBeInSet(column="sex", value_set=["F", "M"],
                                     meta=meta(PLAUSIBILITY, CRITICAL, "")), NEW_OR_CHANGED),
    (gxe.ExpectColumnValuesToBeInSet(column="sex", value_set=["F", "M"], mostly=0.9,
                                     meta=meta(PLAUSIBILITY, CRITICAL, "")), EVERY),
    (gxe.ExpectColumnValuesToBeInSet(column="sex", value_set=["F", "M"],
                                     meta=meta(PLAUSIBILITY, WARNING, "")), EVERY),
    (gxe.ExpectColumnValuesToBeInTypeList(column="cycle_date", type_list=["date"],
                                          meta=meta(PLAUSIBILITY, CRITICAL, "")),
     NEW_OR_CHANGED),
    (gxe.ExpectCompoundColumnsToBeUnique(column_list=["cycle_date", "patient_pseudonym"],
                                         meta=meta(PLAUSIBILITY, CRITICAL, "")), SHARING_KEYS),
    (gxe.ExpectCompoundColumnsToBeUnique(column_list=NATURAL_KEY, mostly=0.99,
                                         meta=meta(PLAUSIBILITY, CRITICAL, "")), EVERY),
    (gxe.ExpectColumnValuesToBeUnique(column="patient_pseudonym",
                                      meta=meta(PLAUSIBILITY, CRITICAL, "")), EVERY),
    (gxe.ExpectColumnToExist(column="cycle_date", meta=meta(PLAUSIBILITY, CRITICAL, "")),
     NONE),
])
def test_which_records_an_expectation_must_see(expectation, records):
    assert records_to_check(expectation, NATURAL_KEY) == records


def test_a_suite_digest_changes_with_any_argument_or_severity():
    def sexes(codes: list[str], severity: str = CRITICAL) -> list[gxe.Expectation]:
        return [gxe.ExpectColumnValuesToBeInSet(column="sex", value_set=codes,
                                                meta=meta(PLAUSIBILITY, severity, "sex"))]

    assert suite_digest(sexes(["F", "M"])) == suite_digest(sexes(["F", "M"]))
    assert suite_digest(sexes(["F", "M"])) != suite_digest(sexes(["F", "M", "X"]))
    assert suite_digest(sexes(["F", "M"])) != suite_digest(sexes(["F", "M"], WARNING))

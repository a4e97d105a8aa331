"""Field mapping on hand-made source rows: codes, numbers, dates, units, ranges."""

import csv
from datetime import date
from decimal import Decimal

import pandas as pd
import pytest

from etl.canonical import SOURCE_ROW, UNIT_ID, map_extract
from etl.mapping import FieldMap, SiteMapping
from etl.reference import REFERENCE_DIR, normalise_unit, unit_conversions

EXPORT = date(2024, 6, 1)


def mapping(unit: str = "GBq") -> SiteMapping:
    return SiteMapping.model_validate({
        "site": "TST", "name": "test centre", "format": "delimited",
        "delivery": {"pattern": "TST_(?P<export_date>\\d{8})"},
        "reader": {"decimal": ","}, "date_format": "%d-%m-%Y", "patient_id": "pid",
        "codes": {"phase": {"regulier": "regular", "aanvullend": "salvage"},
                  "sex": {"M": "male", "V": "female"}},
        "extracts": [
            {"table": "treatment_cycle", "file": "c.csv", "fields": {
                "cycle_date": "datum",
                "administered_activity_gbq": {"column": "act", "unit": unit},
                "phase": {"column": "fase", "codes": "phase"}}},
            {"table": "patient", "file": "p.csv", "fields": {
                "sex": {"column": "sex", "codes": "sex"},
                "ki67_percent": {"column": "ki67", "qualifier": "ki67_qualifier"}}},
        ],
    })


def cycles(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["pid", "datum", "act", "fase"]).astype("string")
    frame[SOURCE_ROW] = range(2, len(frame) + 2)
    frame[UNIT_ID] = range(len(frame))
    return frame


def run(frame: pd.DataFrame, unit: str = "GBq", extract: int = 0):
    m = mapping(unit)
    return map_extract(frame, m.extracts[extract], m, b"k", EXPORT)


def test_decimal_comma_dates_and_codes_map_to_canonical_values():
    result = run(cycles([("1", "20-03-2024", "7,41", "regulier"),
                         ("1", "03-02-2021", "7,54", "Aanvullend ")]))
    assert result.issues.empty
    rows = result.rows
    assert list(rows["cycle_date"]) == [date(2024, 3, 20), date(2021, 2, 3)]
    assert list(rows["administered_activity_gbq"]) == [Decimal("7.41"), Decimal("7.54")]
    assert list(rows["phase"]) == ["regular", "salvage"]
    assert list(rows["phase_source"]) == ["regulier", "Aanvullend "]
    assert list(rows["activity_source_value"]) == ["7,41", "7,54"]


@pytest.mark.parametrize(("unit", "value", "expected_gbq"), [
    ("mCi", "200", Decimal("7.4")),          # 200 × 37 MBq = 7400 MBq exactly
    ("mCi", "7,41", Decimal("0.27417")),     # 7.41 × 0.037, no float error
    ("MBq", "7400", Decimal("7.4")),
    # with a decimal comma, a point grouping thousands is no decimal point
    ("MBq", "7.400", Decimal("7.4")),
    ("MBq", "7.400,5", Decimal("7.4005")),
    ("MBq", "0.400", Decimal("0.0004")),     # no group starts with 0: a decimal point
    ("GBq", "7.41", Decimal("7.41")),        # not three digits: a decimal point
])
def test_activity_converts_exactly_to_gbq(unit, value, expected_gbq):
    result = run(cycles([("1", "20-03-2024", value, "regulier")]), unit=unit)
    assert result.rows["administered_activity_gbq"][0] == expected_gbq
    assert result.rows["activity_source_unit"][0] == unit


def test_every_problem_is_quarantined_with_reason_column_and_value():
    result = run(cycles([
        ("1", "20-03-2024", "7,41", "regulier"),   # fine
        ("2", "31-02-2024", "7,41", "regulier"),   # no such date
        ("3", "20-03-2025", "7,41", "regulier"),   # after the export date
        ("4", "20-03-2024", "25", "regulier"),     # > 20 GBq per cycle
        ("5", "20-03-2024", "7,41", "extra"),      # unknown phase code
        ("6", "20-03-2024", "zeven", "regulier"),  # not a number
        (None, "20-03-2024", "7,41", "regulier"),  # no patient id
    ]))
    assert list(result.rows[SOURCE_ROW]) == [2]
    found = {(r.source_row, r.reason_code, r.column_name, r.source_value)
             for r in result.issues.itertuples()}
    assert found == {
        (3, "unparseable_date", "datum", "31-02-2024"),
        (4, "future_date", "datum", "20-03-2025"),
        (5, "out_of_range", "act", "25"),
        (6, "unknown_code", "fase", "extra"),
        (7, "invalid_number", "act", "zeven"),
        (8, "missing_value", "pid", None),
    }


def test_an_unknown_unit_sent_in_a_row_is_quarantined():
    """(A fixed unit without a conversion is refused when the mapping loads.)"""
    m = mapping()
    fields = {**m.extracts[0].fields,
              "administered_activity_gbq": FieldMap(column="act", unit_column="eenheid")}
    extract = m.extracts[0].model_copy(update={"fields": fields})
    frame = cycles([("1", "20-03-2024", "7,41", "regulier"),
                    ("1", "03-04-2024", "7,41", "regulier")])
    frame["eenheid"] = pd.Series(["GBq", "Bq-ish"], dtype="string")
    result = map_extract(frame, extract, m, b"k", EXPORT)
    assert list(result.rows["administered_activity_gbq"]) == [Decimal("7.41")]
    assert result.issues[["source_row", "reason_code", "source_value"]].values.tolist() == [
        [3, "unknown_unit", "Bq-ish"]]


def test_ki67_written_below_detection_keeps_its_qualifier():
    frame = pd.DataFrame({"pid": ["1", "2", "3"], "sex": ["V", "M", None],
                          "ki67": ["<2", "3,3", None]}).astype("string")
    frame[SOURCE_ROW] = [2, 3, 4]
    frame[UNIT_ID] = [0, 1, 2]
    rows = run(frame, extract=1).rows
    assert list(rows["ki67_percent"].fillna(-1)) == [2.0, 3.3, -1]
    assert list(rows["ki67_qualifier"].fillna("")) == ["<", "", ""]
    assert list(rows["sex"].fillna("")) == ["female", "male", ""]


def test_ki67_written_with_its_percent_sign_is_the_percentage():
    """Pathology systems write '15 %'; a workbook shows a cell formatted as a
    percentage as '15%' (the reader writes it so). A sign anywhere else is no number."""
    sent = ["15%", "<2 %", "3,3%", "%15", "15%%"]
    frame = pd.DataFrame({"pid": list("12345"), "sex": ["V"] * 5, "ki67": sent}).astype("string")
    frame[SOURCE_ROW] = range(2, 7)
    frame[UNIT_ID] = range(5)
    result = run(frame, extract=1)
    assert list(result.rows["ki67_percent"]) == [15.0, 2.0, 3.3]
    assert list(result.rows["ki67_qualifier"].fillna("")) == ["", "<", ""]
    assert list(result.rows["ki67_source"]) == sent[:3]
    assert issues_of(result) == {(5, "invalid_number", "ki67"), (6, "invalid_number", "ki67")}


def extract_for(table: str, fields: dict, **extra) -> tuple[SiteMapping, object]:
    m = SiteMapping.model_validate({
        "site": "TST", "name": "test centre", "format": "delimited",
        "delivery": {"pattern": "TST_(?P<export_date>\\d{8})"}, "date_format": "ISO8601",
        "patient_id": "pid", "codes": {"scale": {"KPS": "KPS", "ECOG": "ECOG"}},
        "extracts": [{"table": table, "file": "f.csv", "fields": fields, **extra}]})
    return m, m.extracts[0]


def frame(**columns) -> pd.DataFrame:
    result = pd.DataFrame(columns).astype("string")
    result[SOURCE_ROW] = range(2, len(result) + 2)
    result[UNIT_ID] = range(len(result))
    return result


def issues_of(result) -> set[tuple]:
    return {(r.source_row, r.reason_code, r.column_name) for r in result.issues.itertuples()}


def test_partial_iso_dates_are_quarantined_unless_the_mapping_completes_them():
    source = frame(pid=["1", "2", "3", "4"], d=["2019-03-14", "2019-03", "2019", "2019-13"],
                   t=["Nausea"] * 4, g=["1"] * 4)
    fields = {"onset_date": "d", "term": {"column": "t", "accept_canonical": True},
              "grade": "g"}
    m, extract = extract_for("adverse_event", fields)
    strict = map_extract(source, extract, m, b"k", EXPORT)
    assert issues_of(strict) == {(3, "partial_date", "d"), (4, "partial_date", "d"),
                                 (5, "unparseable_date", "d")}
    fields["onset_date"] = {"column": "d", "partial_dates": "first_day"}
    m, extract = extract_for("adverse_event", fields)
    lenient = map_extract(source, extract, m, b"k", EXPORT)
    assert list(lenient.rows["onset_date"]) == [date(2019, 3, 14), date(2019, 3, 1),
                                                date(2019, 1, 1)]
    assert list(lenient.rows["dates_imputed"].fillna("")) == [
        "", "onset_date=day", "onset_date=month_day"]


def test_an_iso_date_with_a_time_after_a_t_or_a_blank_is_its_day():
    """REDCap writes a datetime field as ``2024-02-28 14:35``, SQL exports with seconds;
    SDTM puts a ``T`` between. A blank followed by anything but a time is no date."""
    sent = ["2024-02-28T14:35", "2024-02-28 14:35", "2024-02-28 9:05:59", "2024-02-28 14:35:00.5",
            "2024-02 10:00", "2024-02-28 nachm.", "2024-02-28 14", "2024-02-28  14:35"]
    source = frame(pid=[str(n) for n in range(len(sent))], d=sent, t=["Nausea"] * len(sent),
                   g=["1"] * len(sent))
    m, extract = extract_for("adverse_event", {
        "onset_date": "d", "term": {"column": "t", "accept_canonical": True}, "grade": "g"})
    result = map_extract(source, extract, m, b"k", EXPORT)
    assert list(result.rows["onset_date"]) == [date(2024, 2, 28)] * 4
    assert issues_of(result) == {(6, "partial_date", "d"), (7, "unparseable_date", "d"),
                                 (8, "unparseable_date", "d"), (9, "unparseable_date", "d")}


def test_canonical_terms_pass_and_unknown_terms_are_quarantined():
    m, extract = extract_for("adverse_event", {
        "onset_date": "d", "term": {"column": "t", "accept_canonical": True}, "grade": "g"})
    result = map_extract(frame(pid=["1", "2"], d=["2020-01-01"] * 2,
                               t=["platelet count DECREASED", "Bad luck"], g=["2", "3"]),
                         extract, m, b"k", EXPORT)
    assert list(result.rows["term"]) == ["Platelet count decreased"]
    assert issues_of(result) == {(3, "unknown_code", "t")}


@pytest.mark.parametrize(("scale", "score", "accepted"), [
    ("KPS", "70", True), ("KPS", "75", False), ("KPS", "110", False),
    ("ECOG", "5", True), ("ECOG", "6", False), ("ECOG", "2", True),
])
def test_performance_scores_are_checked_on_their_own_scale(scale, score, accepted):
    m, extract = extract_for("performance_status", {
        "assessment_date": "d", "scale": {"column": "s", "codes": "scale"}, "score": "v"})
    result = map_extract(frame(pid=["1"], d=["2020-01-01"], s=[scale], v=[score]), extract, m,
                         b"k", EXPORT)
    assert result.issues.empty == accepted
    if not accepted:
        assert list(result.issues["reason_code"]) == ["out_of_range"]


@pytest.mark.parametrize(("item", "answer", "accepted"), [
    ("QLQ03", "4", True), ("QLQ03", "5", False), ("QLQ29", "5", True), ("QLQ30", "7", True),
    ("QLQ30", "8", False), ("QLQ31", "1", False), ("Q03", "1", False),
])
def test_qlq_items_are_read_from_the_test_code_and_checked_per_item(item, answer, accepted):
    m, extract = extract_for("qlq_c30_item_response", {
        "assessment_date": "d", "item_no": {"column": "c", "pattern": "QLQ(\\d+)"},
        "response": "r"})
    result = map_extract(frame(pid=["1"], d=["2020-01-01"], c=[item], r=[answer]), extract, m,
                         b"k", EXPORT)
    assert result.issues.empty == accepted
    if accepted:
        assert list(result.rows["item_no"]) == [int(item[3:])]


def test_a_full_birth_date_is_reduced_to_its_year_and_blank_flags_take_a_default():
    m = SiteMapping.model_validate({
        "site": "TST", "name": "t", "format": "delimited",
        "delivery": {"pattern": "TST_(?P<export_date>\\d{8})"}, "date_format": "ISO8601",
        "patient_id": "pid", "codes": {"yn": {"Y": True, "N": False}},
        "extracts": [
            {"table": "patient", "file": "p.csv", "fields": {
                "birth_year": {"column": "b", "year_only": True}}},
            {"table": "vital_status", "file": "v.csv", "fields": {
                "is_dead": {"column": "f", "codes": "yn", "if_missing": "N"}}}]})
    patients = map_extract(frame(pid=["1", "2"], b=["1961-07-30", "1950"]), m.extracts[0], m,
                           b"k", EXPORT)
    assert list(patients.rows["birth_year"]) == [1961, 1950]
    assert "b" not in patients.rows and not any(
        "1961-07-30" in str(v) for v in patients.rows.to_numpy().ravel())
    vital = map_extract(frame(pid=["1", "2"], f=["Y", None]), m.extracts[1], m, b"k", EXPORT)
    assert list(vital.rows["is_dead"]) == [True, False]


@pytest.mark.parametrize("date_format", ["ISO8601", "%d-%m-%Y"])
def test_a_date_column_empty_in_every_row_maps_to_no_dates(date_format):
    """pandas gives an all-NaT column datetime dtype, not dates; the future-date check
    must still work (a night's new rows can all lack a death date)."""
    m = SiteMapping.model_validate({
        "site": "TST", "name": "t", "format": "delimited",
        "delivery": {"pattern": "TST_(?P<export_date>\\d{8})"}, "date_format": date_format,
        "patient_id": "pid", "codes": {"yn": {"Y": True, "N": False}},
        "extracts": [{"table": "vital_status", "file": "v.csv", "fields": {
            "last_contact_date": "c", "is_dead": {"column": "f", "codes": "yn"},
            "death_date": "d"}}]})
    contact = "2024-05-02" if date_format == "ISO8601" else "02-05-2024"
    vital = map_extract(frame(pid=["1", "2"], c=[contact, contact], f=["N", "N"],
                              d=[None, None]), m.extracts[0], m, b"k", EXPORT)
    assert vital.issues.empty
    assert list(vital.rows["last_contact_date"]) == [date(2024, 5, 2)] * 2
    assert list(vital.rows["death_date"]) == [None, None]


@pytest.mark.parametrize(("family", "expected"), [
    ("excel", [date(2024, 2, 17), date(2024, 3, 5), date(2024, 4, 1), None, None]),
    ("delimited", [date(2024, 2, 17), None, None, None, None])])
def test_a_workbook_s_date_cells_are_read_beside_dates_typed_in_the_centre_s_format(
        family, expected):
    """In a hand-kept workbook a column mixes date cells (read as ISO dates) and dates
    typed as text in the centre's format; a partial ISO date is no date cell."""
    m = SiteMapping.model_validate({
        "site": "TST", "name": "t", "format": family,
        "delivery": {"pattern": "TST_(?P<export_date>\\d{8})"}, "date_format": "%d.%m.%Y",
        "patient_id": "pid", "codes": {"yn": {"ja": True, "nein": False}},
        "extracts": [{"table": "vital_status", "file": "v.csv",
                      **({"sheet": "Verlauf"} if family == "excel" else {}),
                      "fields": {"last_contact_date": "c",
                                 "is_dead": {"column": "f", "codes": "yn"}}}]})
    sent = ["17.02.2024", "2024-03-05", "2024-04-01T00:00:00", "2024-05", "31.02.2024"]
    vital = map_extract(frame(pid=list("12345"), c=sent, f=["nein"] * 5), m.extracts[0], m,
                        b"k", EXPORT)
    read = dict(zip(vital.rows[SOURCE_ROW], vital.rows["last_contact_date"], strict=True))
    assert [read.get(row) for row in range(2, 7)] == expected
    assert issues_of(vital) == {(row, "unparseable_date", "c") for row in range(2, 7)
                                if expected[row - 2] is None}


@pytest.mark.parametrize(("decimal", "sent", "expected"), [
    (".", ["1,250", "1,250.5", "12.5", "12,5"], [1250.0, 1250.5, 12.5, None]),
    (",", ["1.250", "1.250,5", "12,5", "1,250"], [1250.0, 1250.5, 12.5, 1.25]),
    (",", ["1 250", "1\u00a0250,5", "1\u202f250\u202f000", "12 50"], [1250.0, 1250.5, 1250000.0,
                                                                     None]),
    (".", ["1 250.5", "1 250 000.5", "1 250,000", "1.250 000"], [1250.5, 1250000.5, None, None]),
])
def test_lab_values_with_thousands_grouped_by_the_other_mark(decimal, sent, expected):
    """A CgA of 1,250 µg/L is 1250 (not 1.25, nor refused); '12,5' with a decimal point is
    no number (quarantined), '1,250' with a decimal comma is 1.25; a blank groups thousands
    too, but one number groups them one way throughout."""
    m = SiteMapping.model_validate({
        "site": "TST", "name": "t", "format": "delimited",
        "delivery": {"pattern": "TST_(?P<export_date>\\d{8})"}, "reader": {"decimal": decimal},
        "date_format": "ISO8601", "patient_id": "pid", "codes": {"lab": {"CgA": "CGA"}},
        "extracts": [{"table": "lab_result", "file": "l.csv", "fields": {
            "sample_date": "d", "analyte": {"column": "a", "codes": "lab"},
            "value": {"column": "v", "unit": "ug/L"}}}]})
    labs = map_extract(frame(pid=["1"] * 4, d=[f"2024-01-0{n}" for n in range(1, 5)],
                             a=["CgA"] * 4, v=sent), m.extracts[0], m, b"k", EXPORT)
    values = dict(zip(labs.rows[SOURCE_ROW], labs.rows["value"], strict=True))
    assert [values.get(row) for row in range(2, 6)] == expected
    assert issues_of(labs) == {(row, "invalid_number", "v") for row in range(2, 6)
                               if expected[row - 2] is None}


@pytest.mark.parametrize(("unit", "count", "expected"), [
    ("10^9/L", "250", 250.0), ("x10^9/L", "250", 250.0), ("×10⁹/l", "250", 250.0),
    ("10*9/L", "250", 250.0), ("10E9/L", "250", 250.0), (" 10^9 / L", "250", 250.0),
    ("Gpt/l", "250", 250.0), ("Tsd/µl", "250", 250.0), ("10³/µL", "250", 250.0),
    ("/µL", "250000", 250.0), ("/mm³", "250000", 250.0), ("K/μL", "250", 250.0),
])
def test_a_count_sent_in_any_spelling_of_its_unit_converts_to_10_9_per_litre(
        unit, count, expected):
    """Laboratory systems write one unit many ways (UCUM's 10*9/L, ×10⁹/L, German Gpt/l
    and Tsd/µl); a count per microlitre is a thousandth of one in 10^9/L."""
    m, extract = extract_for("lab_result", {
        "sample_date": "datum", "analyte": {"column": "test", "accept_canonical": True},
        "value": {"column": "waarde", "unit_column": "eenheid"}})
    frame = pd.DataFrame({"pid": ["1"], "datum": ["2024-03-20"], "test": ["PLT"],
                          "waarde": [count], "eenheid": [unit]}).astype("string")
    frame[SOURCE_ROW], frame[UNIT_ID] = [2], [0]
    result = map_extract(frame, extract, m, b"k", EXPORT)
    assert result.issues.empty, result.issues.to_dict("records")
    assert result.rows[["value", "unit", "lab_source_unit"]].values.tolist() == [
        [expected, "10^9/L", unit]]


def test_no_two_rows_of_the_unit_table_convert_one_unit():
    """Two spellings of one unit in ``unit_conversions.csv`` would be one key, the second
    silently replacing the first."""
    with open(REFERENCE_DIR / "unit_conversions.csv", encoding="utf-8") as table:
        rows = [(row["quantity"], normalise_unit(row["unit"])) for row in csv.DictReader(table)]
    assert len(rows) == len(set(rows)) == len(unit_conversions()) > 50

"""Mapping files are validated on load, with errors that name the file and the key."""

from pathlib import Path

import pytest

from etl.config import Settings
from etl.errors import ConfigurationError
from etl.mapping import PACKAGED_SITES_DIR, load_all_mappings, load_mapping

VALID = """
site: NEW
name: a new centre
format: delimited
delivery: {pattern: "NEW_(?P<export_date>\\\\d{8})"}
patient_id: pid
codes: {phase: {r: regular}}
extracts:
  - table: treatment_cycle
    file: cycles.csv
    fields:
      cycle_date: date
      phase: {column: ph, codes: phase}
"""


def write(tmp_path: Path, text: str, name: str = "new.yml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_valid_mapping_loads(tmp_path):
    loaded = load_mapping(write(tmp_path, VALID))
    assert loaded.mapping.site == "NEW"
    assert loaded.mapping.extracts[0].fields["cycle_date"].column == "date"


@pytest.mark.parametrize(("change", "expected"), [
    (("table: treatment_cycle", "table: cycles"), "unknown table 'cycles'"),
    (("cycle_date: date", "cycle_day: date"), "required fields not mapped: cycle_date"),
    (("codes: phase}", "codes: fase}"), "code list 'fase' is not defined"),
    (("format: delimited", "format: parquet"), "format: Input should be 'delimited'"),
    (("(?P<export_date>", "("), "named group (?P<export_date>"),
])
def test_mistakes_name_the_file_the_key_and_what_was_expected(tmp_path, change, expected):
    path = write(tmp_path, VALID.replace(*change))
    with pytest.raises(ConfigurationError) as error:
        load_mapping(path)
    assert str(path) in str(error.value)
    assert expected in str(error.value)


def test_file_name_must_be_the_centre_code(tmp_path):
    with pytest.raises(ConfigurationError, match="new.yml"):
        load_mapping(write(tmp_path, VALID, name="other.yml"))


def test_sites_dir_adds_a_centre_beside_the_packaged_ones(tmp_path, monkeypatch):
    write(tmp_path, VALID)
    monkeypatch.setenv("PRRT_SITES_DIR", str(tmp_path))
    mappings = load_all_mappings(Settings.from_env())
    assert {"ROT", "NEW"} <= set(mappings)
    assert mappings["ROT"].path.parent == PACKAGED_SITES_DIR


def test_yes_no_field_without_a_code_list_is_a_mapping_error(tmp_path):
    text = VALID + ("  - table: patient\n    file: patients.csv\n"
                    "    fields:\n      bone_metastases: bone\n")
    with pytest.raises(ConfigurationError, match="bone_metastases: a yes/no field needs 'codes'"):
        load_mapping(write(tmp_path, text))


@pytest.mark.parametrize(("change", "expected"), [
    (("codes: {phase: {r: regular}}", "codes: {phase: {r: regulier}}"),
     "maps to regulier; expected one of ['regular', 'salvage']"),
    (("file: cycles.csv", "file: cycles.csv\n    sheet: Zyklen"),
     "'sheet' applies to Excel workbooks only"),
    (("cycle_date: date", "cycle_date: {column: date, labels: true}"),
     "'labels' and 'checkbox' need a REDCap data dictionary"),
    (("cycle_date: date", "cycle_date: {column: date, pattern: '\\\\d+'}"),
     "'pattern' needs exactly one capturing group"),
    (("format: delimited", "format: excel"), "an Excel extract names its 'sheet'"),
    (("format: delimited", "format: redcap"), "a REDCap mapping names its data dictionary"),
    (("patient_id: pid", "patient_id: pid\nreader: {encoding: latin-9x}"),
     "reader.encoding: Value error, unknown encoding 'latin-9x'"),
    (("patient_id: pid", "patient_id: pid\nreader: {delimiter: '||'}"),
     "reader.delimiter: Value error, one character, not a line end (got '||')"),
    (("patient_id: pid", "patient_id: pid\nreader: {quote: ''}"),
     "reader.quote: Value error, one character, not a line end (got '')"),
    (("patient_id: pid", "patient_id: pid\nreader: {delimiter: '\"'}"),
     "the delimiter and the quote are both '\"'"),
    (("cycle_date: date", "cycle_date: {column: date, date_format: '%d-%m-%Q'}"),
     "cycle_date: Value error, date format '%d-%m-%Q': 'Q' is a bad directive"),
    (("patient_id: pid", "patient_id: pid\ndate_format: '%d.%m'"),
     "date_format: Value error, date format '%d.%m' does not read a date's year, month and "
     "day (2024-02-28 written with it reads back as 1900-02-28)"),
    (("NEW_(?P<export_date>\\\\d{8})\"}", "NEW_(?P<export_date>\\\\d{8})\", "
      "export_date_format: ISO8601}"), "delivery.export_date_format: Value error"),
    (("cycle_date: date", "cycle_date: {column: date, pattern: '(\\\\d+'}"),
     "cycle_date: Value error, 'pattern' is not a regular expression: missing ), "
     "unterminated subpattern at position 0"),
    (("(?P<export_date>\\\\d{8})", "(?P<export_date>\\\\d{8}"),
     "delivery.pattern: Value error, 'pattern' is not a regular expression"),
    (("cycle_date: date", "cycle_date: date\n      administered_activity_gbq: "
                          "{column: act, unit: furlong}"),
     "administered_activity_gbq: no conversion of unit 'furlong' for activity in "
     "etl/reference/unit_conversions.csv (it converts GBq, MBq, mCi)"),
    (("cycle_date: date", "cycle_date: date\n      administered_activity_gbq: act"),
     "administered_activity_gbq: a measurement needs its unit as sent"),
    (("codes: {phase: {r: regular}}", "codes: {phase: {r: regular, 'R ': salvage}}"),
     "codes.phase: 'r' and 'R ' are one code (case and blanks are ignored) mapped to "
     "regular and salvage"),
    (("cycle_date: date", "cycle_date: {column: date, unit: GBq}"),
     "cycle_date: 'unit' and 'unit_column' apply to measurements only"),
    (("patient_id: pid", "patient_id: pid\nreader: {header_row: 0}"),
     "reader.header_row: Input should be greater than or equal to 1"),
    (("format: delimited", "format: sdtm\nreader: {header_row: 3}"),
     "reader.header_row: a sdtm export has its header first; 'header_row' applies to "
     "delimited text and Excel"),
])
def test_new_mapping_keys_are_checked_with_clear_messages(tmp_path, change, expected):
    path = write(tmp_path, VALID.replace(*change))
    with pytest.raises(ConfigurationError) as error:
        load_mapping(path)
    assert expected in str(error.value)


def test_a_year_kept_as_a_year_may_have_a_format_of_the_year_alone(tmp_path):
    text = VALID + ("  - table: patient\n    file: patients.csv\n    fields:\n"
                    "      birth_year: {column: born, date_format: '%Y', year_only: true}\n")
    loaded = load_mapping(write(tmp_path, text))
    assert loaded.mapping.extracts[1].fields["birth_year"].date_format == "%Y"


LABS = """
site: NEW
name: a new centre
format: delimited
delivery: {pattern: "NEW_(?P<export_date>\\\\d{8})"}
patient_id: pid
extracts:
  - table: lab_result
    file: labs.csv
    unpivot:
      key_field: analyte
      value_field: value
      columns: {hb: {key: HGB, unit: g/dL}, cga: {key: CGA, unit: ng/mL}}
    fields:
      sample_date: date
"""


@pytest.mark.parametrize(("change", "expected"), [
    (("unit: g/dL", "unit: GBq"), "column 'hb': no conversion of unit 'GBq' for HGB"),
    ((", unit: ng/mL", ""), "column 'cga': a measurement needs its 'unit'"),
    (("columns: {hb: {key: HGB, unit: g/dL}, cga: {key: CGA, unit: ng/mL}}",
      "matching: 'lab_(\\\\w+)'"), "measurements are unpivoted by 'columns'"),
])
def test_an_unpivot_of_lab_values_says_each_columns_unit_a_conversion_knows(
        tmp_path, change, expected):
    assert load_mapping(write(tmp_path, LABS)).mapping.extracts[0].unpivot.columns["hb"].unit
    with pytest.raises(ConfigurationError, match=expected):
        load_mapping(write(tmp_path, LABS.replace(*change)))


VALID_FIELDS = "cycle_date: date\n      phase: {column: ph, codes: phase}"


@pytest.mark.parametrize(("fields", "expected"), [
    ("cycle_date: date\n      phase: {constant: x, codes: phase}",
     "phase: constant 'x': unknown_code: not in code list 'phase' of the site mapping"),
    ("cycle_date: date\n      phase: {constant: regulr}",
     "phase: constant 'regulr': 'regulr' is not one of ['regular', 'salvage']"),
    ("cycle_date: date\n      phase: {constant: regular}\n      cycle_no: {constant: 0}",
     "cycle_no: constant 0: out_of_range: cycle_no outside [1, None] in steps of 1: cycles "
     "are numbered from 1"),
    ("cycle_date: date\n      phase: {constant: regular}\n"
     "      administered_activity_gbq: {constant: 25000, unit: MBq}",
     "administered_activity_gbq: constant 25000: out_of_range: administered_activity_gbq "
     "outside [1E-9, 20]: no 177Lu-octreotate cycle exceeds 20 GBq"),
    ("cycle_date: {constant: 31.12.2024}\n      phase: {constant: regular}",
     "cycle_date: constant '31.12.2024': unparseable_date: "),
])
def test_a_constant_is_read_as_a_cell_of_its_field_when_the_mapping_loads(
        tmp_path, fields, expected):
    """A wrong constant would quarantine every row (or fail gate 1) night after night."""
    path = write(tmp_path, VALID.replace(VALID_FIELDS, fields))
    with pytest.raises(ConfigurationError) as error:
        load_mapping(path)
    assert f"{path}: invalid site mapping\n  extracts[0] (cycles.csv -> treatment_cycle)." \
           f"{expected}" in str(error.value)


def test_constants_that_read_as_their_field_reads_a_cell_load(tmp_path):
    fields = ("cycle_date: {constant: '2024-12-31'}\n      phase: {constant: ' R ', "
              "codes: phase}\n      cycle_no: {constant: 1}\n"
              "      administered_activity_gbq: {constant: '7400', unit: MBq}")
    loaded = load_mapping(write(tmp_path, VALID.replace(VALID_FIELDS, fields)))
    assert loaded.mapping.extracts[0].fields["administered_activity_gbq"].constant == "7400"

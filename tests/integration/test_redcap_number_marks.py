"""A REDCap project whose number fields differ in their decimal mark (REDCap validates a
field as ``number`` or ``number_comma_decimal`` and exports each value as entered) loads
each number as its field's validation in the data dictionary reads it: ``1,125`` in a
comma field of a project read with points was 1125, silently, and ``12,5`` quarantined."""

import csv

import pytest

from etl import db
from tests.conftest import SAMPLES, copy_samples, loaded_records, with_reader_options

DICTIONARY = "IOW_data_dictionary.csv"
EXPORT = "IOW_redcap_20240601.csv"
VALIDATION = "Text Validation Type OR Show Slider Number"
VALIDATED = {".": "number", ",": "number_comma_decimal"}


def rewrite(path, change) -> None:
    with path.open(newline="", encoding="utf-8") as file:
        header, *rows = list(csv.reader(file))
    change(header, rows)
    with path.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file, lineterminator="\n").writerows([header, *rows])


def mixed_marks(folder, mark: str) -> None:
    """Every number field validated and written with ``mark``, but CgA with the other;
    two CgA values with decimals (804 and 759 before)."""
    other = {".": ",", ",": "."}[mark]
    marks = {}

    def validation(header, rows):
        for row in rows:
            if row[header.index(VALIDATION)].startswith("number"):
                marks[row[0]] = other if row[0] == "cga_ngml" else mark
                row[header.index(VALIDATION)] = VALIDATED[marks[row[0]]]

    def values(header, rows):
        for name, field_mark in marks.items():
            for row in rows:
                row[header.index(name)] = row[header.index(name)].replace(".", field_mark)
        cga = header.index("cga_ngml")
        first, second = [row for row in rows if row[cga]][:2]
        assert (first[cga], second[cga]) == ("804", "759")
        first[cga], second[cga] = f"1{other}125", f"12{other}5"

    rewrite(folder / DICTIONARY, validation)
    rewrite(folder / EXPORT, values)
    assert len(marks) >= 10 and marks["hgb_g_dl"] == mark


def as_read(column: str) -> bool:
    return not column.endswith(("_source_value", "ki67_source"))  # 11,5 as sent


@pytest.mark.parametrize("mark", [".", ","])
def test_each_number_field_is_read_with_its_own_mark(settings, tmp_path, monkeypatch, mark):
    copy_samples(settings, "IOW")
    as_sent = loaded_records(settings, ("IOW",), as_read)["IOW"]
    reader = with_reader_options(tmp_path, monkeypatch, ("IOW",), decimal=mark)
    mixed_marks(reader.inbox / SAMPLES["IOW"], mark)
    files, tables = loaded_records(reader, ("IOW",), as_read)["IOW"]
    assert files == as_sent[0]  # nothing quarantined for a mark
    with db.connect(reader) as connection:
        assert connection.exec_driver_sql(
            "SELECT value, lab_source_value FROM raw.lab_result WHERE analyte = 'CGA' "
            "ORDER BY source_row LIMIT 2").fetchall() == [(1.125, f"1{mark}125"),
                                                          (12.5, f"12{mark}5")]
        hgb = connection.exec_driver_sql(
            "SELECT value, lab_source_value FROM raw.lab_result WHERE analyte = 'HGB' "
            "ORDER BY source_row LIMIT 1").fetchone()
    assert hgb[1] == f"{hgb[0]:g}".replace(".", mark)  # 11.5 g/dL, in the field's mark
    changed = {row for row in tables.pop("lab_result")} ^ set(as_sent[1].pop("lab_result"))
    assert len(changed) == 4  # the two CgA values as they were and as they are now
    assert tables == as_sent[1]

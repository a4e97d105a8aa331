"""The REDCap data dictionary: choices decoded whatever delimiter the dictionary and the
records export were written with."""

import pandas as pd
import pytest

from etl.errors import DeliveryRejected
from etl.extract.redcap import holds_data, read_dictionary
from etl.mapping import ReaderOptions

HEADER = ["Variable / Field Name", "Form Name", "Field Type", "Field Label",
          "Choices, Calculations, OR Slider Labels"]
ROWS = [["record_id", "demographics", "text", "Record ID", ""],
        ["sex", "demographics", "radio", "Sex", "1, Male | 2, Female"],
        ["alive", "followup", "yesno", "Alive?", ""],
        ["site", "demographics", "dropdown", "Primary", "7, Midgut, small intestine | 9, Other"]]
EXPECTED = {"sex": {"1": "Male", "2": "Female"}, "alive": {"1": "Yes", "0": "No"},
            "site": {"7": "Midgut, small intestine", "9": "Other"}}


def written(delimiter: str, quote_all: bool = False, bom: str = "") -> str:
    def cell(text: str) -> str:
        return f'"{text}"' if quote_all or delimiter in text or "," in text else text
    return bom + "\n".join(delimiter.join(map(cell, row)) for row in [HEADER, *ROWS]) + "\n"


@pytest.mark.parametrize("text", [
    written(","),                          # as REDCap writes it
    written(",", quote_all=True, bom="\ufeff"),
    written(";"),                          # saved again in a semicolon locale
    written("\t", quote_all=True),
], ids=["comma", "quoted-bom", "semicolon", "tab-quoted"])
def test_choices_are_read_with_the_dictionary_s_own_delimiter(tmp_path, text):
    path = tmp_path / "dictionary.csv"
    path.write_text(text, encoding="utf-8")
    # the records export is semicolon-separated with decimal commas: not the dictionary's
    options = ReaderOptions(delimiter=";", decimal=",", dictionary="dictionary.csv")
    assert read_dictionary(path, options).choices == EXPECTED


def test_a_file_that_is_not_a_dictionary_is_rejected_by_name(tmp_path):
    path = tmp_path / "dictionary.csv"
    path.write_text("field;form\nsex;demographics\n", encoding="utf-8")
    with pytest.raises(DeliveryRejected, match=r"dictionary\.csv: not a REDCap data "
                                                r"dictionary; missing column\(s\) Choices"):
        read_dictionary(path, ReaderOptions(dictionary="dictionary.csv"))


def test_a_form_row_holds_data_when_a_field_is_filled_or_a_box_ticked():
    rows = pd.DataFrame({"redcap_event_name": ["cycle_1_arm_1"] * 4,
                         "cycle_date": [None, "2024-01-02", None, None],
                         "met_site___1": ["0", "0", "1", None]}, dtype="string")
    assert holds_data(rows, list(rows.columns), ["met_site___1"]).tolist() == [
        False, True, True, False]
    # an extract reading no field of the form (constants, the event) keeps every row
    assert holds_data(rows, ["redcap_event_name"], []).tolist() == [True] * 4

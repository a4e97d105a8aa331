"""REDCap "raw" record exports with their data dictionary.

The records file is delimited text (read by the delimited reader). Choice fields hold
codes (``2``); what the codes mean comes from the delivery's own data dictionary
(``1, Male | 2, Female``), never from code: a centre that renumbers its choices keeps
loading correctly. Checkbox fields arrive as one column per choice
(``met_site___1`` … ``met_site___4``, ticked ``1``). Rows are identified by record,
event and repeat instance; a mapping picks a form's rows with ``form:`` (rows whose
``<form>_complete`` status is filled).

The data dictionary is REDCap's own file, comma-separated whatever delimiter the records
were exported with (REDCap offers semicolon, tab and others for exports); a dictionary
saved again with another delimiter is recognised by what follows its first column's
name, ``Variable / Field Name``.

A number field's decimal mark is its validation in the dictionary: REDCap offers
``number`` (a point) and ``number_comma_decimal`` (a comma) and exports each value as it
was entered, so one project can send both; a record's numbers are put in the mark the
mapping reads (``in_reader_marks``), or ``1,125`` read with a point would be 1125.
"""

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from etl.errors import DeliveryRejected
from etl.extract import delimited
from etl.mapping import ReaderOptions

FIELD = "Variable / Field Name"
FORM = "Form Name"
FIELD_TYPE = "Field Type"
CHOICES = "Choices, Calculations, OR Slider Labels"
VALIDATION = "Text Validation Type OR Show Slider Number"
FIXED_CHOICES = {"yesno": {"1": "Yes", "0": "No"}, "truefalse": {"1": "True", "0": "False"}}
CHOICE_TYPES = ("radio", "dropdown", "checkbox")
SYSTEM_PREFIX = "redcap_"  # REDCap reserves it for its own columns: event, repeat, group
TICKED = "1"


@dataclass
class DataDictionary:
    """What a delivery's data dictionary says of its fields."""

    choices: dict[str, dict[str, str]] = field(default_factory=dict)  # field -> code -> label
    decimal_marks: dict[str, str] = field(default_factory=dict)  # number field -> . or ,


def read_dictionary(path: Path, options: ReaderOptions) -> DataDictionary:
    """The dictionary's choices and number fields, read in the centre's encoding."""
    dictionary = delimited.read_file(path, options.model_copy(
        update={"delimiter": _dictionary_delimiter(path, options.encoding)}))
    missing = {FIELD, FIELD_TYPE, CHOICES} - set(dictionary.columns)
    if missing:
        raise DeliveryRejected(f"{path}: not a REDCap data dictionary; missing column(s) "
                               f"{', '.join(sorted(missing))}")
    read = DataDictionary()
    rows = dictionary[[FIELD, FIELD_TYPE, CHOICES]].astype(object)
    for name, field_type, text in rows.itertuples(index=False, name=None):
        if field_type in FIXED_CHOICES:
            read.choices[name] = FIXED_CHOICES[field_type]
        elif field_type in CHOICE_TYPES and isinstance(text, str):
            read.choices[name] = _parse_choices(path, name, text)
    if VALIDATION in dictionary.columns:
        for name, validation in dictionary[[FIELD, VALIDATION]].dropna().itertuples(
                index=False, name=None):
            if validation.startswith("number"):
                read.decimal_marks[name] = "," if validation.endswith("comma_decimal") else "."
    return read


def in_reader_marks(rows: pd.DataFrame, decimal_marks: dict[str, str], reader_mark: str
                    ) -> pd.DataFrame:
    """``rows`` with each number field written in the ``reader_mark`` where the data
    dictionary validates it with the other (validation lets no thousands separator in)."""
    marks = {name.casefold(): mark for name, mark in decimal_marks.items()}
    other = [c for c in rows.columns if marks.get(c.casefold(), reader_mark) != reader_mark]
    if not other:
        return rows
    rows = rows.copy()
    for column in other:
        rows[column] = rows[column].str.replace(marks[column.casefold()], reader_mark,
                                                regex=False)
    return rows


def _dictionary_delimiter(path: Path, encoding: str) -> str:
    """The character after ``Variable / Field Name`` on the first line; REDCap's comma
    when the line does not begin with that name (the dictionary is then rejected for its
    missing columns)."""
    with path.open(encoding=encoding, errors="replace") as file:
        first = file.readline().lstrip("\ufeff").lstrip('"')
    after = first[len(FIELD):] if first.startswith(FIELD) else ""
    after = after.lstrip('"')
    return after[0] if after and after[0] not in "\r\n" else ","


def _parse_choices(path: Path, field: str, text: str) -> dict[str, str]:
    """``1, Male | 2, Female`` -> {"1": "Male", "2": "Female"} (labels may contain commas)."""
    parsed = {}
    for part in text.split("|"):
        code, comma, label = part.partition(",")
        if not comma:
            raise DeliveryRejected(f"{path}: field {field}: cannot read choice {part.strip()!r} "
                                   "(expected 'code, label')")
        parsed[code.strip()] = label.strip()
    return parsed


def checkbox_column(choices: dict[str, dict[str, str]], field: str, option: str) -> str:
    """The export column of one checkbox choice, found by its label in the dictionary."""
    options = choices.get(field)
    if options is None:
        raise DeliveryRejected(f"data dictionary: no choice field {field!r}")
    codes = [code for code, label in options.items() if label.casefold() == option.casefold()]
    if not codes:
        raise DeliveryRejected(f"data dictionary: field {field!r} has no choice {option!r} "
                               f"(choices: {', '.join(options.values())})")
    return f"{field}___{codes[0]}".lower().replace("-", "_")


def form_status_column(form: str) -> str:
    return f"{form}_complete"


def holds_data(rows: pd.DataFrame, columns: list[str], checkboxes: list[str]) -> pd.Series:
    """Which of a form's rows hold data in ``columns`` (the form's fields an extract
    reads). REDCap exports a row for every event a form is designated for, data or not,
    with the form's status 0 (incomplete) and each checkbox 0 (unticked): neither is
    data, so a row with no other field filled and no box ticked carries no record.
    REDCap's own columns (``redcap_event_name`` …) are never data; an extract that
    reads no field of the form (constants only) takes every row with a status."""
    fields = [c for c in columns if not c.startswith(SYSTEM_PREFIX) and c not in checkboxes]
    if not fields and not checkboxes:
        return pd.Series(True, index=rows.index)
    filled = rows[fields].notna().any(axis=1)
    ticked = rows[checkboxes].eq(TICKED).fillna(False).any(axis=1)
    return filled | ticked

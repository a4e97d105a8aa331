"""Site mappings: one YAML file per centre, validated on load.

A mapping says how one centre's delivery becomes canonical ``raw`` rows: which files,
which reader options, which source column feeds which canonical field, which code lists
and units apply. Everything centre-specific lives in the YAML; the Python is shared.
See ``docs/site-mappings.md`` for the format and a walkthrough.
"""

import codecs
import hashlib
import re
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import Boolean, Column, Integer, Table

import models  # noqa: F401  (registers the raw tables)
from etl.config import PACKAGE_DIR, Settings
from etl.errors import ConfigurationError
from etl.reference import normalise_unit, units_of, vocabulary
from models.base import metadata

PACKAGED_SITES_DIR = PACKAGE_DIR / "sites"
FormatFamily = Literal["delimited", "excel", "redcap", "sdtm"]
CodeValue = str | bool | int
ISO8601 = "ISO8601"  # date_format value: ISO 8601 dates, possibly partial or with a time


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldMap(Strict):
    """Where one canonical field comes from and how its source value is read."""

    column: str | None = None
    constant: CodeValue | None = None
    checkbox: str | None = None
    option: str | None = None
    if_missing: str | None = None
    pattern: str | None = None
    labels: bool = False
    codes: str | None = None
    accept_canonical: bool = False
    unit: str | None = None
    unit_column: str | None = None
    date_format: str | None = None
    partial_dates: Literal["reject", "first_day"] = "reject"
    year_only: bool = False
    qualifier: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> "FieldMap":
        sources = [s for s in (self.column, self.constant, self.checkbox) if s is not None]
        if len(sources) != 1:
            raise ValueError("give exactly one of 'column' (a source column), 'constant', "
                             "or 'checkbox' (a REDCap checkbox field, with 'option')")
        if (self.checkbox is None) != (self.option is None):
            raise ValueError("'checkbox' and 'option' (the choice label) go together")
        if self.unit and self.unit_column:
            raise ValueError("give 'unit' (fixed) or 'unit_column' (per row), not both")
        if self.pattern is not None and _regex(self.pattern, "pattern").groups != 1:
            raise ValueError("'pattern' needs exactly one capturing group: the value")
        if self.date_format is not None:
            _date_format(self.date_format, whole_date=not self.year_only)
        return self


def _regex(pattern: str, key: str) -> re.Pattern:
    """``pattern`` compiled; a mistake in it is reported as the mapping's, by its key."""
    try:
        return re.compile(pattern)
    except re.error as error:
        raise ValueError(f"{key!r} is not a regular expression: {error}") from None


SAMPLE_DAY = date(2024, 2, 28)  # a day whose day, month and year all differ


def _date_format(date_format: str, whole_date: bool, iso8601: bool = True) -> str:
    """``date_format`` if it reads back what it writes (ISO8601 aside, where allowed):
    the year, month and day of a date, or only its year for a field kept as a year.
    A format without the year (``%d.%m``) would read every date as one in 1900, and an
    unknown directive (``%Q``) failed only when the first delivery was read."""
    if iso8601 and date_format == ISO8601:
        return date_format
    try:
        read = datetime.strptime(SAMPLE_DAY.strftime(date_format), date_format).date()
    except ValueError as error:
        raise ValueError(f"date format {date_format!r}: {error}") from None
    wanted = SAMPLE_DAY if whole_date else SAMPLE_DAY.replace(month=1, day=1)
    if (read if whole_date else read.replace(month=1, day=1)) != wanted:
        raise ValueError(f"date format {date_format!r} does not read a date's "
                         f"{'year, month and day' if whole_date else 'year'} "
                         f"({SAMPLE_DAY} written with it reads back as {read})")
    return date_format


def _field_shorthand(value: object) -> object:
    """``field: source_column`` is short for ``field: {column: source_column}``."""
    return {"column": value} if isinstance(value, str) else value


class UnpivotColumn(Strict):
    """One wide source column: the key it stands for and, for measurements, its unit."""

    key: CodeValue
    unit: str | None = None


class Unpivot(Strict):
    """Wide to long: each non-empty cell of the listed columns becomes one record."""

    key_field: str
    value_field: str
    columns: dict[str, UnpivotColumn] = Field(default_factory=dict)
    matching: str | None = None

    @field_validator("columns", mode="before")
    @classmethod
    def _expand(cls, columns: dict) -> dict:
        return {name: spec if isinstance(spec, dict) else {"key": spec}
                for name, spec in (columns or {}).items()}

    @model_validator(mode="after")
    def _some_columns(self) -> "Unpivot":
        if bool(self.columns) == (self.matching is not None):
            raise ValueError("give 'columns' (source column -> key) or 'matching' (a regular "
                             "expression whose group is the key), one of the two")
        if self.matching is not None and _regex(self.matching, "matching").groups != 1:
            raise ValueError("'matching' needs exactly one capturing group: the key")
        return self


class Join(Strict):
    """Bring columns of another file of the delivery onto each row (many rows to one)."""

    file: str
    sheet: str | None = None
    match: dict[str, str]  # this file's column -> the joined file's column
    where: dict[str, str | list[str]] = Field(default_factory=dict)
    columns: list[str]


class Extract(Strict):
    """One source file (or sheet) feeding one canonical table."""

    table: str
    file: str | None = None
    sheet: str | None = None
    form: str | None = None
    patient_id: str | None = None
    where: dict[str, str | list[str]] = Field(default_factory=dict)
    where_not_empty: list[str] = Field(default_factory=list)
    skip_empty: list[str] = Field(default_factory=list)
    collapse: bool = False
    supplemental: str | None = None
    join: list[Join] = Field(default_factory=list)
    unpivot: Unpivot | None = None
    fields: dict[str, FieldMap]

    @field_validator("fields", mode="before")
    @classmethod
    def _expand(cls, fields: dict) -> dict:
        return {name: _field_shorthand(spec) for name, spec in (fields or {}).items()}

    @property
    def source_label(self) -> str:
        name = self.file or "(delivery file)"
        return f"{name}[{self.sheet}]" if self.sheet else name


HEADER_ROW_HINT = ("if the header is further down, say on which row in the site mapping's "
                   "reader (header_row)")  # a title above the header: a new centre's export
HEADER_ROW_FAMILIES = ("delimited", "excel")  # REDCap and SDTM write their header first


class ReaderOptions(Strict):
    """How the centre writes its files; which keys apply depends on the format family."""

    encoding: str = "utf-8"
    delimiter: str = ","
    decimal: Literal[".", ","] = "."
    quote: str = '"'
    missing: list[str] = Field(default_factory=lambda: [""])
    dictionary: str | None = None
    header_row: Annotated[int, Field(ge=1)] = 1

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, encoding: str) -> str:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ValueError(f"unknown encoding {encoding!r} (e.g. utf-8, cp1252, "
                             "latin-1)") from None
        return encoding

    @field_validator("delimiter", "quote")
    @classmethod
    def _one_character(cls, mark: str) -> str:
        if len(mark) != 1 or mark in "\r\n":
            raise ValueError(f"one character, not a line end (got {mark!r})")
        return mark

    @model_validator(mode="after")
    def _distinct_marks(self) -> "ReaderOptions":
        if self.delimiter == self.quote:
            raise ValueError(f"the delimiter and the quote are both {self.quote!r}")
        return self


class DeliveryNaming(Strict):
    """How a delivery in the inbox is recognised and dated from its name."""

    pattern: str
    export_date_format: str = "%Y%m%d"

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        if "export_date" not in _regex(pattern, "pattern").groupindex:
            raise ValueError("the pattern needs a named group (?P<export_date>...)")
        return pattern

    @field_validator("export_date_format")
    @classmethod
    def _reads_dates(cls, export_date_format: str) -> str:
        return _date_format(export_date_format, whole_date=True, iso8601=False)


def _unit_problems(quantity: str | None, unit: str) -> list[str]:
    """A fixed unit with no conversion in ``unit_conversions.csv`` would quarantine
    every value as ``unknown_unit``; said when the mapping loads instead. Where the
    quantity is known only per row (None: a lab value's test, ``_fixed_quantity``), or
    is a code the table does not list, the rows say it."""
    known = units_of(quantity) if quantity else ()
    if not known or normalise_unit(unit) in {normalise_unit(u) for u in known}:
        return []
    return [f"no conversion of unit {unit!r} for {quantity} in "
            f"etl/reference/unit_conversions.csv (it converts {', '.join(known)})"]


def _unpivot_unit_problems(value: Column, unpivot: Unpivot) -> list[str]:
    """An unpivot of measurements says each column's unit; a column's key names the
    lab test where the value is a lab result (``units_of`` the key)."""
    quantity = value.info.get("quantity")
    if quantity is None:
        return [f"column {name!r}: 'unit' applies to measurements only"
                for name, spec in unpivot.columns.items() if spec.unit]
    problems = ([] if unpivot.matching is None else
                ["measurements are unpivoted by 'columns', each with its 'unit', not by "
                 "'matching'"])
    for name, spec in unpivot.columns.items():
        if spec.unit is None:
            problems.append(f"column {name!r}: a measurement needs its 'unit'")
        else:
            problems += [f"column {name!r}: {p}" for p in _unit_problems(
                _fixed_quantity(value, str(spec.key)), spec.unit)]
    return problems


def _fixed_quantity(column: Column, key: str | None = None) -> str | None:
    """The quantity a measurement column's values are converted as, as the loader takes
    it (``canonical._map_measurement``): the column's own, or, where the column has no
    canonical unit of its own (lab values), the row's test: an unpivot column's ``key``,
    and for a field unknown until the rows are read (None)."""
    return column.info["quantity"] if column.info["unit"] is not None else key


def _code_clashes(name: str, codes: dict[str, CodeValue]) -> list[str]:
    """Codes are matched ignoring case and surrounding blanks (``canonical._decode``):
    two that differ only so must not map to different values."""
    seen: dict[str, str] = {}
    problems = []
    for code, value in codes.items():
        key = str(code).strip().casefold()
        if key in seen and codes[seen[key]] != value:
            problems.append(f"codes.{name}: {seen[key]!r} and {code!r} are one code (case "
                            f"and blanks are ignored) mapped to {codes[seen[key]]} and {value}")
        seen.setdefault(key, code)
    return problems


class SiteMapping(Strict):
    """A centre's whole mapping file."""

    site: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]{1,9}$")]
    name: str
    format: FormatFamily
    delivery: DeliveryNaming
    reader: ReaderOptions = Field(default_factory=ReaderOptions)
    date_format: str = "%Y-%m-%d"
    patient_id: str
    codes: dict[str, dict[str, CodeValue]] = Field(default_factory=dict)
    extracts: list[Extract]

    @field_validator("date_format")
    @classmethod
    def _reads_dates(cls, date_format: str) -> str:
        return _date_format(date_format, whole_date=True)

    @model_validator(mode="after")
    def _consistent(self) -> "SiteMapping":
        problems: list[str] = []
        if self.format == "redcap" and not self.reader.dictionary:
            problems.append("reader.dictionary: a REDCap mapping names its data dictionary file")
        if self.reader.header_row != 1 and self.format not in HEADER_ROW_FAMILIES:
            problems.append(f"reader.header_row: a {self.format} export has its header "
                            "first; 'header_row' applies to delimited text and Excel")
        problems += [p for name, codes in self.codes.items()
                     for p in _code_clashes(name, codes)]
        for index, extract in enumerate(self.extracts):
            where = f"extracts[{index}] ({extract.source_label} -> {extract.table})"
            problems += [f"{where}: {p}" for p in self._family_problems(extract)]
            table = metadata.tables.get(f"raw.{extract.table}")
            if table is None:
                problems.append(f"{where}: unknown table {extract.table!r}; "
                                f"expected one of {sorted(raw_table_names())}")
                continue
            mapped = set(extract.fields)
            if extract.unpivot is not None:
                mapped |= {extract.unpivot.key_field, extract.unpivot.value_field}
                problems += [f"{where}.unpivot: table {extract.table} has no field {name!r}"
                             for name in (extract.unpivot.key_field, extract.unpivot.value_field)
                             if name not in table.c]
                if extract.unpivot.value_field in table.c:
                    problems += [f"{where}.unpivot: {p}" for p in _unpivot_unit_problems(
                        table.c[extract.unpivot.value_field], extract.unpivot)]
            for field_name, spec in extract.fields.items():
                if field_name not in table.c:
                    problems.append(f"{where}: table {extract.table} has no field {field_name!r}")
                    continue
                problems += [f"{where}.{field_name}: {p}"
                             for p in self._field_problems(table.c[field_name], spec)]
            missing = sorted(required_fields(extract.table) - mapped)
            if missing:
                problems.append(f"{where}: required fields not mapped: {', '.join(missing)}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _family_problems(self, extract: Extract) -> list[str]:
        problems = []
        if self.format == "excel" and not extract.sheet:
            problems.append("an Excel extract names its 'sheet'")
        if self.format != "excel" and (extract.sheet or any(j.sheet for j in extract.join)):
            problems.append("'sheet' applies to Excel workbooks only")
        if self.format != "redcap" and extract.form:
            problems.append("'form' applies to REDCap exports only")
        if self.format != "sdtm" and extract.supplemental:
            problems.append("'supplemental' (SUPPQUAL) applies to SDTM datasets only")
        if self.format != "redcap" and any(s.labels or s.checkbox
                                           for s in extract.fields.values()):
            problems.append("'labels' and 'checkbox' need a REDCap data dictionary")
        return problems

    def _field_problems(self, column: Column, spec: FieldMap) -> list[str]:
        problems = []
        is_yes_no = isinstance(column.type, Boolean)
        if is_yes_no and not spec.codes and not spec.checkbox:
            problems.append("a yes/no field needs 'codes' (a code list mapping the centre's "
                            "words to true/false) or 'checkbox'")
        if spec.codes and spec.codes not in self.codes:
            problems.append(f"code list {spec.codes!r} is not defined under 'codes'")
        elif spec.codes:
            problems += self._code_list_problems(column, spec.codes)
        if spec.accept_canonical and "vocabulary" not in column.info:
            problems.append("'accept_canonical' needs a field with a canonical vocabulary")
        if spec.qualifier and spec.qualifier not in column.table.c:
            problems.append(f"qualifier field {spec.qualifier!r} is not in table "
                            f"{column.table.name}")
        if spec.year_only and not isinstance(column.type, Integer):
            problems.append("'year_only' reduces a date to its year: the field must be a year")
        quantity = column.info.get("quantity")
        if quantity is None and (spec.unit or spec.unit_column):
            problems.append("'unit' and 'unit_column' apply to measurements only")
        elif quantity is not None and not (spec.unit or spec.unit_column):
            problems.append("a measurement needs its unit as sent: 'unit' (fixed) or "
                            "'unit_column' (per row)")
        elif quantity is not None and spec.unit:
            problems += _unit_problems(_fixed_quantity(column), spec.unit)
        return problems

    def _code_list_problems(self, column: Column, code_list: str) -> list[str]:
        """Decoded values must be canonical: booleans for yes/no fields, else vocabulary codes."""
        values = set(self.codes[code_list].values())
        if isinstance(column.type, Boolean):
            wrong = sorted(str(v) for v in values if not isinstance(v, bool))
            expected = "true or false"
        elif "vocabulary" in column.info:
            name = column.info["vocabulary"]
            allowed = vocabulary(name)
            wrong = sorted(str(v) for v in values if str(v) not in allowed)
            expected = f"one of {sorted(allowed)} (dbt_project/seeds/{name}.csv)"
        else:
            return []
        if not wrong:
            return []
        return [f"code list {code_list!r} maps to {', '.join(wrong)}; expected {expected}"]

    def patient_id_column(self, extract: Extract) -> str:
        return extract.patient_id or self.patient_id

    def required_columns(self, extract: Extract) -> set[str]:
        """The source columns without which the extract cannot be read: the patient id
        and the columns its fields read values and units from."""
        return {self.patient_id_column(extract)} | {
            name for spec in extract.fields.values()
            for name in (spec.column, spec.unit_column) if name}


PROVENANCE_FIELDS = frozenset({
    "raw_id", "record_key", "row_hash", "load_id", "site", "source_file",
    "source_file_sha256", "source_row", "extracted_at", "valid_from", "valid_to",
    "is_withdrawn", "withdrawn_at", "patient_pseudonym", "content_fingerprint",
})


def content_columns(table: Table) -> list[str]:
    """The fields that make a record's content: what ``row_hash`` digests and a record's
    fingerprint hashes (``etl.fingerprint``)."""
    return [c.name for c in table.c if c.name not in PROVENANCE_FIELDS] + ["patient_pseudonym"]


def raw_table_names() -> list[str]:
    return [t.name for t in metadata.sorted_tables if t.schema == "raw"]


def required_fields(table_name: str) -> set[str]:
    """Canonical fields a mapping must fill (NOT NULL and not derived by the loader)."""
    table = metadata.tables[f"raw.{table_name}"]
    derived = {
        info_value for column in table.c for key, info_value in column.info.items()
        if key in ("source", "source_value", "source_unit")
    } | {"is_canonical_unit", "is_measured", "unit"}
    return {
        c.name for c in table.c
        if not c.nullable and c.name not in PROVENANCE_FIELDS and c.name not in derived
    }


class LoadedMapping(BaseModel):
    """A validated mapping with where it came from (recorded in ``meta.site``)."""

    mapping: SiteMapping
    path: Path
    sha256: str


def load_mapping(path: Path) -> LoadedMapping:
    """Read and validate one mapping file; errors name the file, the key and what was expected."""
    text = path.read_bytes()
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigurationError(f"{path}: not valid YAML: {error}") from None
    try:
        mapping = SiteMapping.model_validate(document)
    except ValidationError as error:
        lines = [
            f"  {'.'.join(str(p) for p in problem['loc']) or '(top level)'}: {problem['msg']}"
            for problem in error.errors()
        ]
        raise ConfigurationError(f"{path}: invalid site mapping\n" + "\n".join(lines)) from None
    from etl.canonical import constant_problems  # reads mappings: imported once used

    problems = constant_problems(mapping, date.today())
    if problems:
        raise ConfigurationError(f"{path}: invalid site mapping\n" + "\n".join(
            f"  {problem}" for problem in problems))
    if path.stem.upper() != mapping.site:
        raise ConfigurationError(
            f"{path}: the file name must be the centre code in lower case "
            f"({mapping.site.lower()}.yml), so that one centre has one mapping"
        )
    return LoadedMapping(mapping=mapping, path=path, sha256=hashlib.sha256(text).hexdigest())


def load_all_mappings(settings: Settings) -> dict[str, LoadedMapping]:
    """Every centre's mapping: the packaged ones, then ``PRRT_SITES_DIR`` (which overrides)."""
    directories = [PACKAGED_SITES_DIR]
    if settings.sites_dir is not None:
        if not settings.sites_dir.is_dir():
            raise ConfigurationError(f"PRRT_SITES_DIR={settings.sites_dir} is not a directory")
        directories.append(settings.sites_dir)
    mappings: dict[str, LoadedMapping] = {}
    for directory in directories:
        for path in sorted(directory.glob("*.yml")):
            loaded = load_mapping(path)
            mappings[loaded.mapping.site] = loaded
    return mappings

"""Site mappings: one YAML file per centre, validated on load.

A mapping says how one centre's delivery becomes canonical ``raw`` rows: which files,
which reader options, which source column feeds which canonical field, which code lists
and units apply. Everything centre-specific lives in the YAML; the Python is shared.
See ``docs/site-mappings.md`` for the format and a walkthrough.
"""

import hashlib
import re
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import Boolean

import models  # noqa: F401  (registers the raw tables)
from etl.config import PACKAGE_DIR, Settings
from etl.errors import ConfigurationError
from models.base import metadata

PACKAGED_SITES_DIR = PACKAGE_DIR / "sites"
FormatFamily = Literal["delimited"]
CodeValue = str | bool | int


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldMap(Strict):
    """Where one canonical field comes from and how its source value is read."""

    column: str | None = None
    constant: CodeValue | None = None
    codes: str | None = None
    unit: str | None = None
    unit_column: str | None = None
    date_format: str | None = None
    qualifier: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> "FieldMap":
        if (self.column is None) == (self.constant is None):
            raise ValueError("give exactly one of 'column' (a source column) or 'constant'")
        if self.unit and self.unit_column:
            raise ValueError("give 'unit' (fixed) or 'unit_column' (per row), not both")
        return self


def _field_shorthand(value: object) -> object:
    """``field: source_column`` is short for ``field: {column: source_column}``."""
    return {"column": value} if isinstance(value, str) else value


class Extract(Strict):
    """One source file feeding one canonical table."""

    table: str
    file: str
    patient_id: str | None = None
    fields: dict[str, FieldMap]

    @field_validator("fields", mode="before")
    @classmethod
    def _expand(cls, fields: dict) -> dict:
        return {name: _field_shorthand(spec) for name, spec in (fields or {}).items()}


class DelimitedOptions(Strict):
    encoding: str = "utf-8"
    delimiter: str = ","
    decimal: Literal[".", ","] = "."
    quote: str = '"'
    missing: list[str] = Field(default_factory=lambda: [""])


class DeliveryNaming(Strict):
    """How a delivery in the inbox is recognised and dated from its name."""

    pattern: str
    export_date_format: str = "%Y%m%d"

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        compiled = re.compile(pattern)
        if "export_date" not in compiled.groupindex:
            raise ValueError("the pattern needs a named group (?P<export_date>...)")
        return pattern


class SiteMapping(Strict):
    """A centre's whole mapping file."""

    site: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]{1,9}$")]
    name: str
    format: FormatFamily
    delivery: DeliveryNaming
    reader: DelimitedOptions = Field(default_factory=DelimitedOptions)
    date_format: str = "%Y-%m-%d"
    patient_id: str
    codes: dict[str, dict[str, CodeValue]] = Field(default_factory=dict)
    extracts: list[Extract]

    @model_validator(mode="after")
    def _consistent(self) -> "SiteMapping":
        problems: list[str] = []
        for index, extract in enumerate(self.extracts):
            where = f"extracts[{index}] ({extract.file} -> {extract.table})"
            table = metadata.tables.get(f"raw.{extract.table}")
            if table is None:
                problems.append(f"{where}: unknown table {extract.table!r}; "
                                f"expected one of {sorted(raw_table_names())}")
                continue
            for field_name, spec in extract.fields.items():
                if field_name not in table.c:
                    problems.append(f"{where}: table {extract.table} has no field {field_name!r}")
                if (field_name in table.c and isinstance(table.c[field_name].type, Boolean)
                        and not spec.codes):
                    problems.append(f"{where}.{field_name}: a yes/no field needs 'codes' "
                                    "(a code list mapping the centre's words to true/false)")
                if spec.codes and spec.codes not in self.codes:
                    problems.append(f"{where}.{field_name}: code list {spec.codes!r} is not "
                                    "defined under 'codes'")
                if spec.qualifier and spec.qualifier not in table.c:
                    problems.append(f"{where}.{field_name}: qualifier field "
                                    f"{spec.qualifier!r} is not in table {extract.table}")
            missing = sorted(required_fields(extract.table) - set(extract.fields))
            if missing:
                problems.append(f"{where}: required fields not mapped: {', '.join(missing)}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def patient_id_column(self, extract: Extract) -> str:
        return extract.patient_id or self.patient_id


PROVENANCE_FIELDS = frozenset({
    "raw_id", "record_key", "row_hash", "load_id", "site", "source_file",
    "source_file_sha256", "source_row", "extracted_at", "valid_from", "valid_to",
    "is_withdrawn", "withdrawn_at", "patient_pseudonym",
})


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

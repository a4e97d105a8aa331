"""Turn one source file's rows into canonical rows of one ``raw`` table.

Vectorised over the whole file (pandas), field by field, as the site mapping says:
code lists, number and date parsing with the centre's conventions, unit conversion to
the canonical unit, plausibility ranges. Every problem is recorded against the source
row, column and value; a row with any problem is quarantined, never half-loaded.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Column, Date, Float, Integer, Numeric, Table

from etl.mapping import Extract, FieldMap, SiteMapping
from etl.pseudonym import pseudonymise
from etl.reference import normalise_unit, unit_conversions, value_ranges
from models.base import metadata

SOURCE_ROW = "source_row"
ISSUE_COLUMNS = [SOURCE_ROW, "reason_code", "column_name", "source_value", "message"]
QUALIFIERS = ("<=", ">=", "<", ">", "≤", "≥")


@dataclass
class MappedExtract:
    """Canonical rows that passed, and one issue row per problem found."""

    rows: pd.DataFrame
    issues: pd.DataFrame


class Issues:
    """Collects problems as (source rows, reason, column, values, message) batches."""

    def __init__(self, source_rows: pd.Series) -> None:
        self._source_rows = source_rows
        self._batches: list[pd.DataFrame] = []

    def add(self, mask: pd.Series, reason: str, column: str | None, values: pd.Series | None,
            message: str) -> None:
        if not mask.any():
            return
        self._batches.append(pd.DataFrame({
            SOURCE_ROW: self._source_rows[mask],
            "reason_code": reason,
            "column_name": column,
            "source_value": values[mask].astype(object) if values is not None else None,
            "message": message,
        }))

    def frame(self) -> pd.DataFrame:
        if not self._batches:
            return pd.DataFrame(columns=ISSUE_COLUMNS)
        frame = pd.concat(self._batches, ignore_index=True)[ISSUE_COLUMNS].astype(object)
        return frame.where(frame.notna(), None)


def map_extract(source: pd.DataFrame, extract: Extract, mapping: SiteMapping, key: bytes,
                today: date) -> MappedExtract:
    """Map ``source`` (text cells, missing as NA, a ``source_row`` column) to ``extract.table``."""
    table = metadata.tables[f"raw.{extract.table}"]
    issues = Issues(source[SOURCE_ROW])
    out = pd.DataFrame({SOURCE_ROW: source[SOURCE_ROW]}, index=source.index)

    id_column = mapping.patient_id_column(extract)
    patient_ids = source[id_column]
    issues.add(patient_ids.isna(), "missing_value", id_column, patient_ids,
               "the patient id is empty")
    out["patient_pseudonym"] = pseudonymise(patient_ids, mapping.site, key)

    for field_name, spec in extract.fields.items():
        _map_field(source, out, issues, mapping, table, table.c[field_name], spec, today)

    already = out[SOURCE_ROW].isin(issues.frame()[SOURCE_ROW])
    for column in table.c:
        if column.name in extract.fields and not column.nullable:
            missing = out[column.name].isna() & ~already
            issues.add(missing, "missing_value", _source_name(extract, column.name), None,
                       f"{column.name} is required and is empty")

    problems = issues.frame()
    clean = out[~out[SOURCE_ROW].isin(problems[SOURCE_ROW])]
    return MappedExtract(rows=clean.reset_index(drop=True), issues=problems)


def _source_name(extract: Extract, field_name: str) -> str | None:
    spec = extract.fields.get(field_name)
    return spec.column if spec else None


def _map_field(source: pd.DataFrame, out: pd.DataFrame, issues: Issues, mapping: SiteMapping,
               table: Table, column: Column, spec: FieldMap, today: date) -> None:
    if spec.column is not None:
        text = source[spec.column]
    else:
        text = pd.Series(spec.constant, index=source.index, dtype="object")
    label = spec.column or f"(constant {spec.constant!r})"

    if "source" in column.info:
        out[column.info["source"]] = text
    if spec.codes:
        out[column.name] = _decode(text, mapping.codes[spec.codes], issues, label, spec.codes)
        return
    if spec.qualifier:
        qualifier, text = _split_qualifier(text)
        out[spec.qualifier] = qualifier

    if "quantity" in column.info:
        _map_measurement(source, out, issues, mapping, table, column, spec, text, label)
    elif isinstance(column.type, Date):
        out[column.name] = _parse_dates(text, spec.date_format or mapping.date_format, issues,
                                        label, today)
    elif isinstance(column.type, Numeric | Float | Integer):
        out[column.name] = _parse_numbers(text, mapping.reader.decimal, column, issues, label)
    else:
        out[column.name] = text
    _check_range(out, issues, table, column, text, label)


def _decode(text: pd.Series, codes: dict, issues: Issues, label: str, code_list: str) -> pd.Series:
    """Map source codes through a code list, ignoring case and surrounding blanks."""
    lookup = {str(code).strip().casefold(): value for code, value in codes.items()}
    keys = text.astype("string").str.strip().str.casefold()
    decoded = keys.map(lookup)
    unknown = text.notna() & keys.map(lambda k: k not in lookup).astype(bool)
    issues.add(unknown, "unknown_code", label, text,
               f"not in code list {code_list!r} of the site mapping")
    return decoded.astype("object").where(~unknown, None)


def _split_qualifier(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """``<2`` -> (``<``, ``2``): a censored lab-style value keeps its qualifier."""
    stripped = text.astype("string").str.strip()
    qualifier = pd.Series(pd.NA, index=text.index, dtype="string")
    for symbol in QUALIFIERS:
        starts = stripped.str.startswith(symbol).fillna(False) & qualifier.isna()
        qualifier[starts] = {"≤": "<=", "≥": ">="}.get(symbol, symbol)
        stripped[starts] = stripped[starts].str[len(symbol):].str.strip()
    return qualifier, stripped


def _parse_dates(text: pd.Series, date_format: str, issues: Issues, label: str,
                 today: date) -> pd.Series:
    parsed = pd.to_datetime(text, format=date_format, errors="coerce")
    bad = text.notna() & parsed.isna()
    issues.add(bad, "unparseable_date", label, text, f"not a date in the format {date_format}")
    future = parsed.notna() & (parsed.dt.date > today)
    issues.add(future, "future_date", label, text, f"a date after the export date {today}")
    return parsed.dt.date.astype("object").where(parsed.notna(), None)


def _to_number(text: pd.Series, decimal_mark: str) -> pd.Series:
    normalised = text.astype("string").str.strip()
    if decimal_mark == ",":
        normalised = normalised.str.replace(",", ".", regex=False)
    return pd.to_numeric(normalised, errors="coerce")


def _parse_numbers(text: pd.Series, decimal_mark: str, column: Column, issues: Issues,
                   label: str) -> pd.Series:
    numbers = _to_number(text, decimal_mark)
    bad = text.notna() & numbers.isna()
    issues.add(bad, "invalid_number", label, text, "not a number")
    if isinstance(column.type, Integer):
        fractional = numbers.notna() & (numbers % 1 != 0)
        issues.add(fractional, "invalid_number", label, text, "not a whole number")
        return numbers.where(~fractional).astype("Int64")
    return numbers


def _map_measurement(source: pd.DataFrame, out: pd.DataFrame, issues: Issues,
                     mapping: SiteMapping, table: Table, column: Column, spec: FieldMap,
                     text: pd.Series, label: str) -> None:
    """Convert a measurement to its canonical unit; keep value and unit as sent beside it."""
    info = column.info
    if spec.unit_column:
        units = source[spec.unit_column]
    else:
        units = pd.Series(spec.unit, index=source.index, dtype="object")
    out[info["source_value"]] = text
    out[info["source_unit"]] = units

    if info["unit"] is None:  # per-row quantity (labs): the canonical analyte code
        quantities = out["analyte"]
    else:
        quantities = pd.Series(info["quantity"], index=source.index)
    conversions = unit_conversions()
    keys = list(zip(quantities, units.astype("string").map(
        lambda u: normalise_unit(u) if isinstance(u, str) else None), strict=True))
    found = pd.Series([conversions.get(key) for key in keys], index=source.index, dtype="object")
    unknown = text.notna() & found.isna() & quantities.notna()
    issues.add(unknown, "unknown_unit", spec.unit_column or label, units,
               "no conversion to the canonical unit in etl/reference/unit_conversions.csv")

    numbers = _to_number(text, mapping.reader.decimal)
    issues.add(text.notna() & numbers.isna(), "invalid_number", label, text, "not a number")
    factors = found.map(lambda c: c.factor if c is not None and c.factor is not None else None)
    converts = factors.notna()
    if isinstance(column.type, Numeric):
        out[column.name] = _exact_product(text, numbers, factors, mapping.reader.decimal,
                                          column.type.scale or 0)
    else:
        canonical = numbers * factors.where(converts, 1).astype(float)
        out[column.name] = canonical
    if info["unit"] is None:
        out["unit"] = found.map(lambda c: c.canonical_unit if c is not None else None)
        out["unit"] = out["unit"].where(converts, units)
        out["is_canonical_unit"] = converts


def _exact_product(text: pd.Series, numbers: pd.Series, factors: pd.Series, decimal_mark: str,
                   scale: int) -> pd.Series:
    """value × factor in decimal arithmetic (1 mCi = 0.037 GBq exactly, no float error)."""
    valid = numbers.notna() & factors.notna()
    normalised = text.astype("string").str.strip()
    if decimal_mark == ",":
        normalised = normalised.str.replace(",", ".", regex=False)
    target = pa.decimal128(18, scale)
    values = pa.array([t if ok else None for t, ok in zip(normalised, valid, strict=True)],
                      type=pa.string())
    values = values.cast(pa.decimal128(18, 9))
    factor_values = pa.array([f if f is not None else Decimal(0) for f in factors],
                             type=pa.decimal128(18, 9))
    product = pc.round(pc.multiply(values, factor_values), ndigits=scale).cast(target)
    return pd.Series(product.to_pylist(), index=text.index, dtype="object")


def _check_range(out: pd.DataFrame, issues: Issues, table: Table, column: Column,
                 text: pd.Series, label: str) -> None:
    limits = value_ranges().get((table.name, column.name))
    if limits is None or column.name not in out:
        return
    values = pd.to_numeric(out[column.name], errors="coerce").astype("Float64")
    outside = pd.Series(False, index=out.index)
    if limits.minimum is not None:
        outside |= values < float(limits.minimum)
    if limits.maximum is not None:
        outside |= values > float(limits.maximum)
    issues.add(outside.fillna(False), "out_of_range", label, text,
               f"{column.name} outside [{limits.minimum}, {limits.maximum}] "
               "(etl/reference/value_ranges.csv)")

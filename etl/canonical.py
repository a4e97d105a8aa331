"""Turn one source file's rows into canonical rows of one ``raw`` table.

Vectorised over the whole file (pandas), field by field, as the site mapping says:
code lists, number and date parsing with the centre's conventions, unit conversion to
the canonical unit, plausibility ranges. Every problem is recorded against the source
row, column and value; a row with any problem is quarantined, never half-loaded.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
from sqlalchemy import Column, Date, Float, Integer, Numeric, Table

from etl.distinct import by_code, per_distinct
from etl.mapping import ISO8601, Extract, FieldMap, SiteMapping
from etl.pseudonym import pseudonymise
from etl.reference import (
    OPERATORS,
    Conversion,
    normalise_unit,
    unit_conversions,
    value_ranges,
    vocabulary,
)
from models.base import metadata

SOURCE_ROW = "source_row"
SOURCE_COLUMN = "source_column"  # per-row source column name, set when a wide file was unpivoted
UNIT_ID = "unit_id"  # one unit of row accounting (a source row, or one cell of an unpivot)
ISSUE_COLUMNS = [SOURCE_ROW, UNIT_ID, "reason_code", "column_name", "source_value", "message"]
QUALIFIERS = ("<=", ">=", "<", ">", "≤", "≥")
PERCENT_SIGN = r"\s*%$"  # after a percentage field's number
FULL_ISO_DATE = r"\d{4}-\d{2}-\d{2}"
ISO_DATE = re.compile(  # a time after a T (SDTM), or after a blank (REDCap, SQL exports)
    r"^(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2}))?)?"
    r"(?:T.*| \d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$")
CHECKBOX_TICKS = {"1": True, "0": False}
THOUSANDS = {  # decimal mark -> what may group digits by three: the other mark or a blank
    mark: f"[{other} \u00a0\u202f]" for mark, other in ((",", "."), (".", ","))}  # (no-break)
GROUPED_DIGITS = {  # decimal mark -> a number with thousands grouped, one separator throughout
    mark: rf"[+-]?[1-9]\d{{0,2}}(?P<group>{THOUSANDS[mark]})\d{{3}}(?:(?P=group)\d{{3}})*"
          rf"(?:{re.escape(mark)}\d*)?" for mark in THOUSANDS}


@dataclass
class MappedExtract:
    """Canonical rows that passed, and one issue row per problem found."""

    rows: pd.DataFrame
    issues: pd.DataFrame


class Issues:
    """Collects problems as (source rows, reason, column, values, message) batches."""

    def __init__(self, source: pd.DataFrame) -> None:
        self._source_rows = source[SOURCE_ROW]
        self._unit_ids = source[UNIT_ID]
        self._cell_columns = source.get(SOURCE_COLUMN)
        self._batches: list[pd.DataFrame] = []

    def add(self, mask: pd.Series, reason: str, column: str | None, values: pd.Series | None,
            message: str) -> None:
        """Record a problem for the rows in ``mask``; ``column`` None on an unpivoted
        value means "the cell's own source column"."""
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        column_names: object = column
        if column is None and self._cell_columns is not None:
            column_names = self._cell_columns[mask]
        self._batches.append(pd.DataFrame({
            SOURCE_ROW: self._source_rows[mask],
            UNIT_ID: self._unit_ids[mask],
            "reason_code": reason,
            "column_name": column_names,
            "source_value": values[mask].astype(object) if values is not None else None,
            "message": message,
        }))

    def units(self) -> pd.Series:
        """Accounting units with at least one problem so far."""
        if not self._batches:
            return pd.Series([], dtype="int64")
        return pd.concat([b[UNIT_ID] for b in self._batches]).drop_duplicates()

    def frame(self) -> pd.DataFrame:
        if not self._batches:
            return pd.DataFrame(columns=ISSUE_COLUMNS)
        frame = pd.concat(self._batches, ignore_index=True)[ISSUE_COLUMNS].astype(object)
        return frame.where(frame.notna(), None)


def map_extract(source: pd.DataFrame, extract: Extract, mapping: SiteMapping, key: bytes,
                today: date, choices: dict[str, dict[str, str]] | None = None) -> MappedExtract:
    """Map ``source`` (text cells, missing as NA, ``source_row`` and ``unit_id`` columns)
    to ``extract.table``; ``choices`` is a REDCap data dictionary (field -> code -> label)."""
    table = metadata.tables[f"raw.{extract.table}"]
    issues = Issues(source)
    out = pd.DataFrame({SOURCE_ROW: source[SOURCE_ROW], UNIT_ID: source[UNIT_ID]},
                       index=source.index)
    imputed = pd.Series("", index=source.index, dtype="object")

    id_column = mapping.patient_id_column(extract)
    patient_ids = source[id_column]
    issues.add(patient_ids.isna(), "missing_value", id_column, patient_ids,
               "the patient id is empty")
    out["patient_pseudonym"] = pseudonymise(patient_ids, mapping.site, key)

    context = FieldContext(source, out, issues, mapping, table, today, choices or {}, imputed)
    for field_name, spec in _fields(extract).items():
        _map_field(context, table.c[field_name], spec)
    for column in table.c:
        if "present_if_filled" in column.info:
            out[column.name] = out[column.info["present_if_filled"]].notna()
    out["dates_imputed"] = _imputation_notes(imputed)

    already = out[UNIT_ID].isin(issues.units())
    for column in table.c:
        if column.name in out and not column.nullable:
            missing = out[column.name].isna() & ~already
            issues.add(missing, "missing_value", _source_name(extract, column.name),
                       None, f"{column.name} is required and is empty")

    problems = issues.frame()
    # selecting and renumbering copied every column, of millions of rows, even when no
    # unit had a problem (the usual case); ``out`` is this function's own, so its index
    # is replaced instead
    clean = out[~out[UNIT_ID].isin(problems[UNIT_ID])] if len(problems) else out
    clean.index = pd.RangeIndex(len(clean))
    return MappedExtract(rows=clean, issues=problems)


def constant_problems(mapping: SiteMapping, today: date) -> list[str]:
    """What is wrong with the mapping's constants, each read as a cell of a column is
    (code list, pattern, date or number, unit, plausibility range) and held to its
    field's canonical codes as gate 1 holds it (a code list's values, yes/no ones too,
    are checked by ``SiteMapping._code_list_problems``): a wrong constant (``instrument:
    {constant: qlq30, codes: instrument}``) is the same in every row, so it quarantined
    every row, or failed gate 1, night after night. A value whose unit is read per row
    (``unit_column``) is judged with the rows."""
    problems = []
    for index, extract in enumerate(mapping.extracts):
        table = metadata.tables[f"raw.{extract.table}"]
        where = f"extracts[{index}] ({extract.source_label} -> {extract.table})"
        for name, spec in extract.fields.items():
            if spec.constant is None or spec.unit_column is not None:
                continue
            row = pd.DataFrame({SOURCE_ROW: [0], UNIT_ID: [0]})
            context = FieldContext(row, row.copy(), Issues(row), mapping, table, today, {},
                                   pd.Series("", index=row.index))
            _map_field(context, table.c[name], spec)
            found = [f"{issue.reason_code}: {issue.message}"
                     for issue in context.issues.frame().itertuples()]
            value = context.out[name].iloc[0] if name in context.out else None
            codes = table.c[name].info.get("vocabulary")  # a code list's values are checked
            if not found and codes and value is not None and value not in vocabulary(codes):
                found.append(f"{value!r} is not one of {sorted(vocabulary(codes))}")
            problems += [f"{where}.{name}: constant {spec.constant!r}: {problem}"
                         for problem in found]
    return problems


def _imputation_notes(imputed: pd.Series) -> pd.Series:
    """``cycle_date=day;`` -> ``cycle_date=day``; None where nothing was completed.

    Only the rows with a note are stripped: a Python call per row of millions of
    questionnaire items, nearly all without one, took seconds."""
    notes = pd.Series(None, index=imputed.index, dtype="object")
    noted = imputed != ""
    notes[noted] = imputed[noted].str.strip(";")
    return notes


UNPIVOT_KEY, UNPIVOT_VALUE, UNPIVOT_UNIT = "unpivot_key", "unpivot_value", "unpivot_unit"


def _fields(extract: Extract) -> dict[str, FieldMap]:
    """The extract's fields, with an unpivot's key and value fields reading the long frame."""
    if extract.unpivot is None:
        return extract.fields
    has_units = any(c.unit for c in extract.unpivot.columns.values())
    return {
        **extract.fields,
        extract.unpivot.key_field: FieldMap(column=UNPIVOT_KEY),
        extract.unpivot.value_field: FieldMap(
            column=UNPIVOT_VALUE, unit_column=UNPIVOT_UNIT if has_units else None),
    }


@dataclass
class FieldContext:
    """What mapping one field needs: the source, the output so far and the rules."""

    source: pd.DataFrame
    out: pd.DataFrame
    issues: Issues
    mapping: SiteMapping
    table: Table
    today: date
    choices: dict[str, dict[str, str]]
    imputed: pd.Series


def _source_name(extract: Extract, field_name: str) -> str | None:
    spec = extract.fields.get(field_name)
    return (spec.column or spec.checkbox) if spec else None


def _label(spec: FieldMap) -> str | None:
    """The source column named in issues; None for unpivoted cells (their own column)."""
    if spec.column in (UNPIVOT_KEY, UNPIVOT_VALUE):
        return None
    if spec.checkbox:
        return f"{spec.checkbox} ({spec.option})"
    return spec.column or f"(constant {spec.constant!r})"


def columns_read(source: pd.DataFrame, extract: Extract, mapping: SiteMapping,
                 choices: dict[str, dict[str, str]]) -> list[str]:
    """The source columns ``map_extract`` reads for ``extract``: its output for a row
    depends on these cells alone (mirrors ``_source_text``)."""
    from etl.extract.redcap import checkbox_column

    columns = {mapping.patient_id_column(extract), SOURCE_COLUMN}
    for spec in _fields(extract).values():
        columns.update(c for c in (spec.column, spec.unit_column) if c)
        if spec.checkbox is not None:
            columns.add(checkbox_column(choices, spec.checkbox, spec.option))
    return sorted(c for c in columns if c in source.columns)


def _source_text(context: FieldContext, spec: FieldMap) -> pd.Series:
    source = context.source
    if spec.checkbox is not None:
        from etl.extract.redcap import checkbox_column

        return source[checkbox_column(context.choices, spec.checkbox, spec.option)]
    if spec.column is not None:
        text = source[spec.column]
    else:
        text = pd.Series(str(spec.constant), index=source.index, dtype="object")
    if spec.if_missing is not None:
        text = text.astype("object").where(text.notna(), spec.if_missing)
    return text


def _map_field(context: FieldContext, column: Column, spec: FieldMap) -> None:
    out, issues = context.out, context.issues
    text = _source_text(context, spec)
    label = _label(spec)
    if "source" in column.info:
        out[column.info["source"]] = text
    if spec.checkbox is not None:
        ticks = text.map(CHECKBOX_TICKS)
        issues.add(text.notna() & ticks.isna(), "unknown_code", label, text,
                   "a checkbox column holds 1 (ticked) or 0")
        out[column.name] = ticks.astype("object").where(ticks.notna(), None)
        return
    if spec.pattern is not None:
        extracted = per_distinct(text, lambda distinct: distinct.str.extract(
            spec.pattern, expand=False))
        issues.add(text.notna() & extracted.isna(), "unknown_code", label, text,
                   f"does not match the pattern {spec.pattern!r} of the site mapping")
        text = extracted
    if spec.labels:
        text = _dictionary_labels(text, context.choices.get(spec.column, {}), issues, label,
                                  spec.column)
    if spec.codes or spec.accept_canonical:
        out[column.name] = _decode(text, spec, context.mapping, column, issues, label)
        _check_range(context, column, text, label)
        return
    if spec.qualifier:
        qualifier, text = _split_qualifier(text)
        out[spec.qualifier] = qualifier
    if column.info.get("percentage"):
        text = text.str.replace(PERCENT_SIGN, "", regex=True)  # 15 % is 15

    if "quantity" in column.info:
        _map_measurement(context, column, spec, text, label)
    elif isinstance(column.type, Date) or spec.year_only:
        dates = _parse_dates(context, column, spec, text, label)
        out[column.name] = (pd.Series([d.year if d is not None else None for d in dates],
                                      index=text.index, dtype="Int64")
                            if spec.year_only else dates)
    elif isinstance(column.type, Numeric | Float | Integer):
        out[column.name] = _parse_numbers(text, context.mapping.reader.decimal, column, issues,
                                          label)
    else:
        out[column.name] = text
    _check_range(context, column, text, label)


def _dictionary_labels(text: pd.Series, choices: dict[str, str], issues: Issues,
                       label: str | None, field: str | None) -> pd.Series:
    """REDCap choice codes -> their labels in the delivery's data dictionary."""
    labels = text.map(choices)
    issues.add(text.notna() & labels.isna(), "unknown_code", label, text,
               f"not a choice of field {field!r} in the data dictionary")
    return labels


def _decode(text: pd.Series, spec: FieldMap, mapping: SiteMapping, column: Column,
            issues: Issues, label: str | None) -> pd.Series:
    """Map source codes through a code list, ignoring case and surrounding blanks; with
    ``accept_canonical``, a value that already is a canonical code passes as itself."""
    lookup = {}
    if spec.accept_canonical:
        lookup |= {code.casefold(): code for code in vocabulary(column.info["vocabulary"])}
    if spec.codes:
        lookup |= {str(code).strip().casefold(): value
                   for code, value in mapping.codes[spec.codes].items()}
    def look_up(codes: pd.Series) -> tuple[pd.Series, pd.Series]:
        keys = codes.str.strip().str.casefold()
        return keys.map(lookup), keys.map(lambda k: k not in lookup).astype(bool)

    decoded, unlisted = per_distinct(text, look_up)
    unknown = text.notna() & unlisted
    where = f"code list {spec.codes!r} of the site mapping" if spec.codes else ""
    if spec.accept_canonical:
        canonical = f"the canonical vocabulary {column.info['vocabulary']!r}"
        where = f"{where} or {canonical}" if where else canonical
    issues.add(unknown, "unknown_code", label, text, f"not in {where}")
    return decoded.astype("object").where(~unknown & decoded.notna(), None)


def _split_qualifier(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """``<2`` -> (``<``, ``2``): a censored lab-style value keeps its qualifier."""
    return per_distinct(text, _split_qualifier_of)


def _split_qualifier_of(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    stripped = text.astype("string").str.strip()
    qualifier = pd.Series(pd.NA, index=text.index, dtype="string")
    for symbol in QUALIFIERS:
        starts = stripped.str.startswith(symbol).fillna(False) & qualifier.isna()
        qualifier[starts] = {"≤": "<=", "≥": ">="}.get(symbol, symbol)
        stripped[starts] = stripped[starts].str[len(symbol):].str.strip()
    return qualifier, stripped


def _parse_dates(context: FieldContext, column: Column, spec: FieldMap, text: pd.Series,
                 label: str | None) -> pd.Series:
    date_format = spec.date_format or context.mapping.date_format
    issues = context.issues
    rejected_partial = pd.Series(False, index=text.index)
    if date_format == ISO8601:
        parsed, partial = per_distinct(text, _parse_iso8601)
        if spec.year_only:
            pass  # only the year is kept: a partial date loses nothing
        elif spec.partial_dates == "first_day":
            completed = partial.notna()
            context.imputed[completed] += f"{column.name}=" + partial[completed] + ";"
        else:
            rejected_partial = partial.notna()
            issues.add(rejected_partial, "partial_date", label, text,
                       "a partial date (year or year-month only); the site mapping does not "
                       "allow completing this field")
            parsed = parsed.where(~rejected_partial)
    else:
        parsed = per_distinct(text, lambda distinct: pd.to_datetime(
            distinct, format=date_format, errors="coerce"))
        if context.mapping.format == "excel":
            parsed = _with_date_cells(text, parsed)
    bad = text.notna() & parsed.isna() & ~rejected_partial
    issues.add(bad, "unparseable_date", label, text,
               f"not a date in the format {date_format}")
    future = parsed.notna() & (parsed > pd.Timestamp(context.today))  # NaT-only safe
    issues.add(future, "future_date", label, text,
               f"a date after the export date {context.today}")
    return _as_dates(parsed)


def _with_date_cells(text: pd.Series, parsed: pd.Series) -> pd.Series:
    """A workbook's date cells arrive as full ISO dates (``etl.extract.excel``) whatever
    format the centre types dates in, and a hand-kept column mixes both: the cells the
    centre's format did not read are taken as date cells when they are full ISO dates."""
    unread = text.notna() & parsed.isna()
    if not unread.any():
        return parsed
    cells, partial = per_distinct(text[unread], _parse_iso8601)
    return parsed.fillna(cells.where(partial.isna()))


def _as_dates(parsed: pd.Series) -> pd.Series:
    """Timestamps as ``date`` objects, missing as None, each day made once: a column of
    millions of dates holds a few thousand days, and ``.dt.date`` made an object per row
    (1.2 s for ROT's, 1.7 s for TRL's at 25,000 patients)."""
    codes, days = pd.factorize(parsed)
    return pd.Series(by_code(days.date, codes), index=parsed.index, dtype=object)


def _parse_iso8601(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Full or partial ISO 8601 dates; a partial one is completed to the first day of its
    period. Returns the dates and, per row, what was completed (``day``, ``month_day``).

    Most values are full dates: they are recognised and parsed column-wise (Arrow
    strings); only the rest goes through the regular expression row by row."""
    stripped = text.astype("string[pyarrow]").str.strip()
    full = stripped.str.fullmatch(FULL_ISO_DATE).fillna(False).astype(bool)
    parsed = pd.to_datetime(stripped.where(full), format="%Y-%m-%d", errors="coerce")
    partial = pd.Series(None, index=text.index, dtype="object")
    rest = stripped.notna() & ~full
    if rest.any():
        parts = stripped[rest].astype("string").str.extract(ISO_DATE)
        joined = (parts["year"] + "-" + parts["month"].fillna("01") + "-"
                  + parts["day"].fillna("01"))
        parsed[rest] = pd.to_datetime(joined, format="%Y-%m-%d", errors="coerce")
        partial[rest & (parts["year"].notna() & parts["month"].notna()
                        & parts["day"].isna()).reindex(text.index, fill_value=False)] = "day"
        partial[rest & (parts["year"].notna() & parts["month"].isna()).reindex(
            text.index, fill_value=False)] = "month_day"
    return parsed, partial.where(parsed.notna(), None)


def written_number(value: float, decimal_mark: str) -> str:
    """A number cell (Excel, SAS) as text the centre could have written: whole numbers
    without ``.0`` (an id typed as a number keeps its pseudonym), others in their shortest
    exact form with the centre's decimal mark. The cell holds no mark of its own, and
    ``1.125`` read with a decimal comma is 1125 (``_decimal_point_text``)."""
    return str(int(value)) if value.is_integer() else repr(value).replace(".", decimal_mark)


def _to_number(text: pd.Series, decimal_mark: str) -> pd.Series:
    return per_distinct(text, lambda distinct: pd.to_numeric(
        _decimal_point_text(distinct, decimal_mark), errors="coerce"))


def _decimal_point_text(text: pd.Series, decimal_mark: str) -> pd.Series:
    """Numbers as written by the centre, with ``.`` as decimal point and no grouping.

    The other mark is a thousands separator where it groups digits by three (``1.250``
    and ``1.250,5`` with a decimal comma are 1250 and 1250.5, not 1.25: a CgA of a
    thousand read as one), and so is a blank (``1 250``, as Swedish or French systems
    write, also a no-break space); elsewhere (``12.5`` with a decimal comma) the other
    mark is left to mean a decimal point, as it can mean nothing else."""
    stripped = text.astype("string").str.strip()
    grouped = stripped.str.fullmatch(GROUPED_DIGITS[decimal_mark]).fillna(False)
    stripped = stripped.where(~grouped, stripped.str.replace(THOUSANDS[decimal_mark], "",
                                                             regex=True))
    if decimal_mark == ",":
        stripped = stripped.str.replace(",", ".", regex=False)
    return stripped


def _parse_numbers(text: pd.Series, decimal_mark: str, column: Column, issues: Issues,
                   label: str | None) -> pd.Series:
    numbers = _to_number(text, decimal_mark)
    bad = text.notna() & numbers.isna()
    issues.add(bad, "invalid_number", label, text, "not a number")
    if isinstance(column.type, Integer):
        fractional = numbers.notna() & (numbers % 1 != 0)
        issues.add(fractional, "invalid_number", label, text, "not a whole number")
        return numbers.where(~fractional).astype("Int64")
    return numbers


def _map_measurement(context: FieldContext, column: Column, spec: FieldMap, text: pd.Series,
                     label: str | None) -> None:
    """Convert a measurement to its canonical unit; keep value and unit as sent beside it."""
    source, out, issues = context.source, context.out, context.issues
    decimal_mark = context.mapping.reader.decimal
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
    normalised = per_distinct(units, lambda distinct: distinct.map(
        lambda u: normalise_unit(u) if isinstance(u, str) else None))
    codes, distinct = _conversions_of(quantities, normalised)
    none = pd.Series(np.array([c is None for c in distinct], dtype=bool)[codes],
                     index=source.index)
    unknown = text.notna() & none & quantities.notna()
    unit_label = label if spec.unit_column in (None, UNPIVOT_UNIT) else spec.unit_column
    issues.add(unknown, "unknown_unit", unit_label, units,
               "no conversion to the canonical unit in etl/reference/unit_conversions.csv")

    numbers = _to_number(text, decimal_mark)
    issues.add(text.notna() & numbers.isna(), "invalid_number", label, text, "not a number")
    factors = _per_conversion(codes, distinct, lambda c: c.factor, source.index)
    converts = factors.notna()
    if isinstance(column.type, Numeric):
        out[column.name] = _exact_product(text, numbers, factors, decimal_mark,
                                          column.type.scale or 0)
    else:
        out[column.name] = numbers * factors.where(converts, 1).astype(float)
    if info["unit"] is None:
        out["unit"] = _per_conversion(codes, distinct, lambda c: c.canonical_unit,
                                      source.index).where(converts, units)
        out["is_canonical_unit"] = converts


def _conversions_of(quantities: pd.Series, units: pd.Series
                    ) -> tuple[np.ndarray, list[Conversion | None]]:
    """The conversions (None where there is none) of the distinct pairs of quantity and
    normalised unit, and each row's position among them: a lab file holds millions of
    values of a few hundred pairs, and a lookup per row was a Python call per row."""
    conversions = unit_conversions()
    quantity_codes, quantity_values = pd.factorize(quantities, use_na_sentinel=False)
    unit_codes, unit_values = pd.factorize(units, use_na_sentinel=False)
    width = max(len(unit_values), 1)
    codes, pairs = pd.factorize(quantity_codes.astype(np.int64) * width + unit_codes)
    return codes, [conversions.get((quantity_values[pair // width], unit_values[pair % width]))
                   for pair in pairs]


def _per_conversion(codes: np.ndarray, conversions: list[Conversion | None],
                    part: Callable[[Conversion], object], index: pd.Index) -> pd.Series:
    """``part`` of each row's conversion (None without one), made once per conversion."""
    made = [None if conversion is None else part(conversion) for conversion in conversions]
    return pd.Series(by_code(made, codes), index=index, dtype="object")


def _exact_product(text: pd.Series, numbers: pd.Series, factors: pd.Series, decimal_mark: str,
                   scale: int) -> pd.Series:
    """value × factor in decimal arithmetic (1 mCi = 0.037 GBq exactly, no float error)."""
    valid = numbers.notna() & factors.notna()
    normalised = _decimal_point_text(text, decimal_mark)
    quantum = Decimal(1).scaleb(-scale)
    products = [
        (Decimal(value) * factor).quantize(quantum) if ok else None
        for value, factor, ok in zip(normalised, factors, valid, strict=True)
    ]
    return pd.Series(products, index=text.index, dtype="object")


def _check_range(context: FieldContext, column: Column, text: pd.Series,
                 label: str | None) -> None:
    """Plausibility ranges (and steps, e.g. Karnofsky by 10) from ``value_ranges.csv``."""
    out = context.out
    ranges = value_ranges().get((context.table.name, column.name), [])
    if column.name not in out or not ranges:
        return
    values = pd.to_numeric(out[column.name], errors="coerce").astype("Float64")
    for limits in ranges:
        applies = pd.Series(True, index=out.index)
        if limits.when is not None:
            field, op, wanted = limits.when
            other = out[field] if field in out else pd.Series(None, index=out.index)
            if op == "=":
                applies = other.astype("string") == wanted
            else:
                applies = OPERATORS[op](pd.to_numeric(other, errors="coerce"), float(wanted))
        outside = pd.Series(False, index=out.index)
        if limits.minimum is not None:
            outside |= values < float(limits.minimum)
        if limits.maximum is not None:
            outside |= values > float(limits.maximum)
        if limits.step is not None:
            outside |= (values % float(limits.step)).abs() > 1e-9
        condition = f" when {''.join(limits.when)}" if limits.when else ""
        step = f" in steps of {limits.step}" if limits.step is not None else ""
        context.issues.add(applies.fillna(False) & outside.fillna(False), "out_of_range", label,
                           text, f"{column.name} outside [{limits.minimum}, {limits.maximum}]"
                           f"{step}{condition}: {limits.why}")

"""Reference data read by the loader: unit conversions, plausible value ranges, cross-table
checks and the canonical vocabularies (the dbt seeds, shared with the marts)."""

import csv
import operator
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

from etl.config import REPO_DIR

REFERENCE_DIR = Path(__file__).resolve().parent
VOCABULARY_DIR = REPO_DIR / "dbt_project" / "seeds"


def _rows(name: str) -> list[dict[str, str]]:
    with open(REFERENCE_DIR / name, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _decimal(text: str) -> Decimal | None:
    return Decimal(text) if text else None


SUPERSCRIPT_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
POWER_OF_TEN = re.compile(r"^x?10(?:\^|\*\*|\*|e)(?=\d)")  # 10^9 10**9 10*9 10e9 x10^9


def normalise_unit(unit: str) -> str:
    """A unit as compared: without case or blanks, the micro sign however spelled (µ, μ,
    u), superscript digits as digits (``mm³``: ``mm3``), and a leading power of ten
    however written (``×10⁹/L``, ``x10^9/L``, UCUM's ``10*9/L``, ``10E9/L``: ``10^9/l``).
    Laboratory systems write these every way; the unit is the same, and a centre's
    spelling should need no row of its own in ``unit_conversions.csv``."""
    text = "".join(unit.split()).casefold()
    text = text.replace("µ", "u").replace("μ", "u").replace("×", "x")
    text = re.sub("10([⁰¹²³⁴⁵⁶⁷⁸⁹]+)", r"10^\1", text).translate(SUPERSCRIPT_DIGITS)
    return POWER_OF_TEN.sub("10^", text)


@dataclass(frozen=True)
class Conversion:
    """How a source unit of a quantity becomes canonical; ``factor`` None keeps it as sent."""

    canonical_unit: str | None
    factor: Decimal | None


@cache
def unit_conversions() -> dict[tuple[str, str], Conversion]:
    """(quantity, normalised source unit) -> conversion, from ``unit_conversions.csv``."""
    return {
        (row["quantity"], normalise_unit(row["unit"])): Conversion(
            canonical_unit=row["canonical_unit"] or None, factor=_decimal(row["factor"])
        )
        for row in _rows("unit_conversions.csv")
    }


@cache
def units_of(quantity: str) -> tuple[str, ...]:
    """The units ``unit_conversions.csv`` converts for ``quantity``, as written there
    (empty for a quantity it does not know, such as a lab test a code list names)."""
    return tuple(row["unit"] for row in _rows("unit_conversions.csv")
                 if row["quantity"] == quantity)


CONDITION = re.compile(r"^(?P<field>\w+)(?P<op><=|>=|=)(?P<value>.+)$")
OPERATORS = {"<=": operator.le, ">=": operator.ge, "=": operator.eq}


@dataclass(frozen=True)
class ValueRange:
    """A plausible range of one field, optionally only for rows meeting ``when``."""

    minimum: Decimal | None
    maximum: Decimal | None
    step: Decimal | None
    when: tuple[str, str, str] | None  # (field, operator, value), e.g. ("scale", "=", "KPS")
    why: str


@cache
def value_ranges() -> dict[tuple[str, str], list[ValueRange]]:
    """(table, field) -> its ranges; values outside are quarantined ``out_of_range``."""
    ranges: dict[tuple[str, str], list[ValueRange]] = {}
    for row in _rows("value_ranges.csv"):
        when = None
        if row["when"]:
            match = CONDITION.match(row["when"])
            if match is None:
                raise ValueError(f"value_ranges.csv: cannot read condition {row['when']!r}")
            when = (match["field"], match["op"], match["value"])
        ranges.setdefault((row["table"], row["field"]), []).append(ValueRange(
            minimum=_decimal(row["minimum"]), maximum=_decimal(row["maximum"]),
            step=_decimal(row["step"]), when=when, why=row["why"],
        ))
    return ranges


@dataclass(frozen=True)
class CrossCheck:
    """A date of one table that must not contradict a date of another, per patient."""

    table: str
    field: str
    must_be: str  # on_or_after | on_or_before
    other_table: str
    other_field: str
    reason_code: str
    why: str


@cache
def cross_checks() -> list[CrossCheck]:
    return [CrossCheck(**row) for row in _rows("cross_checks.csv")]


@cache
def vocabulary(name: str) -> frozenset[str]:
    """The canonical codes of a vocabulary: the first column of its dbt seed."""
    with open(VOCABULARY_DIR / f"{name}.csv", newline="", encoding="utf-8") as handle:
        return frozenset(row[0] for row in list(csv.reader(handle))[1:] if row)

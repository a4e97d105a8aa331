"""Reference tables read by the loader: unit conversions and plausible value ranges."""

import csv
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

REFERENCE_DIR = Path(__file__).resolve().parent


def normalise_unit(unit: str) -> str:
    """Compare units without caring for case or the micro sign's spelling (µ, μ, u)."""
    return unit.strip().replace("µ", "u").replace("μ", "u").casefold()


@dataclass(frozen=True)
class Conversion:
    """How a source unit of a quantity becomes canonical; ``factor`` None keeps it as sent."""

    canonical_unit: str | None
    factor: Decimal | None


@cache
def unit_conversions() -> dict[tuple[str, str], Conversion]:
    """(quantity, normalised source unit) -> conversion, from ``unit_conversions.csv``."""
    with open(REFERENCE_DIR / "unit_conversions.csv", newline="", encoding="utf-8") as handle:
        return {
            (row["quantity"], normalise_unit(row["unit"])): Conversion(
                canonical_unit=row["canonical_unit"] or None,
                factor=Decimal(row["factor"]) if row["factor"] else None,
            )
            for row in csv.DictReader(handle)
        }


@dataclass(frozen=True)
class ValueRange:
    minimum: Decimal | None
    maximum: Decimal | None


@cache
def value_ranges() -> dict[tuple[str, str], ValueRange]:
    """(table, field) -> plausible range; values outside are quarantined ``out_of_range``."""
    with open(REFERENCE_DIR / "value_ranges.csv", newline="", encoding="utf-8") as handle:
        return {
            (row["table"], row["field"]): ValueRange(
                minimum=Decimal(row["minimum"]) if row["minimum"] else None,
                maximum=Decimal(row["maximum"]) if row["maximum"] else None,
            )
            for row in csv.DictReader(handle)
        }

"""Gate thresholds, read from ``thresholds.yml`` (data, not code)."""

from functools import cache
from pathlib import Path

import yaml

THRESHOLDS_FILE = Path(__file__).resolve().parent / "thresholds.yml"


@cache
def thresholds() -> dict[str, float]:
    return yaml.safe_load(THRESHOLDS_FILE.read_text(encoding="utf-8"))

"""Map a delivery's rows, recalling the canonical rows of those mapped before.

``map_extract`` is a pure function of the cells it reads in a source row (after joins
and unpivoting; ``columns_read``), the site mapping, the reference data and the code,
and of the export date only through the future-date check. So a unit of tonight's
snapshot identical to a unit that mapped cleanly on an earlier night (same extract,
same rules, that night's export date not later than tonight's) gives the same
canonical row: it is recalled, not mapped again. Units that had a problem are always
mapped again, so their issues are reported every night. Only the steps across rows
(duplicates, cross-table checks, collapsing) run on every row, after this.
"""

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from etl.canonical import (
    ISSUE_COLUMNS,
    SOURCE_ROW,
    UNIT_ID,
    MappedExtract,
    columns_read,
    map_extract,
)
from etl.config import REPO_DIR, Settings
from etl.mapping import Extract, LoadedMapping
from etl.memo import (
    POSITION,
    PreparedMemo,
    RowMemo,
    files_digest,
    fingerprint,
    recall,
    row_hashes,
)

STEP = "mapping"


def rule_files() -> list[Path]:
    """What a canonical row depends on besides its source row: the mapping code, the
    models, the reference tables and the vocabularies."""
    etl = REPO_DIR / "etl"
    return [etl / "canonical.py", etl / "mapping.py", etl / "pseudonym.py",
            *sorted((etl / "reference").glob("*.*")),
            *sorted((REPO_DIR / "models").glob("*.py")),
            *sorted((REPO_DIR / "dbt_project" / "seeds").glob("*.csv"))]


class RememberedMapping:
    """``map_extract`` with a memory per centre and extract; ``remember`` stores what a
    delivery mapped once it has been loaded."""

    def __init__(self, settings: Settings, loaded: LoadedMapping, key: bytes,
                 today: date) -> None:
        self._settings, self._loaded, self._key, self._today = settings, loaded, key, today
        self._rules = fingerprint(loaded.sha256, files_digest(rule_files()),
                                  fingerprint(key), pd.__version__)
        self._pending: list[tuple[RowMemo, pd.DataFrame]] = []
        self._prepared: list[PreparedMemo] = []
        self.recalled = 0
        self.mapped = 0

    def map(self, number: int, frame: pd.DataFrame, extract: Extract,
            choices: dict[str, dict[str, str]]) -> MappedExtract:
        """Canonical rows and issues of ``frame``, as ``map_extract`` would return them."""
        mapping = self._loaded.mapping
        memo = RowMemo.for_site(self._settings, STEP, mapping.site, f"extract-{number:02d}",
                                fingerprint(self._rules, number, sorted(
                                    (k, sorted(v.items())) for k, v in choices.items())))
        stored, note = memo.load()
        if stored is not None and note.get("export_date", "") > self._today.isoformat():
            stored = None  # mapped before a later export: its future-date check differs
        hashes = row_hashes(frame, columns_read(frame, extract, mapping, choices), self._key)
        known = recall(hashes, stored)
        seen = np.zeros(len(frame), dtype=bool)
        seen[known[POSITION].to_numpy()] = True
        fresh = (map_extract(frame[~seen], extract, mapping, self._key, self._today, choices)
                 if not seen.all() else
                 MappedExtract(rows=pd.DataFrame(), issues=pd.DataFrame(columns=ISSUE_COLUMNS)))
        positions = known.pop(POSITION).to_numpy()
        recalled = pd.concat([pd.DataFrame({
            SOURCE_ROW: frame[SOURCE_ROW].to_numpy()[positions],
            UNIT_ID: frame[UNIT_ID].to_numpy()[positions],
        }), known.reset_index(drop=True)], axis=1)
        self.recalled += len(recalled)
        self.mapped += int((~seen).sum())
        parts = [part for part in (recalled, fresh.rows) if not part.empty]
        rows = (pd.concat(parts, ignore_index=True).sort_values(UNIT_ID, kind="stable")
                .reset_index(drop=True) if parts else fresh.rows)  # in source order
        if not rows.empty:
            position_of = pd.Series(np.arange(len(frame)), index=frame[UNIT_ID].to_numpy())
            clean = hashes.iloc[position_of[rows[UNIT_ID]].to_numpy()].reset_index(drop=True)
            self._pending.append((memo, pd.concat(
                [clean, rows.drop(columns=[SOURCE_ROW, UNIT_ID])], axis=1)))
        return MappedExtract(rows=rows, issues=fresh.issues)

    def prepare(self) -> None:
        """Write tonight's clean units beside the memo (in the extract worker), so that
        ``remember`` only has to put them in place."""
        note = {"export_date": self._today.isoformat()}
        self._prepared += [memo.prepare(rows, note) for memo, rows in self._pending]
        self._pending.clear()

    def remember(self) -> None:
        """Store tonight's clean units for the next delivery of the centre."""
        self.prepare()
        for prepared in self._prepared:
            prepared.commit()
        self._prepared.clear()

    def forget(self) -> None:
        """The delivery was not loaded: throw away what was prepared for the memo."""
        for prepared in self._prepared:
            prepared.discard()
        self._prepared.clear()
        self._pending.clear()

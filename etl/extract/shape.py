"""Shape a read source into one extract's rows, as the mapping declares: attach
supplemental qualifiers and joined files, select the extract's rows, skip rows that
carry no record, and turn wide files long.

The result has one row per accounting unit (a source row, or one cell of an unpivoted
wide row), numbered in ``unit_id``; ``skipped`` counts units that carry no record by
design, so that read = loaded + skipped + quarantined can be checked per extract.
"""

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from etl.canonical import (
    SOURCE_COLUMN,
    SOURCE_ROW,
    UNIT_ID,
    UNPIVOT_KEY,
    UNPIVOT_UNIT,
    UNPIVOT_VALUE,
)
from etl.errors import DeliveryRejected
from etl.extract.redcap import form_status_column
from etl.mapping import Extract, Join, Unpivot


@dataclass
class Shaped:
    frame: pd.DataFrame  # the extract's units, with ``source_row`` and ``unit_id``
    selected_rows: pd.Series  # source rows this extract claims (for unclaimed-row accounting)
    units_read: int
    units_skipped: int


def _matches(frame: pd.DataFrame, where: dict[str, str | list[str]]) -> pd.Series:
    mask = pd.Series(True, index=frame.index)
    for column, wanted in where.items():
        values = [wanted] if isinstance(wanted, str) else wanted
        mask &= frame[column].isin(values).fillna(False)
    return mask


def unit_columns(frame: pd.DataFrame, extract: Extract, label: str, read: list[str]
                 ) -> list[str]:
    """The columns the extract's units are made of, in the frame's order: those the
    mapping ``read``s, the ``skip_empty`` and unpivoted columns, and ``source_row``."""
    _require(frame, extract.skip_empty, label, "skip_empty")
    wanted = {SOURCE_ROW, *read, *extract.skip_empty}
    if extract.unpivot is not None:
        wanted |= set(_unpivot_cells(frame, extract.unpivot, label))
    return [c for c in frame.columns if c in wanted]


def row_filter(frame: pd.DataFrame, extract: Extract, label: str
               ) -> tuple[dict[str, list[str]], list[str]]:
    """What selects this extract's rows: the values a column must hold (``where``) and
    the columns of which one must be filled (``where_not_empty``, ``form``'s status);
    ``frame`` needs only its columns."""
    _require(frame, list(extract.where), label, "where")
    where = {column: [wanted] if isinstance(wanted, str) else list(wanted)
             for column, wanted in extract.where.items()}
    not_empty = list(extract.where_not_empty)
    if extract.form:
        not_empty.append(form_status_column(extract.form))
    _require(frame, not_empty, label, "form" if extract.form else "where_not_empty")
    return where, not_empty


def select_rows(frame: pd.DataFrame, extract: Extract, label: str, columns: list[str]
                ) -> pd.DataFrame:
    """The rows of ``frame`` this extract takes (``row_filter``), with ``columns`` only:
    every other column of a wide file (a REDCap export has 78) was copied with the rows
    of each of its ten extracts, and again when they were shaped."""
    return rows_matching(frame, *row_filter(frame, extract, label), columns)


def rows_matching(frame: pd.DataFrame, where: dict[str, list[str]], not_empty: list[str],
                  columns: list[str]) -> pd.DataFrame:
    """The rows of ``frame`` a ``row_filter`` takes, with ``columns`` only."""
    mask = _matches(frame, where)
    if not_empty:
        mask &= frame[not_empty].notna().any(axis=1)
    return frame.loc[mask, columns]


def attach(frame: pd.DataFrame, joined: pd.DataFrame, join: Join, label: str,
           joined_label: str) -> pd.DataFrame:
    """Left-join ``join.columns`` of another file; each row may match at most one row."""
    _require(frame, list(join.match), label, "join.match")
    _require(joined, [*join.match.values(), *join.columns, *join.where], joined_label, "join")
    right_keys = list(join.match.values())
    right = joined[[*right_keys, *join.columns]][_matches(joined, join.where)]
    duplicated = right.duplicated(subset=right_keys, keep=False) & right[right_keys].notna().all(
        axis=1)
    if duplicated.any():
        first = joined.loc[duplicated[duplicated].index[0]]
        raise DeliveryRejected(
            f"{joined_label}: row {int(first[SOURCE_ROW])}: {', '.join(right_keys)} = "
            f"{', '.join(str(first[k]) for k in right_keys)} occurs more than once, so rows of "
            f"{label} cannot be matched to one row")
    clashes = (set(join.columns) & set(frame.columns)) - set(join.match)
    if clashes:
        raise DeliveryRejected(f"{label}: joined column(s) {', '.join(sorted(clashes))} of "
                               f"{joined_label} already exist")
    renamed = right.rename(columns={r: f"joined:{r}" for r in right_keys})
    merged = frame.merge(renamed, how="left", left_on=list(join.match),
                         right_on=[f"joined:{r}" for r in right_keys], validate="many_to_one")
    return merged.drop(columns=[f"joined:{r}" for r in right_keys]).set_index(frame.index)


def skip_and_unpivot(frame: pd.DataFrame, extract: Extract, label: str,
                     read: list[str], carries: pd.Series | None = None) -> Shaped:
    """Drop skipped rows (all ``skip_empty`` columns empty, or not ``carries``: a REDCap
    form's rows without data) and unpivot wide rows; the long rows keep only the columns
    the mapping ``read``s of their wide row (a REDCap row of 78 columns made 4.8 million
    long rows of 48 columns each, at 25,000 patients)."""
    selected = frame[SOURCE_ROW]
    if carries is None:
        carries = (frame[extract.skip_empty].notna().any(axis=1) if extract.skip_empty
                   else pd.Series(True, index=frame.index))
    if extract.unpivot is None:
        kept = frame[carries].reset_index(drop=True)
        kept[UNIT_ID] = range(len(kept))
        return Shaped(kept, selected, units_read=len(frame),
                      units_skipped=int((~carries).sum()))
    long, cells = _unpivot(frame[carries], extract.unpivot, label, read)
    skipped_rows = int((~carries).sum()) * len(cells)
    return Shaped(long, selected, units_read=len(frame) * len(cells),
                  units_skipped=skipped_rows + (int(carries.sum()) * len(cells) - len(long)))


def _unpivot(frame: pd.DataFrame, unpivot: Unpivot, label: str, read: list[str]
             ) -> tuple[pd.DataFrame, dict[str, tuple[str, str | None]]]:
    """One row per non-empty cell of the wide columns: key, value, unit, source column."""
    cells = _unpivot_cells(frame, unpivot, label)
    filled = [np.flatnonzero(frame[column].notna().to_numpy()) for column in cells]
    which = np.repeat(np.arange(len(cells)), [len(rows) for rows in filled])
    rows = np.concatenate(filled)  # a mapping's unpivot names at least one column
    # by source row, then in the order of the wide columns (a stable sort keeps it)
    order = np.argsort(frame[SOURCE_ROW].to_numpy()[rows], kind="stable")
    rows, which = rows[order], which[order]
    specs = list(cells.items())
    kept = [SOURCE_ROW, *(c for c in read if c not in cells and c != SOURCE_ROW)]
    long = frame[kept].iloc[rows].reset_index(drop=True)
    long[UNPIVOT_KEY] = np.array([key for _, (key, _) in specs], dtype=object)[which]
    long[UNPIVOT_VALUE] = pd.concat([frame[column].iloc[cell_rows] for column, cell_rows in
                                     zip(cells, filled, strict=True)],
                                    ignore_index=True).iloc[order].reset_index(drop=True)
    long[UNPIVOT_UNIT] = np.array([unit for _, (_, unit) in specs], dtype=object)[which]
    long[SOURCE_COLUMN] = np.array([column for column, _ in specs], dtype=object)[which]
    long[UNIT_ID] = range(len(long))
    return long, cells


def _unpivot_cells(frame: pd.DataFrame, unpivot: Unpivot, label: str
                   ) -> dict[str, tuple[str, str | None]]:
    """The wide columns to unpivot: column -> (the key it stands for, its unit)."""
    if unpivot.matching is not None:
        pattern = re.compile(unpivot.matching, re.IGNORECASE)  # as names are matched
        cells = {c: (m.group(1), None) for c in frame.columns
                 if (m := pattern.fullmatch(str(c)))}
        if not cells:
            raise DeliveryRejected(f"{label}: no column matches {unpivot.matching!r} (unpivot)")
        return cells
    _require(frame, list(unpivot.columns), label, "unpivot.columns")
    return {c: (str(spec.key), spec.unit) for c, spec in unpivot.columns.items()}


def _require(frame: pd.DataFrame, columns: list[str], label: str, key: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DeliveryRejected(
            f"{label}: column(s) named by the mapping's {key!r} are missing: "
            f"{', '.join(missing)}; found: "
            f"{', '.join(c for c in frame.columns if c != SOURCE_ROW)}")

"""Small-cell protection of published count tables (primary and complementary suppression).

A count below the threshold (but not 0) is hidden. Hiding it is not enough when the
published margins give it away: a row total minus the visible cells of the row, or a
column's total row minus the visible cells of the column. So a hidden cell must not be
*determined* by the published equations. Each table is written as linear equations over
its cells (row sums, and column sums when a total row is published); a hidden cell is
determined exactly when its unit vector lies in the row space of the equations restricted
to the hidden cells. While any is determined, a visible count of a determined cell's row
or column is hidden too: the smallest that leaves it undetermined, else the smallest.
Every step hides one more cell, so this ends.
"""

import numpy as np
import pandas as pd


def _is_determined(system: np.ndarray, hidden: np.ndarray, cell: int) -> bool:
    """Do the equations fix the value of hidden ``cell``, the other hidden cells unknown?"""
    columns = np.flatnonzero(hidden)
    restricted = system[:, columns]
    unit = (columns == cell).astype(float)
    return bool(np.linalg.matrix_rank(np.vstack([restricted, unit]))
                == np.linalg.matrix_rank(restricted))


def _complement(counts: np.ndarray, hidden: np.ndarray, system: np.ndarray,
                determined: list[int], neighbours) -> int:
    """The cell to hide next: for some determined cell, the smallest visible count of its
    row or column (positive before zero) that makes it undetermined; when no single cell
    does that, the smallest visible neighbour of the first determined cell that has one."""
    fallback = None
    for cell in determined:
        visible = sorted((c for c in neighbours(cell) if not hidden[c]),
                         key=lambda c: (counts[c] == 0, counts[c], c))
        for candidate in visible:
            trial = hidden.copy()
            trial[candidate] = True
            if not _is_determined(system, trial, cell):
                return candidate
        if fallback is None and visible:
            fallback = visible[0]
    if fallback is None:
        raise ValueError("a hidden count is determined and no visible cell is left to hide")
    return fallback


def suppress_table(grid: pd.DataFrame, threshold: int, total_row: object | None = None
                   ) -> pd.DataFrame:
    """Which cells of a count table to hide (True), so that none below ``threshold`` can
    be read or recovered from the row totals and, when ``total_row`` names a row of
    ``grid`` that holds the column sums, from the columns. Row totals are published (they
    are the denominators); every cell of the table is protected against them."""
    counts = grid.to_numpy(dtype=float).ravel()
    n_rows, n_columns = grid.shape
    index = np.arange(counts.size).reshape(n_rows, n_columns)
    equations = [np.isin(np.arange(counts.size), index[r]).astype(float) for r in range(n_rows)]
    if total_row is not None:
        total = grid.index.get_loc(total_row)
        for c in range(n_columns):
            equation = np.zeros(counts.size)
            equation[index[:, c]] = 1.0
            equation[index[total, c]] = -1.0
            equations.append(equation)
    system = np.vstack(equations)
    hidden = (counts > 0) & (counts < threshold)
    def neighbours(cell: int) -> np.ndarray:
        row, column = divmod(cell, n_columns)
        return index[row] if total_row is None else np.union1d(index[row], index[:, column])

    while determined := [c for c in np.flatnonzero(hidden)
                         if _is_determined(system, hidden, c)]:
        hidden[_complement(counts, hidden, system, determined, neighbours)] = True
    return pd.DataFrame(hidden.reshape(n_rows, n_columns), index=grid.index,
                        columns=grid.columns)


def suppress_counts(counts: pd.DataFrame, tables: list[str], row: str, column: str,
                    count: str, threshold: int, total_row: object | None = None
                    ) -> pd.Series:
    """``suppress_table`` over every table of a long frame of counts; returns the hidden
    flag per input row (aligned to ``counts``)."""
    hidden = pd.Series(False, index=counts.index)
    for _, table in counts.groupby(tables, sort=False, dropna=False):
        grid = table.pivot(index=row, columns=column, values=count).fillna(0)
        has_total = total_row is not None and total_row in grid.index
        mask = suppress_table(grid, threshold, total_row if has_total else None)
        flags = mask.stack()
        hidden.loc[table.index] = [bool(flags.loc[(r, c)])
                                   for r, c in zip(table[row], table[column], strict=True)]
    return hidden


def protected_distribution(counts: pd.DataFrame, tables: list[str], row: str, column: str,
                           threshold: int, total_row: object | None = None) -> pd.DataFrame:
    """Counts ``n`` with their row totals and shares, small cells and their complements
    hidden (``n`` and ``share`` null, ``is_suppressed`` true)."""
    hidden = suppress_counts(counts, tables, row, column, "n", threshold, total_row)
    totals = counts.groupby([*tables, row])["n"].transform("sum")
    published = counts.assign(
        row_total=totals.astype("Int64"),
        share=(counts["n"] / totals.where(totals > 0)).where(~hidden),
        is_suppressed=hidden)
    published["n"] = counts["n"].where(~hidden).astype("Int64")
    return published

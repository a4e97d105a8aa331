"""Small-cell suppression: nothing below the threshold is shown or can be worked back."""

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from etl.analysis.suppression import protected_distribution, suppress_counts, suppress_table


def test_a_lone_small_cell_takes_the_smallest_other_count_of_its_row_with_it():
    hidden = suppress_table(pd.DataFrame([[3, 10, 12]]), threshold=5)
    assert hidden.to_numpy().tolist() == [[True, True, False]]


def test_large_counts_and_zeros_stay_visible():
    hidden = suppress_table(pd.DataFrame([[30, 0, 12], [5, 6, 7]]), threshold=5)
    assert not hidden.to_numpy().any()


def test_with_a_total_row_the_column_needs_a_second_hidden_cell_too():
    """A 3 at centre A: hiding A's 10 protects the row, but the column (total 11 minus B's 8)
    would still give it away; the smallest safe pattern is the rectangle A/B × x/y."""
    grid = pd.DataFrame([[3, 10, 12], [8, 9, 20], [11, 19, 32]], index=["A", "B", "ALL"],
                        columns=["x", "y", "z"])
    hidden = suppress_table(grid, threshold=5, total_row="ALL")
    assert hidden.to_numpy().tolist() == [[True, True, False], [True, True, False],
                                          [False, False, False]]


def feasible_range(grid: np.ndarray, hidden: np.ndarray, cell: int) -> float:
    """Width of the interval a hidden cell can take given everything published: visible
    cells, row totals, and the last row being the column sums; counts >= 0 (an LP)."""
    n_rows, n_columns = grid.shape
    values, hidden = grid.ravel().astype(float), hidden.ravel()
    equations, rhs = [], []
    for r in range(n_rows):
        equation = np.zeros(values.size)
        equation[r * n_columns:(r + 1) * n_columns] = 1
        equations.append(equation)
        rhs.append(values[r * n_columns:(r + 1) * n_columns].sum())
    for c in range(n_columns):
        equation = np.zeros(values.size)
        equation[[r * n_columns + c for r in range(n_rows - 1)]] = 1
        equation[(n_rows - 1) * n_columns + c] = -1
        equations.append(equation)
        rhs.append(0.0)
    matrix = np.array(equations)
    a_eq = matrix[:, hidden]
    b_eq = np.array(rhs) - matrix[:, ~hidden] @ values[~hidden]
    objective = (np.flatnonzero(hidden) == cell).astype(float)
    low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None)).fun
    high = -linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None)).fun
    return high - low


@pytest.mark.parametrize("seed", range(40))
def test_no_hidden_small_count_can_be_worked_back_from_what_is_published(seed):
    rng = np.random.default_rng(seed)
    n_rows, n_columns = int(rng.integers(2, 6)), int(rng.integers(2, 6))
    body = rng.choice([0, 1, 2, 3, 4, 6, 9, 15, 30], size=(n_rows, n_columns))
    grid = pd.DataFrame(np.vstack([body, body.sum(axis=0)]),
                        index=[*range(n_rows), "ALL"])
    hidden = suppress_table(grid, threshold=5, total_row="ALL")
    values, mask = grid.to_numpy(), hidden.to_numpy()
    small = (values > 0) & (values < 5)
    assert mask[small].all()
    for cell in np.flatnonzero(small.ravel()):
        assert feasible_range(values, mask, cell) > 0.5, (seed, cell)


def test_counts_in_long_form_are_protected_table_by_table():
    counts = pd.DataFrame({
        "criterion": ["SWOG"] * 3 + ["RECIST11"] * 3,
        "site": ["A"] * 6,
        "category": ["PR", "SD", "PD"] * 2,
        "n": [3, 10, 12, 30, 10, 12],
    })
    hidden = suppress_counts(counts, tables=["criterion"], row="site", column="category",
                             count="n", threshold=5)
    assert hidden.tolist() == [True, True, False, False, False, False]



def test_shares_and_counts_of_hidden_cells_are_null_and_row_totals_stay():
    counts = pd.DataFrame({"criterion": ["SWOG"] * 3, "site": ["A"] * 3,
                           "category": ["PR", "SD", "PD"], "n": [3, 10, 12]})
    published = protected_distribution(counts, ["criterion"], "site", "category", 5)
    assert published["n"].tolist() == [pd.NA, pd.NA, 12]
    assert published["row_total"].tolist() == [25, 25, 25]
    assert published["share"].isna().tolist() == [True, True, False]
    assert published["share"].iloc[2] == pytest.approx(12 / 25)
    assert published["is_suppressed"].tolist() == [True, True, False]

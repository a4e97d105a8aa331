"""Compute a per-value transformation once per distinct value.

Source columns repeat themselves: code lists, units, questionnaire scores 1–4, dates,
the same few lab values. Parsing them (strip, case-fold, numbers, dates, units) is done
value by value, partly in Python, so doing it once per distinct value and spreading the
results back is much cheaper, and gives exactly the same result as long as the
transformation looks at nothing but the value itself.
"""

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

Result = pd.Series | tuple[pd.Series, ...]


def per_distinct(text: pd.Series, transform: Callable[[pd.Series], Result]) -> Result:
    """``transform(text)``, computed on the distinct values of ``text`` only.

    ``text`` is taken as text (pandas ``string``): distinct texts are distinct values,
    whereas equal-comparing objects (``Decimal("1.0")`` and ``1.0``) would be merged.
    Missing values (None, NaN, NA) are all one missing text. ``transform`` gets and
    returns Series aligned on a default index; the results come back aligned on
    ``text``'s index."""
    codes, uniques = pd.factorize(text.astype("string"), use_na_sentinel=False)
    result = transform(pd.Series(uniques, copy=False))
    if isinstance(result, tuple):
        return tuple(_spread(part, codes, text.index) for part in result)
    return _spread(result, codes, text.index)


def _spread(per_value: pd.Series, codes, index: pd.Index) -> pd.Series:
    return per_value.iloc[codes].set_axis(index)


def by_code(made: Sequence[object], codes: np.ndarray) -> np.ndarray:
    """Objects made once per distinct value (``pd.factorize``'s uniques), spread back onto
    the rows by their codes; code -1 (a missing value) gives None."""
    objects = np.empty(len(made) + 1, dtype=object)  # the last stays None
    objects[:-1] = made
    return objects[codes]


def cell_texts(cells: pd.Series, to_text: Callable[[object], str | None],
               missing: set[str] = frozenset()) -> pd.Series:
    """``to_text`` of every cell, as pandas text with the ``missing`` tokens blanked,
    called once per distinct value of each Python type.

    Readers get cells as Python objects (Excel) or NumPy numbers (SAS); one function call
    per cell was most of their time. Values are told apart by type as well as value, since
    ``1``, ``1.0`` and ``True`` are one key to a hash table but three texts; NaN is a value
    like any other (``to_text`` decides what it means), and so is None."""
    def texts(values: pd.Series) -> tuple[pd.arrays.StringArray, np.ndarray]:
        codes, uniques = pd.factorize(values)  # None, NaN, NA and NaT all come back as NaN:
        made = [to_text(value) for value in uniques]
        empty = codes < 0
        if empty.any():  # so the function sees one of the cells (one type: one meaning)
            made.append(to_text(values.iloc[int(np.argmax(empty))]))
            codes = np.where(empty, len(made) - 1, codes)
        return pd.array([None if t in missing else t for t in made], dtype="string"), codes

    cells = cells.reset_index(drop=True)
    uniform = (cells.dtype != object  # a NumPy dtype, or nothing but str (checked in C)
               or pd.api.types.infer_dtype(cells, skipna=False) == "string")
    kinds = None if uniform else cells.map(type)
    if kinds is None or kinds.nunique() <= 1:
        distinct, codes = texts(cells)
        return pd.Series(distinct.take(codes), dtype="string")
    result = pd.Series(pd.NA, index=cells.index, dtype="string")
    for _, of_kind in cells.groupby(kinds, sort=False):
        distinct, codes = texts(of_kind)
        result.iloc[of_kind.index] = distinct.take(codes)
    return result


def fixed_width_texts(cells: np.ndarray, to_text: Callable[[bytes], str | None],
                      missing: set[str] = frozenset()) -> pd.Series:
    """``cell_texts`` of fixed-width byte cells (NumPy ``S<width>``, e.g. a SAS character
    variable), ``to_text`` called once per distinct cell with its stored bytes.

    Arrow dictionary-encodes the cells in C++ straight from their buffer: making Python
    objects of millions of cells and factorizing those was most of a reader's time."""
    encoded = fixed_width_dictionary(cells)
    made = [to_text(value) for value in encoded.dictionary.to_pylist()]
    distinct = pd.array([None if t in missing else t for t in made], dtype="string")
    return pd.Series(distinct.take(encoded.indices.to_numpy()), dtype="string")


def fixed_width_dictionary(cells: np.ndarray) -> pa.DictionaryArray:
    """Fixed-width byte cells (NumPy ``S<width>``) dictionary-encoded by Arrow, straight
    from their buffer: each distinct stored value once, and a code per cell."""
    stored = pa.Array.from_buffers(pa.binary(cells.dtype.itemsize), len(cells),
                                   [None, pa.py_buffer(np.ascontiguousarray(cells))])
    return stored.dictionary_encode()

"""Compute a per-value transformation once per distinct value.

Source columns repeat themselves: code lists, units, questionnaire scores 1–4, dates,
the same few lab values. Parsing them (strip, case-fold, numbers, dates, units) is done
value by value, partly in Python, so doing it once per distinct value and spreading the
results back is much cheaper, and gives exactly the same result as long as the
transformation looks at nothing but the value itself.
"""

from collections.abc import Callable

import pandas as pd

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

"""A 128-bit fingerprint of each canonical record's content, computed in pandas.

Deliveries are full snapshots: on a night after the first, ~98 % of a centre's records
are the ones stored the night before. The merge (``etl.snapshot``) finds those by this
fingerprint, stored with each record version, and casts, digests and compares in DuckDB
only the rest; gate 1's withdrawal preview does the same.

The fingerprint is only a shortcut, never the judge: equal fingerprints mean equal
content (below), so a record found by it is one the full comparison would have left
alone; a record whose fingerprint differs while its content is equal (a column's dtype
changed between nights, or a version stored before fingerprints existed) goes the full
way, where ``record_key`` and ``row_hash`` decide, and costs only time.

Equal fingerprints mean equal content because they hash every content column's values
(pandas ``hash_pandas_object``: a missing value hashes to a marker of its own) with two
independent 64-bit keys, and fold in the table's content column names and dtypes, with
absent columns named as absent (pandas alone hashes an int8 -1 like an int16 255, and
knows no column names). Values of one column and dtype hash alike only when they
are alike, and a stored value is the cast of that value. Object columns are told apart
by Python equality (pandas factorizes them first), under which ``Decimal("7.40")`` is
``Decimal("7.4")``: equal as stored too, as each canonical object column holds one kind
of value, that of its stored type (text, dates, decimals, flags).
"""

import hashlib

import numpy as np
import pandas as pd
from sqlalchemy import Table

from etl.mapping import content_columns

FINGERPRINT_HIGH, FINGERPRINT_LOW = "fingerprint_high", "fingerprint_low"
FINGERPRINT_COLUMNS = (FINGERPRINT_HIGH, FINGERPRINT_LOW)
STORED = "content_fingerprint"  # both halves as one UHUGEINT column of every raw table
HASH_KEYS = {FINGERPRINT_HIGH: "prrt-record-high", FINGERPRINT_LOW: "prrt-record-lows"}


def stored_sql(frame_alias: str = "") -> str:
    """The stored ``content_fingerprint`` from a frame's two halves, as DuckDB SQL."""
    prefix = f"{frame_alias}." if frame_alias else ""
    return (f"((CAST({prefix}{FINGERPRINT_HIGH} AS UHUGEINT) << 64) "
            f"| CAST({prefix}{FINGERPRINT_LOW} AS UHUGEINT))")


def content_values(table: Table, rows: pd.DataFrame) -> pd.DataFrame:
    """The content columns of ``rows`` as the fingerprint hashes them: texts and other
    objects as categoricals (factorized once, below), the rest as they are.

    Equal cells of a column have equal codes, so the search for records sent twice
    (``etl.load``) compares on these too, instead of factorizing the texts again."""
    return pd.concat([_factorized_once(rows[c]) for c in content_columns(table)
                      if c in rows.columns], axis=1, copy=False)


def with_fingerprints(table: Table, rows: pd.DataFrame, values: pd.DataFrame | None = None
                      ) -> pd.DataFrame:
    """``rows`` with the two halves of each record's fingerprint as uint64 columns, hashed
    from ``values``: ``content_values(table, rows)``, computed here unless the caller has
    them already (the extract does, from its duplicate search).

    The halves are concatenated to ``rows``, which merges the frame's blocks of one dtype
    into one (a copy): gate 1 and the raw write work on merged blocks. Adding the halves
    to a shallow copy instead took ~3 s off IOW's extract at 25,000 patients per centre,
    but gate 1 and the raw write of the four night-1 deliveries at 2,500 then took 17.1 /
    23.0 s instead of 14.1 / 18.4 (tried and reverted, 2026-12-06)."""
    values = content_values(table, rows) if values is None else values
    schema = ";".join(f"{c}:{rows[c].dtype if c in rows.columns else '(absent)'}"
                      for c in content_columns(table))
    halves = {}
    for name, key in HASH_KEYS.items():
        salt = np.uint64(int.from_bytes(
            hashlib.blake2b(f"{key}|{schema}".encode(), digest_size=8).digest(), "big"))
        halves[name] = pd.util.hash_pandas_object(values, index=False, hash_key=key
                                                  ).to_numpy() ^ salt
    return pd.concat([rows, pd.DataFrame(halves, index=rows.index)], axis=1, copy=False)


def _factorized_once(column: pd.Series) -> pd.Series:
    """A column pandas would factorize before hashing it (objects, text) as that
    factorization, a categorical; any other column as it is.

    pandas hashes a categorical's categories and takes its codes, which is what it does
    with the column itself, so both halves come out bit for bit as before, and the
    factorizing (most of the hashing's time: dates, decimals and texts are Python
    objects) is done once instead of once per half."""
    if isinstance(column.dtype, pd.StringDtype):
        cells = column.to_numpy(dtype=object, na_value=None)  # what pandas hashes of text
    elif column.dtype == object:
        cells = column.to_numpy()
    else:
        return column  # numbers, flags, masked numbers: hashed directly, nothing to share
    codes, distinct = pd.factorize(cells, sort=False)
    return pd.Series(pd.Categorical.from_codes(
        codes, dtype=pd.CategoricalDtype(pd.Index(distinct), ordered=False)),
        index=column.index, name=column.name, copy=False)

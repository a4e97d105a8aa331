"""Remember, between nights, which rows a pure per-row step has already handled.

Deliveries are full snapshots: night after night most rows are the ones sent before.
Mapping a row to its canonical record, and checking a record against gate 1's row-level
expectations, depend only on the row itself and on the rules (site mapping, reference
data, code, suite), so their outcome for a row seen before can be reused. A
:class:`RowMemo` stores the outcome by a 128-bit keyed hash of the row's content, under
a fingerprint of the rules: change a rule and the memo no longer applies.

The memo is a cache, not state: deleting ``build/memo`` only makes the next night as
slow as the first. It keeps only the rows of the last night that wrote it, so it never
grows beyond one snapshot. The hashes are keyed with the pseudonym key, so the
identifiers in source rows cannot be guessed back from them.
"""

import hashlib
import hmac
import json
import os
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from etl.config import Settings

HASH = ["row_hash_a", "row_hash_b"]
POSITION = "position"
_FACTORISE_FROM = 1_000  # rows; a shorter text column is hashed cell by cell
_SAMPLE = 1_000  # rows sampled to tell a repetitive text column from a mostly distinct one
_CODE_VERSION = "1"  # bump when the meaning of a stored outcome changes


def fingerprint(*parts: object) -> str:
    """A short digest of the rules a stored outcome depends on."""
    text = json.dumps([str(part) for part in parts])
    return hashlib.sha256(f"{_CODE_VERSION}:{text}".encode()).hexdigest()[:20]


def files_digest(paths: list[Path]) -> str:
    """Digest of the content of rule files (mappings, reference tables, code)."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def row_hashes(frame: pd.DataFrame, columns: list[str], key: bytes) -> pd.DataFrame:
    """Two 64-bit hashes of each row's ``columns`` under different keys, indexed by
    position: text is hashed with keyed SipHash; numbers by pandas' bijective mix, then
    every column folded in with a key-dependent multiplier, so rows that collide under
    one key do not under the other.

    Values of different Python types never hash alike (a date, its ISO text and its day
    number differ), so an outcome that depends on a value's type is remembered too."""
    typed = [_typed(frame[column]) for column in columns]
    texts = [_repeated_text(values) if text else None for values, _, text in typed]
    hashes = {}
    for name in HASH:
        secret = hmac.new(key, name.encode(), hashlib.sha256).digest()
        hash_key = secret[:16].hex()[:16]  # siphash key for text and objects
        mix = np.uint64(int.from_bytes(secret[16:24], "little") | 1)  # odd: invertible
        combined = np.full(len(frame), int.from_bytes(secret[24:32], "little"), np.uint64)
        for (values, tag, _), text in zip(typed, texts, strict=True):
            column = (_hash(values, hash_key) if text is None
                      else _hash_repeated(values, *text, hash_key))
            combined = (combined ^ column ^ tag) * mix  # wraps modulo 2**64
        hashes[name] = combined
    return pd.DataFrame(hashes)


def _hash(values: pd.Series | np.ndarray, hash_key: str) -> np.ndarray:
    return pd.util.hash_pandas_object(pd.Series(values, copy=False), index=False,
                                      hash_key=hash_key, categorize=False).to_numpy()


def _repeated_text(values: pd.Series) -> tuple[np.ndarray, pd.Series] | None:
    """Codes and distinct values of a text column in which values repeat (codes, units,
    dates as sent, pseudonyms), so each distinct text is hashed once per key rather than
    once per row; None when they are mostly distinct. Text only: distinct strings are
    distinct bytes, whereas factorising numbers would merge 1.0 with 1.00 or 0.0 with
    -0.0, which hash apart."""
    if len(values) < _FACTORISE_FROM:
        return None
    sample = values.iloc[:: max(1, len(values) // _SAMPLE)]
    if sample.nunique(dropna=False) > len(sample) // 2:
        return None  # mostly distinct: factorising would only add work
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes, pd.Series(uniques, copy=False)


def _hash_repeated(values: pd.Series, codes: np.ndarray, uniques: pd.Series,
                   hash_key: str) -> np.ndarray:
    """Exactly the hashes ``_hash`` gives, one siphash per distinct text; missing cells
    (None, NaN and NA hash apart) are hashed one by one."""
    hashed = np.empty(len(codes), dtype=np.uint64)
    known = codes >= 0
    hashed[known] = _hash(uniques, hash_key)[codes[known]]
    if not known.all():
        hashed[~known] = _hash(values.iloc[np.flatnonzero(~known)], hash_key)
    return hashed


_DATE = np.uint64(0x9E3779B97F4A7C15)  # marks day numbers apart from plain integers
_PLAIN = np.uint64(0)


def _typed(column: pd.Series) -> tuple[pd.Series, np.uint64, bool]:
    """A column in a form that hashes fast, with a tag that keeps types apart: dates as
    day numbers (tagged), one-type columns as they are, mixed ones as typed text; and
    whether it is now all text (strings and missing values)."""
    column = column.reset_index(drop=True)
    if column.dtype != object:
        return column, _PLAIN, isinstance(column.dtype, pd.StringDtype)
    kind = pd.api.types.infer_dtype(column, skipna=True)
    if kind == "date":
        return _day_numbers(column), _DATE, False
    if kind in ("string", "empty", "boolean", "integer", "floating", "decimal"):
        return column, _PLAIN, kind == "string"
    return pd.Series([f"{type(v).__name__}:{v}" for v in column], dtype=object), _PLAIN, True


def _day_numbers(dates: pd.Series) -> pd.Series:
    """Day numbers of a column of dates (missing stays missing), vectorised where the
    dates fit pandas' nanosecond range."""
    try:
        stamps = pd.to_datetime(dates, errors="raise")
        return ((stamps - pd.Timestamp("1970-01-01")).dt.days).astype("Int64")
    except (OverflowError, ValueError, pd.errors.OutOfBoundsDatetime):
        epoch = date(1970, 1, 1).toordinal()
        return pd.Series([d.toordinal() - epoch if d is not None else None for d in dates],
                         dtype="Int64")


def recall(hashes: pd.DataFrame, stored: pd.DataFrame | None) -> pd.DataFrame:
    """The stored payload of every row the memo knows, with the row's ``position``."""
    if stored is None or stored.empty:
        return pd.DataFrame({POSITION: pd.Series([], dtype="int64")})
    positioned = hashes.reset_index(drop=True).assign(**{POSITION: range(len(hashes))})
    return positioned.merge(stored, on=HASH, how="inner").drop(columns=HASH)


class RowMemo:
    """Outcomes of one step for one centre, keyed by row hash (payload columns beside
    the two hash columns); ``fingerprint`` names the rules they were computed under and
    ``note`` carries what else decides whether they apply (an export date)."""

    def __init__(self, directory: Path, name: str, fingerprint: str) -> None:
        self.path = directory / f"{name}.parquet"
        self.meta_path = directory / f"{name}.json"
        self.fingerprint = fingerprint

    @classmethod
    def for_site(cls, settings: Settings, step: str, site: str, name: str,
                 fingerprint: str) -> "RowMemo":
        return cls(settings.build_dir / "memo" / step / site, name, fingerprint)

    def load(self) -> tuple[pd.DataFrame | None, dict]:
        """The stored outcomes and their note, or (None, {}) when there are none under
        these rules."""
        try:
            meta = json.loads(self.meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None, {}
        if meta.get("fingerprint") != self.fingerprint or not self.path.exists():
            return None, {}
        frame = pd.read_parquet(self.path)
        return frame.astype(meta["dtypes"]), meta.get("note", {})

    def save(self, frame: pd.DataFrame, note: dict | None = None) -> None:
        """Replace the stored outcomes (hash columns + payload) at once."""
        self.prepare(frame, note).commit()

    def prepare(self, frame: pd.DataFrame, note: dict | None = None) -> "PreparedMemo":
        """Write the outcomes beside the memo, not yet trusted: :meth:`PreparedMemo.commit`
        puts them in place once the delivery they come from is loaded. Preparing is the
        costly half, so it can run in the extract worker. One delivery per centre is
        prepared at a time (``etl.extract_ahead``), so files left beside the memo are
        from a night that died: they are removed."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        unique = frame.drop_duplicates(subset=HASH)
        for left in self.path.parent.glob(f"{self.path.name}.*.prepared"):
            left.unlink()  # left by a night that died before loading its delivery
        prepared = self.path.with_name(f"{self.path.name}.{uuid.uuid4().hex}.prepared")
        unique.to_parquet(prepared, index=False)
        meta = {"fingerprint": self.fingerprint, "note": note or {},
                "dtypes": {column: str(dtype) for column, dtype in unique.dtypes.items()}}
        return PreparedMemo(self, prepared, meta)


@dataclass(frozen=True)
class PreparedMemo:
    """Outcomes written beside a memo, to replace it (``commit``) or be thrown away."""

    memo: RowMemo
    prepared: Path
    meta: dict

    def commit(self) -> None:
        """Replace the memo, each file atomically; the fingerprint is written last, so a
        half-written pair is never trusted."""
        self.memo.meta_path.unlink(missing_ok=True)
        os.replace(self.prepared, self.memo.path)
        temporary = self.memo.meta_path.with_name(self.memo.meta_path.name + ".tmp")
        temporary.write_text(json.dumps(self.meta), encoding="utf-8")
        os.replace(temporary, self.memo.meta_path)

    def discard(self) -> None:
        self.prepared.unlink(missing_ok=True)

"""What gate 1 need not check again: records resent unchanged, under the same suite.

On a night after the first, ~98 % of a centre's records are resent exactly as stored (the
merge recognises them by content fingerprint, ``etl.snapshot``). Each of those passed,
when it was loaded, every critical per-record expectation of the suite that checked its
table, or its delivery would have been rejected. Checking them again against the same
expectations cannot fail, so gate 1 gives the per-record expectations only the new and
changed records, the natural key's uniqueness only the records that could break it
(below), and everything else every record.

"The same suite" is kept per centre and table in ``meta.checked_snapshot``: the digest of
the suite (with the Great Expectations version) under which the table was last loaded.
It is exact by induction: a load under suite S either checked every record against S
(the table was last loaded under another suite, or never) or only the new and changed
ones while all current records had passed S; either way every current record of the
table has passed S afterwards (records not resent are withdrawn). A changed suite,
threshold or GX version checks every record again on the next night.

The natural key's uniqueness, when the table was last loaded under the same suite, is
checked on the new and changed records and the resent ones that share a key with
another of tonight's records (``etl.snapshot.Recognised.shares_key``): every other
resent record equals a current version (one per key) whose key no other record of
tonight's has, so it cannot be a duplicate.

What judges each record on its own: an expectation of values per row (``ToBeInSet``,
``ToBeBetween``, ``ToNotBeNull``, column pairs, value types) that is critical and has
no ``mostly``. Value types need a word: the fingerprint hashes values by their text, so
a resent value of another type with the same text (a date sent as the string
"2024-03-01") would be recognised as unchanged. Such a record is not written either: the
stored version, which passed, stays as it was. Kept on every record: ``mostly`` (a
share of all rows), warnings (their counts are reported) and any uniqueness other
than the natural key's. Column existence is checked on the frame's columns alone.
"""

import hashlib
import json
from importlib.metadata import version

from sqlalchemy import Connection

from etl.severity import CRITICAL, severity_of

PER_RECORD = {"ExpectColumnValuesToBeInSet", "ExpectColumnValuesToBeBetween",
              "ExpectColumnValuesToNotBeNull", "ExpectColumnPairValuesToBeEqual",
              "ExpectColumnPairValuesAToBeGreaterThanB", "ExpectColumnValuesToBeInTypeList"}
UNIQUE = {"ExpectColumnValuesToBeUnique", "ExpectCompoundColumnsToBeUnique"}
# which of tonight's records a table's expectation is given, once its suite checked them
NONE, NEW_OR_CHANGED, SHARING_KEYS, EVERY = "columns", "new_or_changed", "sharing_keys", "all"


def records_to_check(expectation, natural_key: list[str]) -> str:
    """Which of tonight's records (``NONE``: only the frame's columns, ``NEW_OR_CHANGED``,
    ``SHARING_KEYS`` or ``EVERY``) a Great Expectations expectation must see once the same
    suite checked those resent unchanged. (By class name: GX is imported only when gate 1
    runs.)"""
    configuration = expectation.configuration
    kwargs = configuration.kwargs
    if type(expectation).__name__ == "ExpectColumnToExist":
        return NONE
    if severity_of(configuration) != CRITICAL or kwargs.get("mostly") not in (None, 1, 1.0):
        return EVERY
    name = type(expectation).__name__
    if name in PER_RECORD:
        return NEW_OR_CHANGED
    columns = kwargs.get("column_list") or [kwargs.get("column")]
    if name in UNIQUE and sorted(columns) == sorted(natural_key):
        return SHARING_KEYS
    return EVERY


def suite_digest(suite: list) -> str:
    """SHA-256 of the suite's expectations (type, arguments, severity) and GX's version."""
    configurations = [e.configuration.to_json_dict() for e in suite]
    text = json.dumps([version("great_expectations"), configurations], sort_keys=True,
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def checked_suites(connection: Connection, site: str) -> dict[str, str]:
    """Table -> digest of the suite under which the centre's table was last loaded."""
    return dict(connection.exec_driver_sql(
        "SELECT table_name, suite_sha256 FROM meta.checked_snapshot WHERE site_code = ?",
        (site,)).fetchall())


def record_checked(connection: Connection, site: str, delivery_id: int,
                   digests: dict[str, str]) -> None:
    """The delivery's tables are loaded under these suites (inside the load's
    transaction, so the digests and the records they vouch for are written together)."""
    for table_name, digest in digests.items():
        connection.exec_driver_sql(
            "INSERT OR REPLACE INTO meta.checked_snapshot (site_code, table_name, "
            "suite_sha256, delivery_id) VALUES (?, ?, ?, ?)",
            (site, table_name, digest, delivery_id))

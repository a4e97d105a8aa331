"""What gate 1 need not check again: records resent unchanged, under the same suite.

On a night after the first, ~98 % of a centre's records are resent exactly as stored (the
merge recognises them by content fingerprint, ``etl.snapshot``). Each of those passed,
when it was loaded, every critical per-record expectation of the suite that checked its
table, or its delivery would have been rejected. Checking them again against the same
expectations cannot fail, so gate 1 gives the per-record expectations only the new and
changed records, and still gives everything else every record.

"The same suite" is kept per centre and table in ``meta.checked_snapshot``: the digest of
the suite (with the Great Expectations version) under which the table was last loaded.
It is exact by induction: a load under suite S either checked every record against S
(the table was last loaded under another suite, or never) or only the new and changed
ones while all current records had passed S; either way every current record of the
table has passed S afterwards (records not resent are withdrawn). A changed suite,
threshold or GX version checks every record again on the next night.

What judges each record on its own: an expectation of values per row (``ToBeInSet``,
``ToBeBetween``, ``ToNotBeNull``, column pairs) that is critical and has no ``mostly``.
Kept on every record: uniqueness (compares rows), ``mostly`` (a share of all rows),
warnings (their counts are reported), column existence, and the value types, on which
the fingerprint's equality itself relies.
"""

import hashlib
import json
from importlib.metadata import version

from sqlalchemy import Connection

from etl.severity import CRITICAL, severity_of

PER_RECORD = {"ExpectColumnValuesToBeInSet", "ExpectColumnValuesToBeBetween",
              "ExpectColumnValuesToNotBeNull", "ExpectColumnPairValuesToBeEqual",
              "ExpectColumnPairValuesAToBeGreaterThanB"}


def judges_each_record(expectation) -> bool:
    """Whether a Great Expectations expectation's verdict on a record depends on that
    record alone, and a record that passed it once passes it again. (By class name: GX
    is imported only when gate 1 runs.)"""
    configuration = expectation.configuration
    return (type(expectation).__name__ in PER_RECORD
            and severity_of(configuration) == CRITICAL
            and configuration.kwargs.get("mostly") in (None, 1, 1.0))


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

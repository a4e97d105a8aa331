"""The two severities of a quality check: a failed critical check rejects (gate 1: the
delivery; gate 2: the publication), a failed warning is recorded and reported.

A module of its own, without Great Expectations, because code that only reads
severities (gate reports, ``etl.checked_before``) must not import GX: it is imported
only when gate 1 runs."""

CRITICAL, WARNING = "critical", "warning"


def severity_of(configuration) -> str:
    """An expectation's severity, from its configuration's meta (critical when unsaid)."""
    return configuration.meta.get("severity", CRITICAL)

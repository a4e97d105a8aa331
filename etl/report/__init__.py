"""The outcomes report: one static HTML page per release (``report.html`` beside it)."""

from etl.report.page import write_report

__all__ = ["write_report"]

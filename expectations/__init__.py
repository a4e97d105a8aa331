"""Gate 1: Great Expectations suites over a delivery's canonical frames.

One module per clinical domain. Each module names the frames it checks and the
expectations on them; frames are the canonical tables of the delivery (after the
loader's row-level quarantine) plus derived frames for rules that span tables (a cycle
before the diagnosis, a death before the last contact). Every expectation carries, in
its ``meta``, its Kahn category (conformance, completeness, plausibility), a severity
(critical rejects the delivery, warning is recorded and reported) and why it exists.

``etl/gate.py`` runs the suites; thresholds are data in ``thresholds.yml``.
"""

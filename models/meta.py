"""The ``meta`` schema: who delivered what, what happened to it, and why.

Every night leaves a complete audit trail here: the run, each delivery and file with its
row accounting, every quarantined row with its reason, every gate result and every
publication. Nothing in ``meta`` holds a centre patient identifier.
"""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Integer,
    Sequence,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

SCHEMA = "meta"

delivery_id_seq = Sequence("delivery_id_seq", schema=SCHEMA)
delivery_file_id_seq = Sequence("delivery_file_id_seq", schema=SCHEMA)
quarantine_id_seq = Sequence("quarantine_id_seq", schema=SCHEMA)
gate_result_id_seq = Sequence("gate_result_id_seq", schema=SCHEMA)


class Site(Base):
    """A participating centre, registered from its mapping file on first load."""

    __tablename__ = "site"
    __table_args__ = {"schema": SCHEMA}

    site_code: Mapped[str] = mapped_column(String, primary_key=True)
    site_name: Mapped[str] = mapped_column(String, nullable=False)
    format_family: Mapped[str] = mapped_column(String, nullable=False)
    mapping_file: Mapped[str] = mapped_column(String, nullable=False)
    mapping_sha256: Mapped[str] = mapped_column(String, nullable=False)
    registered_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


class LoadRun(Base):
    """One invocation of a pipeline command that writes (load, build, publish, nightly)."""

    __tablename__ = "load_run"
    __table_args__ = (
        CheckConstraint("status IN ('running', 'succeeded', 'failed')", name="status"),
        {"schema": SCHEMA},
    )

    run_id: Mapped[str] = mapped_column(String, primary_key=True)
    command: Mapped[str] = mapped_column(String, nullable=False)
    status: Mapped[str] = mapped_column(String, nullable=False)
    started_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    message: Mapped[str | None] = mapped_column(Text)


class Delivery(Base):
    """A centre's delivery (folder or file) as it arrived, identified by its content hash."""

    __tablename__ = "delivery"
    __table_args__ = (
        CheckConstraint("status IN ('loaded', 'rejected')", name="status"),
        {"schema": SCHEMA},
    )

    delivery_id: Mapped[int] = mapped_column(
        BigInteger, delivery_id_seq, server_default=delivery_id_seq.next_value(), primary_key=True
    )
    run_id: Mapped[str] = mapped_column(String, nullable=False)
    site_code: Mapped[str] = mapped_column(String, nullable=False)
    delivery_name: Mapped[str] = mapped_column(String, nullable=False)
    export_date: Mapped[datetime | None] = mapped_column(DateTime)
    content_sha256: Mapped[str] = mapped_column(String, nullable=False)
    status: Mapped[str] = mapped_column(String, nullable=False)
    rows_read: Mapped[int] = mapped_column(BigInteger, nullable=False)
    rows_loaded: Mapped[int] = mapped_column(BigInteger, nullable=False)
    rows_quarantined: Mapped[int] = mapped_column(BigInteger, nullable=False)
    rows_skipped: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    records_inserted: Mapped[int] = mapped_column(BigInteger, nullable=False)
    records_updated: Mapped[int] = mapped_column(BigInteger, nullable=False)
    records_withdrawn: Mapped[int] = mapped_column(BigInteger, nullable=False)
    message: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


class DeliveryFile(Base):
    """One extract of a delivery file (or sheet) and its row accounting.

    read = loaded + skipped + quarantined. Skipped rows carry no record by design (an
    unanswered questionnaire item, a test marked not done). ``target_table`` is null on
    the line that counts rows no extract of the mapping selects (all quarantined).
    """

    __tablename__ = "delivery_file"
    __table_args__ = (
        CheckConstraint(
            "rows_read = rows_loaded + rows_skipped + rows_quarantined", name="rows_reconcile"
        ),
        {"schema": SCHEMA},
    )

    delivery_file_id: Mapped[int] = mapped_column(
        BigInteger,
        delivery_file_id_seq,
        server_default=delivery_file_id_seq.next_value(),
        primary_key=True,
    )
    delivery_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    file_name: Mapped[str] = mapped_column(String, nullable=False)
    file_sha256: Mapped[str] = mapped_column(String, nullable=False)
    target_table: Mapped[str | None] = mapped_column(String)
    rows_read: Mapped[int] = mapped_column(BigInteger, nullable=False)
    rows_loaded: Mapped[int] = mapped_column(BigInteger, nullable=False)
    rows_skipped: Mapped[int] = mapped_column(BigInteger, nullable=False)
    rows_quarantined: Mapped[int] = mapped_column(BigInteger, nullable=False)


class QuarantinedRow(Base):
    """A source row that was not loaded, with the reason, the column and the value.

    One source row may have several problems; each is a row here, and the file's
    ``rows_quarantined`` counts the source row once.
    """

    __tablename__ = "quarantined_row"
    __table_args__ = {"schema": SCHEMA}

    quarantine_id: Mapped[int] = mapped_column(
        BigInteger, quarantine_id_seq, server_default=quarantine_id_seq.next_value(),
        primary_key=True,
    )
    delivery_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    site_code: Mapped[str] = mapped_column(String, nullable=False)
    source_file: Mapped[str] = mapped_column(String, nullable=False)
    source_row: Mapped[int] = mapped_column(Integer, nullable=False)
    target_table: Mapped[str | None] = mapped_column(String)
    reason_code: Mapped[str] = mapped_column(String, nullable=False)
    column_name: Mapped[str | None] = mapped_column(String)
    source_value: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text, nullable=False)


class GateResult(Base):
    """The outcome of one quality check (an expectation or a dbt test) in one run."""

    __tablename__ = "gate_result"
    __table_args__ = (
        CheckConstraint("severity IN ('critical', 'warning')", name="severity"),
        {"schema": SCHEMA},
    )

    gate_result_id: Mapped[int] = mapped_column(
        BigInteger, gate_result_id_seq, server_default=gate_result_id_seq.next_value(),
        primary_key=True,
    )
    run_id: Mapped[str] = mapped_column(String, nullable=False)
    delivery_id: Mapped[int | None] = mapped_column(BigInteger)
    gate: Mapped[str] = mapped_column(String, nullable=False)
    check_name: Mapped[str] = mapped_column(String, nullable=False)
    target: Mapped[str] = mapped_column(String, nullable=False)
    kahn_category: Mapped[str | None] = mapped_column(String)
    severity: Mapped[str] = mapped_column(String, nullable=False)
    passed: Mapped[bool] = mapped_column(Boolean, nullable=False)
    failures: Mapped[int | None] = mapped_column(BigInteger)
    message: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


class CheckedSnapshot(Base):
    """The gate 1 suite under which a centre's table was last loaded: every current
    record of the table has passed that suite's per-record expectations."""

    __tablename__ = "checked_snapshot"
    __table_args__ = {"schema": SCHEMA}

    site_code: Mapped[str] = mapped_column(String, primary_key=True)
    table_name: Mapped[str] = mapped_column(String, primary_key=True)
    suite_sha256: Mapped[str] = mapped_column(String, nullable=False)
    delivery_id: Mapped[int] = mapped_column(BigInteger, nullable=False)


class Publication(Base):
    """A release file that was switched in as ``current`` (and when it stopped being so)."""

    __tablename__ = "publication"
    __table_args__ = {"schema": SCHEMA}

    run_id: Mapped[str] = mapped_column(String, primary_key=True)
    release_path: Mapped[str] = mapped_column(String, nullable=False)
    published_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    is_current: Mapped[bool] = mapped_column(Boolean, nullable=False)

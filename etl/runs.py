"""Run lifecycle: every command that writes is recorded in ``meta.load_run``."""

import secrets
from datetime import UTC, datetime

from sqlalchemy import Connection

from etl.db import transaction


def utc_now() -> datetime:
    """Timestamps are stored as naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def new_run_id(now: datetime) -> str:
    """Sortable and unique: ``20261122T160512Z-3fa2``; also the release folder name."""
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(2)}"


def start_run(connection: Connection, command: str) -> str:
    now = utc_now()
    run_id = new_run_id(now)
    with transaction(connection):
        connection.exec_driver_sql(
            "INSERT INTO meta.load_run (run_id, command, status, started_at) "
            "VALUES (?, ?, 'running', ?)",
            (run_id, command, now),
        )
    return run_id


def finish_run(connection: Connection, run_id: str, succeeded: bool, message: str) -> None:
    with transaction(connection):
        connection.exec_driver_sql(
            "UPDATE meta.load_run SET status = ?, finished_at = ?, message = ? WHERE run_id = ?",
            ("succeeded" if succeeded else "failed", utc_now(), message, run_id),
        )

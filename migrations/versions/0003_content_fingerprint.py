"""A content fingerprint on every raw record version.

The merge finds the records a snapshot resends unchanged by this fingerprint (see
``etl/fingerprint.py``) and compares only the rest in full. Versions stored before this
revision have none (NULL): the next night compares them in full once and stores theirs.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from duckdb_sqlalchemy.datatypes import UHugeInteger

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _raw_tables() -> list[str]:
    """Every raw table as this revision finds it (revision 0001 created them)."""
    return sa.inspect(op.get_bind()).get_table_names(schema="raw")


def upgrade() -> None:
    for table in _raw_tables():
        op.add_column(table, sa.Column("content_fingerprint", UHugeInteger), schema="raw")


def downgrade() -> None:
    for table in _raw_tables():
        op.drop_column(table, "content_fingerprint", schema="raw")

"""Which version of gate 1's suite last checked each centre's table in full.

Gate 1 checks a record resent unchanged against its per-record expectations only when
the suite that checked the centre's table is the one running tonight (see
``etl/checked_before.py``); this table says which suite that was.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "checked_snapshot",
        sa.Column("site_code", sa.String(), nullable=False),
        sa.Column("table_name", sa.String(), nullable=False),
        sa.Column("suite_sha256", sa.String(), nullable=False),
        sa.Column("delivery_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("site_code", "table_name"),
        schema="meta",
    )


def downgrade() -> None:
    op.drop_table("checked_snapshot", schema="meta")

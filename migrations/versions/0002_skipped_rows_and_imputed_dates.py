"""Row accounting with skipped rows; imputed partial dates on raw records.

- ``meta.delivery_file`` gets ``rows_skipped`` (rows the mapping says carry no record,
  e.g. an unanswered questionnaire item) and reconciles read = loaded + skipped +
  quarantined; its ``target_table`` may be null for rows that no extract selects.
  DuckDB cannot alter a CHECK constraint, so the table is rebuilt and its rows copied.
- ``meta.delivery`` gets the same ``rows_skipped`` total.
- ``meta.quarantined_row.target_table`` may be null (rows no extract selects).
- Every raw table gets ``dates_imputed``: which date fields were completed from a
  partial ISO 8601 date, and how (see docs/site-mappings.md).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RAW_TABLES = (
    "patient",
    "treatment_cycle",
    "qlq_c30_assessment",
    "qlq_c30_item_response",
    "performance_status",
    "lab_result",
    "imaging_exam",
    "lesion_measurement",
    "reported_response",
    "adverse_event",
    "vital_status",
)
FILE_COLUMNS = ("delivery_file_id, delivery_id, file_name, file_sha256, target_table, "
                "rows_read, rows_loaded, rows_quarantined")


def _delivery_file(with_skipped: bool) -> None:
    columns = [
        sa.Column("delivery_file_id", sa.BigInteger,
                  server_default=sa.text("nextval('meta.delivery_file_id_seq')"),
                  primary_key=True),
        sa.Column("delivery_id", sa.BigInteger, nullable=False),
        sa.Column("file_name", sa.String, nullable=False),
        sa.Column("file_sha256", sa.String, nullable=False),
        sa.Column("target_table", sa.String, nullable=with_skipped),
        sa.Column("rows_read", sa.BigInteger, nullable=False),
        sa.Column("rows_loaded", sa.BigInteger, nullable=False),
    ]
    if with_skipped:
        columns.append(sa.Column("rows_skipped", sa.BigInteger, nullable=False))
        check = "rows_read = rows_loaded + rows_skipped + rows_quarantined"
    else:
        check = "rows_read = rows_loaded + rows_quarantined"
    columns.append(sa.Column("rows_quarantined", sa.BigInteger, nullable=False))
    op.create_table(
        "delivery_file_rebuilt",
        *columns,
        sa.CheckConstraint(check, name=op.f("ck_delivery_file_rows_reconcile")),
        schema="meta",
    )


def _swap_in_rebuilt_delivery_file(select: str) -> None:
    op.execute(f"INSERT INTO meta.delivery_file_rebuilt BY NAME {select}")
    op.drop_table("delivery_file", schema="meta")
    op.execute("ALTER TABLE meta.delivery_file_rebuilt RENAME TO delivery_file")


def upgrade() -> None:
    _delivery_file(with_skipped=True)
    _swap_in_rebuilt_delivery_file(
        f"SELECT {FILE_COLUMNS}, 0 AS rows_skipped FROM meta.delivery_file"
    )
    op.execute("ALTER TABLE meta.delivery ADD COLUMN rows_skipped BIGINT DEFAULT 0")
    op.execute("ALTER TABLE meta.delivery ALTER COLUMN rows_skipped SET NOT NULL")
    op.execute("ALTER TABLE meta.quarantined_row ALTER COLUMN target_table DROP NOT NULL")
    for table in RAW_TABLES:
        op.add_column(table, sa.Column("dates_imputed", sa.String), schema="raw")


def downgrade() -> None:
    for table in RAW_TABLES:
        op.drop_column(table, "dates_imputed", schema="raw")
    op.execute("DELETE FROM meta.quarantined_row WHERE target_table IS NULL")
    op.execute("ALTER TABLE meta.quarantined_row ALTER COLUMN target_table SET NOT NULL")
    op.drop_column("delivery", "rows_skipped", schema="meta")
    _delivery_file(with_skipped=False)
    loaded_with_skipped = "rows_loaded + rows_skipped AS rows_loaded,"
    _swap_in_rebuilt_delivery_file(
        f"SELECT {FILE_COLUMNS.replace('rows_loaded,', loaded_with_skipped)}"
        " FROM meta.delivery_file WHERE target_table IS NOT NULL"
    )

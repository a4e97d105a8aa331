"""Alembic environment: runs migrations on the warehouse's DuckDB file.

Alembic has no DuckDB implementation of its own; registering a ``DefaultImpl`` subclass
for the ``duckdb`` dialect is all it needs (DuckDB speaks PostgreSQL-like DDL).
The connection comes from ``etl.db`` (``config.attributes["connection"]``) so that the
pipeline's single writer connection is reused; the URL is the fallback for the CLI.
"""

from alembic import context
from alembic.ddl.impl import DefaultImpl
from sqlalchemy import create_engine

import models


class DuckDBImpl(DefaultImpl):
    """Alembic's DDL implementation for DuckDB."""

    __dialect__ = "duckdb"
    transactional_ddl = True


SCHEMAS = ("meta", "raw")


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """Compare only the schemas Alembic owns; dbt's schemas are not drift."""
    if type_ == "schema":
        return name in SCHEMAS
    return True


def run_migrations() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is None:
        engine = create_engine(config.get_main_option("sqlalchemy.url"))
        with engine.begin() as connection:
            _migrate(connection)
        engine.dispose()
    else:
        _migrate(connection)


def _migrate(connection) -> None:
    for schema in SCHEMAS:
        connection.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    context.configure(
        connection=connection,
        target_metadata=models.metadata,
        include_schemas=True,
        include_name=include_name,
        version_table_schema="meta",
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()

"""Alembic migrations of the ``meta`` and ``raw`` schemas (see ``etl.db`` to run them)."""

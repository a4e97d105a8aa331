"""SQLAlchemy models of the schemas the pipeline owns: ``meta`` (the audit trail) and
``raw`` (canonical landing tables). dbt owns every other schema.

Importing this package registers every table on :data:`metadata`, which Alembic's
drift check and the loader read.
"""

from models import meta, raw  # noqa: F401  (registers the tables)
from models.base import Base, metadata

__all__ = ["Base", "metadata"]

"""Where everything lives, from environment variables with defaults under ``./data``.

Operators' scripts depend on these names; keep them stable:

- ``PRRT_HOME`` (default ``./data``): ``inbox/``, ``build/warehouse.duckdb``,
  ``releases/<run_id>/`` and the ``current`` link.
- ``PRRT_PSEUDONYM_KEY``: the HMAC key for patient pseudonyms (required to extract).
- ``PRRT_SITES_DIR``: an extra folder of centre mappings (``<code>.yml``), read after the
  packaged ``etl/sites/``; a file there replaces a packaged mapping of the same centre.
- ``PRRT_KEEP_RELEASES`` (default 5): how many releases publishing keeps on disk.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from etl.errors import ConfigurationError

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent
WAREHOUSE_FILE = "warehouse.duckdb"  # dbt-duckdb writes the catalog name into view SQL
DEMO_PSEUDONYM_KEY = "DEMO-KEY-NOT-FOR-REAL-DATA"


@dataclass(frozen=True)
class Settings:
    """Resolved paths and secrets of one warehouse installation."""

    home: Path
    pseudonym_key: str | None
    sites_dir: Path | None
    keep_releases: int
    dbt_project_dir: Path

    @classmethod
    def from_env(cls) -> "Settings":
        keep = os.environ.get("PRRT_KEEP_RELEASES", "5")
        if not keep.isdigit() or int(keep) < 1:
            raise ConfigurationError(
                f"PRRT_KEEP_RELEASES must be a whole number of at least 1, got {keep!r}"
            )
        sites_dir = os.environ.get("PRRT_SITES_DIR")
        return cls(
            home=Path(os.environ.get("PRRT_HOME", "data")).resolve(),
            pseudonym_key=os.environ.get("PRRT_PSEUDONYM_KEY") or None,
            sites_dir=Path(sites_dir).resolve() if sites_dir else None,
            keep_releases=int(keep),
            dbt_project_dir=REPO_DIR / "dbt_project",
        )

    @property
    def inbox(self) -> Path:
        return self.home / "inbox"

    @property
    def build_dir(self) -> Path:
        return self.home / "build"

    @property
    def warehouse_path(self) -> Path:
        return self.build_dir / WAREHOUSE_FILE

    @property
    def releases_dir(self) -> Path:
        return self.home / "releases"

    @property
    def current_link(self) -> Path:
        return self.home / "current"

    def require_pseudonym_key(self) -> bytes:
        """The HMAC key, or a clear stop: extracting without it would leak identifiers."""
        if not self.pseudonym_key:
            raise ConfigurationError(
                "PRRT_PSEUDONYM_KEY is not set. Centre patient ids are replaced by HMAC "
                "pseudonyms at extract time and the key must come from the environment "
                "(keep it outside the repository; the same key every night keeps "
                "pseudonyms stable). For a demo only: "
                f"export PRRT_PSEUDONYM_KEY={DEMO_PSEUDONYM_KEY}"
            )
        return self.pseudonym_key.encode("utf-8")

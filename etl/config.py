"""Where everything lives, from environment variables with defaults under ``./data``.

Operators' scripts depend on these names; keep them stable:

- ``PRRT_HOME`` (default ``./data``): ``inbox/``, ``build/warehouse.duckdb``,
  ``releases/<run_id>/`` and the ``current`` link.
- ``PRRT_PSEUDONYM_KEY``: the HMAC key for patient pseudonyms (required to extract).
- ``PRRT_SITES_DIR``: an extra folder of centre mappings (``<code>.yml``), read after the
  packaged ``etl/sites/``; a file there replaces a packaged mapping of the same centre.
- ``PRRT_KEEP_RELEASES`` (default 5): how many releases publishing keeps on disk.
- ``PRRT_SETTLE_SECONDS`` (default 0, off): an inbox entry changed less than this many
  seconds ago may still be arriving; it is left for the next run (``etl.inbox``).
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
    settle_seconds: int = 0

    @classmethod
    def from_env(cls) -> "Settings":
        sites_dir = os.environ.get("PRRT_SITES_DIR")
        return cls(
            home=Path(os.environ.get("PRRT_HOME", "data")).resolve(),
            pseudonym_key=os.environ.get("PRRT_PSEUDONYM_KEY") or None,
            sites_dir=Path(sites_dir).resolve() if sites_dir else None,
            keep_releases=_whole_number("PRRT_KEEP_RELEASES", "5", least=1),
            dbt_project_dir=REPO_DIR / "dbt_project",
            settle_seconds=_whole_number("PRRT_SETTLE_SECONDS", "0", least=0),
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


def _whole_number(variable: str, default: str, least: int) -> int:
    value = os.environ.get(variable, default)
    if not value.isdigit() or int(value) < least:
        raise ConfigurationError(
            f"{variable} must be a whole number of at least {least}, got {value!r}")
    return int(value)

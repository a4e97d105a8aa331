"""Shared fixtures: an isolated PRRT_HOME per test and the sample deliveries."""

import shutil
from pathlib import Path

import pytest

from etl.config import Settings

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ROT_SAMPLE = FIXTURES / "ROT_20240601"
TEST_KEY = "test-key"
# The centre patient ids in the ROT sample: none may ever reach the warehouse.
ROT_SAMPLE_PATIENT_IDS = ["9988620", "6203273", "1102296", "1654551", "4090310", "8909479"]


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("PRRT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PRRT_PSEUDONYM_KEY", TEST_KEY)
    monkeypatch.delenv("PRRT_SITES_DIR", raising=False)
    return Settings.from_env()


@pytest.fixture
def rot_inbox(settings: Settings) -> Path:
    """The inbox holding a copy of the ROT sample delivery."""
    settings.inbox.mkdir(parents=True)
    shutil.copytree(ROT_SAMPLE, settings.inbox / ROT_SAMPLE.name)
    return settings.inbox

"""The data dictionary page is made again only when the project changed since it was made
(``etl.transform.generate_docs``); dbt itself is replaced by a stand-in that writes a
numbered page."""

import subprocess

import pytest

from etl import transform
from etl.errors import PrrtError


@pytest.fixture
def dbt_docs(settings, monkeypatch):
    """The dbt command lines run; each run writes "page <n>" (or fails, when asked)."""
    page = settings.build_dir / "dbt_target" / "static_index.html"
    runs: list[list[str]] = []
    failing = []

    def run(command, **_):
        runs.append(command)
        if failing:
            return subprocess.CompletedProcess(command, 2, stdout="dbt broke", stderr="")
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(f"page {len(runs)}")
        return subprocess.CompletedProcess(command, 0, stdout="", stderr="")

    monkeypatch.setattr(transform.subprocess, "run", run)
    return page, runs, failing


def test_the_page_is_made_again_only_when_the_project_digest_changes(settings, dbt_docs,
                                                                     monkeypatch):
    page, runs, _ = dbt_docs
    digest = {"now": "d1"}
    monkeypatch.setattr(transform, "project_digest", lambda _: digest["now"])

    assert transform.generate_docs(settings) == page and page.read_text() == "page 1"
    assert runs[0][1:4] == ["docs", "generate", "--static"]
    assert '{"project_digest": "d1"}' in runs[0]
    assert transform.generate_docs(settings) == page and len(runs) == 1  # reused
    digest["now"] = "d2"
    assert transform.generate_docs(settings) == page and page.read_text() == "page 2"
    page.unlink()  # a page gone missing is made again under the same digest
    assert transform.generate_docs(settings) == page and page.read_text() == "page 3"


def test_a_failed_run_leaves_no_page_to_reuse(settings, dbt_docs, monkeypatch):
    page, runs, failing = dbt_docs
    monkeypatch.setattr(transform, "project_digest", lambda _: "d1")
    transform.generate_docs(settings)
    monkeypatch.setattr(transform, "project_digest", lambda _: "d2")
    failing.append(True)
    with pytest.raises(PrrtError, match=r"dbt docs generate failed \(exit 2\): dbt broke"):
        transform.generate_docs(settings)
    failing.clear()
    monkeypatch.setattr(transform, "project_digest", lambda _: "d1")
    assert transform.generate_docs(settings) == page and len(runs) == 3  # not page 1 again

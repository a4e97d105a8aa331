"""Run ``dbt build`` (seeds, models, data and unit tests) on the writer's file.

dbt runs in a child process: dbt-duckdb keeps its DuckDB connection open for the life
of the process, and DuckDB refuses a second in-process connection to the same file with
another configuration, so an in-process run would lock the pipeline out of its own file.
The outcome is read from ``run_results.json``; dbt's log lines are passed to stderr as
progress. Artefacts and logs go under ``$PRRT_HOME/build/`` to keep the repository clean.

Marts rebuilt per patient (``dbt_project/macros/changed_patients.sql``) are derived again
only for the patients whose records changed; that is exact only while the code, seeds and
vars are those they were built under. So each build passes the project's digest to dbt,
which stores it with those marts, and a build whose digest differs from the stored one
(or that finds none) rebuilds everything (``--full-refresh``).
"""

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import version
from pathlib import Path

import duckdb
import yaml

from etl.config import REPO_DIR, Settings
from etl.crashpoints import maybe_crash
from etl.errors import PrrtError

FAILED = ("error", "fail", "runtime error")


@dataclass(frozen=True)
class BuildFailure:
    node: str
    status: str
    message: str


@dataclass(frozen=True)
class TestOutcome:
    """One dbt data or unit test: its node, status (pass, warn, fail, error), the number
    of offending rows and, when stored, the relation that holds them."""

    node: str
    status: str
    failures: int | None
    message: str
    relation: str | None


@dataclass(frozen=True)
class BuildResult:
    succeeded: bool
    nodes: int
    failures: list[BuildFailure]
    tests: list[TestOutcome] = field(default_factory=list)


@cache
def dbt_var(name: str) -> object:
    """A var of ``dbt_project.yml`` (the clinical conventions live there) for Python code
    outside dbt that must agree with the models, e.g. the report's months."""
    project = yaml.safe_load((REPO_DIR / "dbt_project" / "dbt_project.yml").read_text(
        encoding="utf-8"))
    return project["vars"][name]


def dbt_executable() -> str:
    """The ``dbt`` installed beside this Python (the project's virtualenv)."""
    return str(Path(sys.executable).parent / "dbt")


def _dbt_command(settings: Settings, arguments: list[str], digest: str
                 ) -> tuple[list[str], dict]:
    """The dbt command line and environment for the project, profile and build paths;
    ``digest`` (``project_digest``) goes to dbt as the var ``project_digest``."""
    project = str(settings.dbt_project_dir)
    environment = {
        **os.environ,
        "PRRT_WAREHOUSE_PATH": str(settings.warehouse_path),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }
    command = [
        dbt_executable(), *arguments,
        # every invocation with the same vars: dbt parses the project again whenever they
        # differ from the last invocation's (~4 s at each build and docs run)
        "--vars", json.dumps({"project_digest": digest}),
        "--project-dir", project, "--profiles-dir", project,
        "--target-path", str(_dbt_target(settings)),
        "--log-path", str(settings.build_dir / "dbt_logs"), "--no-use-colors",
    ]
    return command, environment


def run_dbt(settings: Settings, arguments: list[str], digest: str) -> BuildResult:
    """Invoke dbt with the project, profile and build paths of this installation."""
    results_file = _dbt_target(settings) / "run_results.json"
    results_file.unlink(missing_ok=True)
    command, environment = _dbt_command(settings, arguments, digest)
    with subprocess.Popen(command, env=environment, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True) as process:
        for line in process.stdout:
            if " START " not in line and line.strip():
                print(f"  dbt: {line.rstrip()}", file=sys.stderr, flush=True)
            if " OK created " in line:
                maybe_crash("dbt", child=process)
    if not results_file.exists():
        return BuildResult(False, 0, [BuildFailure(
            "dbt", "error", f"dbt exited with {process.returncode} before running any node "
            f"(see the lines above and {settings.build_dir / 'dbt_logs'})")])
    results = json.loads(results_file.read_text())["results"]
    failures = [
        BuildFailure(r["unique_id"], r["status"], (r.get("message") or "").strip())
        for r in results if r["status"] in FAILED
    ]
    tests = [
        TestOutcome(r["unique_id"], r["status"], r.get("failures"),
                    (r.get("message") or "").strip(), r.get("relation_name"))
        for r in results if r["unique_id"].startswith(("test.", "unit_test."))
    ]
    return BuildResult(process.returncode == 0 and not failures, len(results), failures, tests)


# What the derived tables are made by: the dbt project, the raw schema's migrations and
# the tools that run them.
PROJECT_PARTS = ("dbt_project.yml", "macros", "models", "seeds")
TOOLS = ("dbt-core", "dbt-duckdb", "duckdb")
BUILT_UNDER = "SELECT DISTINCT project_digest FROM build_state.incremental_build"


def project_digest(settings: Settings) -> str:
    """SHA-256 of every file the marts are derived by (models, macros, seeds, vars, the
    raw schema's migrations) and of the tools' versions."""
    digest = hashlib.sha256()
    parts = [settings.dbt_project_dir / part for part in PROJECT_PARTS]
    parts.append(REPO_DIR / "migrations" / "versions")
    for part in parts:
        files = [part] if part.is_file() else sorted(
            path for path in part.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts)
        for path in files:
            digest.update(f"{path.relative_to(part.parent)}\0".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    for tool in TOOLS:
        digest.update(f"{tool}=={version(tool)}\0".encode())
    return digest.hexdigest()


def rebuilt_whole_because(settings: Settings, digest: str) -> str | None:
    """Why the marts kept between nights must be built whole tonight, or None when the
    patients whose records changed are enough."""
    if not settings.warehouse_path.exists():
        return "a new warehouse"
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        try:
            built_under = {d for (d,) in connection.execute(BUILT_UNDER).fetchall()}
        except duckdb.CatalogException:
            return "no marts were built per patient before"
    if not built_under:
        return "no marts were built per patient before"
    if built_under != {digest}:
        return "the dbt project, migrations or tools changed since the last build"
    return None


def build(settings: Settings) -> BuildResult:
    """``dbt build``: seeds, staging, intermediate and marts, each followed by its tests;
    marts rebuilt per patient only for the changed patients when that is exact. The
    digest is computed once: the one judged here is the one the kept marts store.

    dbt's unit tests check the models' SQL against fixed rows, not the data: they run
    when the project's digest differs from the one under which they last all passed."""
    arguments = ["build"]
    digest = project_digest(settings)
    reason = rebuilt_whole_because(settings, digest)
    if reason is None:
        print("  marts kept between nights: derived again for the patients whose records "
              "changed", file=sys.stderr, flush=True)
    else:
        print(f"  every mart built whole ({reason})", file=sys.stderr, flush=True)
        arguments.append("--full-refresh")
    passed_under = _dbt_target(settings) / "unit_tests.digest"
    if _made_under(passed_under, digest):
        print("  unit tests not run: they all passed under this project digest "
              f"({passed_under})", file=sys.stderr, flush=True)
        return run_dbt(settings, [*arguments, "--exclude-resource-type", "unit_test"], digest)
    result = run_dbt(settings, arguments, digest)
    unit_tests = [t for t in result.tests if t.node.startswith("unit_test.")]
    if unit_tests and all(t.status == "pass" for t in unit_tests):
        passed_under.write_text(digest)
    return result


def _dbt_target(settings: Settings) -> Path:
    """dbt's target folder (artefacts, run results, the docs page) under the build dir."""
    return settings.build_dir / "dbt_target"


def _made_under(marker: Path, digest: str) -> bool:
    """Whether ``marker`` holds ``digest`` (what it records was made under this project);
    when it does not, it is removed, so a run that stops half way leaves no stale one."""
    if marker.exists() and marker.read_text() == digest:
        return True
    marker.unlink(missing_ok=True)
    return False


def generate_docs(settings: Settings) -> Path:
    """The data dictionary: ``dbt docs generate --static`` writes one self-contained HTML
    page (models, columns with their descriptions, lineage, tests) from the built file.

    The page describes the project, not the data (dbt-duckdb's catalog has no row counts
    or other statistics): it is made again only when the project's digest differs from
    the one it was made under, so a night whose code did not change reuses the last page
    (3–4 s at 25,000 patients per centre). What it then shows from the night before:
    its generation time and the SQL last compiled for each model (a kept mart's per
    patient filter or its whole build)."""
    digest = project_digest(settings)
    page = _dbt_target(settings) / "static_index.html"
    made_under = page.with_suffix(".digest")
    if page.exists() and _made_under(made_under, digest):
        return page
    made_under.unlink(missing_ok=True)  # the page is gone: made again, marker and all
    command, environment = _dbt_command(  # the build just compiled everything
        settings, ["docs", "generate", "--static", "--no-compile"], digest)
    completed = subprocess.run(command, env=environment, capture_output=True, text=True)
    if completed.returncode != 0 or not page.exists():
        raise PrrtError(f"dbt docs generate failed (exit {completed.returncode}): "
                        f"{completed.stdout[-2000:]}")
    made_under.write_text(digest)
    return page

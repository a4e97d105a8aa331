"""``prrt``: the command line of the PRRT outcomes warehouse.

One sub-command per stage. Progress goes to stderr; exit codes: 0 success, 1 a delivery
was rejected or a gate/test failed, 2 bad usage or configuration.
"""

import http.server
import inspect
import json
import os
import shutil
from datetime import date, timedelta
from functools import partial, wraps
from pathlib import Path
from typing import Annotated

import duckdb
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from etl import db, pipeline, transform
from etl import publish as publishing
from etl.config import DEMO_PSEUDONYM_KEY, WAREHOUSE_FILE, Settings
from etl.errors import ConfigurationError, PrrtError
from etl.mapping import load_all_mappings
from etl.report import write_report
from etl.synth.nights import NIGHT_INTERVAL

HELP = """PRRT outcomes warehouse: load centre deliveries, build the marts, publish releases.

\b
Environment:
  PRRT_HOME            where data lives (default ./data): inbox/, build/,
                       releases/, current
  PRRT_PSEUDONYM_KEY   HMAC key for patient pseudonyms (required to load)
  PRRT_SITES_DIR       extra folder of centre mappings (<code>.yml)
  PRRT_KEEP_RELEASES   releases kept on disk (default 5)
  PRRT_SETTLE_SECONDS  leave inbox entries changed less than this many
                       seconds ago for the next run (default 0: off)

\b
A night by hand:  prrt db upgrade; prrt load; prrt build; prrt publish
All of it:        prrt nightly
Analysts read:    $PRRT_HOME/current/warehouse.duckdb (read-only): schema
                  analytics (stable views), marts, codes; beside it parquet/,
                  docs/ (prrt docs), report.html (prrt report), quality.json
                  and data_docs/
"""

app = typer.Typer(help=HELP, no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Create, migrate and check the warehouse schema (Alembic).",
                     no_args_is_help=True)
app.add_typer(db_app, name="db")
UNLIMITED_WIDTH = 10_000


def _console(**options) -> Console:
    """What is printed is data (messages naming cells, sheets ``Export.xlsx[labor]``,
    regular expressions ``[a-z]+``), never markup, which dropped such brackets or failed
    on ``[/...]``. Where no terminal is (a log, a pipe), nothing is broken or cut at 80
    columns: a table's cells (run ids, paths) were cut short with an ellipsis."""
    console = Console(markup=False, soft_wrap=True, **options)
    if not console.is_terminal:
        console.width = UNLIMITED_WIDTH
    return console


err = _console(stderr=True)
out = _console()


def reflowed(help_text: str) -> str:
    """Help text with each paragraph on one line, so that the terminal wraps it at its own
    width and not also at the docstring's line breaks; a paragraph that starts with
    ``\\b`` (a table) keeps its lines."""
    paragraphs = inspect.cleandoc(help_text).split("\n\n")
    return "\n\n".join(paragraph if paragraph.startswith("\b") else
                       " ".join(line.strip() for line in paragraph.splitlines())
                       for paragraph in paragraphs)


def _exits(command):
    """Turn the pipeline's errors into a message on stderr and the documented exit code."""

    @wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except PrrtError as error:
            err.print(Text.assemble(("error:", "bold red"), f" {error}"), highlight=False)
            raise typer.Exit(error.exit_code) from None

    return wrapper


@db_app.command("upgrade")
@_exits
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head"):
    """Create or migrate build/warehouse.duckdb to REVISION (default: the newest)."""
    settings = Settings.from_env()
    with db.writer_lock(settings), db.connect(settings) as connection:
        db.upgrade(connection, revision)
        err.print(f"schema at revision {db.current_revision(connection)}: "
                  f"{settings.warehouse_path}")


@db_app.command("downgrade")
@_exits
def db_downgrade(revision: Annotated[str, typer.Argument(help="'base' removes everything.")]):
    """Migrate down to REVISION ('base' drops the meta and raw tables: data is lost)."""
    settings = Settings.from_env()
    with db.writer_lock(settings), db.connect(settings) as connection:
        db.downgrade(connection, revision)
        err.print(f"schema at revision {db.current_revision(connection)}")


@db_app.command("current")
@_exits
def db_current():
    """Print the schema revision of build/warehouse.duckdb."""
    settings = Settings.from_env()
    with db.writer_lock(settings), db.connect(settings) as connection:
        out.print(db.current_revision(connection) or "(empty: run prrt db upgrade)")


@db_app.command("check")
@_exits
def db_check():
    """Compare the SQLAlchemy models with the migrated schema; exit 1 on any drift."""
    settings = Settings.from_env()
    with db.writer_lock(settings), db.connect(settings) as connection:
        db.upgrade(connection)
        drift = db.schema_drift(connection)
    for line in drift:
        err.print(f"drift: {line}")
    if drift:
        raise typer.Exit(1)
    err.print("models and migrations agree")


@app.command()
@_exits
def sites():
    """Validate every centre mapping (packaged and PRRT_SITES_DIR) and list them."""
    mappings = load_all_mappings(Settings.from_env())
    table = Table("centre", "name", "format", "delivery pattern", "mapping file")
    for code, loaded in sorted(mappings.items()):
        m = loaded.mapping
        table.add_row(code, m.name, m.format, m.delivery.pattern, str(loaded.path))
    out.print(table)


InboxOption = Annotated[Path | None, typer.Option(
    "--inbox", help="Folder of deliveries (default $PRRT_HOME/inbox).")]


@app.command()
@_exits
def load(inbox: InboxOption = None):
    """Load every new delivery of the inbox into the raw tables (no build, no publish).

    Per file it prints rows read, loaded and quarantined by reason. A centre's
    deliveries load in export-date order. A delivery already loaded (same content) is
    skipped; one with a structural fault, whose name gives no export date, or exported
    before the centre's newest loaded delivery (it would roll that one back), is
    rejected whole and the others still load (exit 1).
    """
    settings = Settings.from_env()
    with db.writer_lock(settings), db.connect(settings) as connection:
        db.upgrade(connection)
        run_id = pipeline.start_run(connection, "load")
        reports = pipeline.load_deliveries(connection, settings, run_id,
                                           inbox or settings.inbox, load_all_mappings(settings))
        rejected = [r for r in reports if r.status == "rejected"]
        pipeline.finish_run(connection, run_id, not rejected,
                            f"{len(reports) - len(rejected)} loaded or skipped, "
                            f"{len(rejected)} rejected")
    if rejected:
        raise typer.Exit(1)


@app.command()
@_exits
def build():
    """Run dbt build (seeds, models, data and unit tests) on the warehouse; exit 1 on failure.

    The QLQ-C30 and tumour-response marts are kept between builds and derived again only
    for the patients whose raw records changed; everything is built whole when the dbt
    project, the migrations or the tools changed since (the digest is stored in schema
    build_state; delete its rows to force a whole build). The unit tests, which check
    the SQL and not the data, run when that digest differs from the one they last all
    passed under (build/dbt_target/unit_tests.digest; delete it to run them)."""
    settings = Settings.from_env()
    with db.writer_lock(settings):
        result = pipeline.run_build(settings)
    if not result.succeeded:
        raise typer.Exit(1)


@app.command()
@_exits
def publish(rollback: Annotated[bool, typer.Option(
        "--rollback", help="Point current back at the previous release instead.")] = False):
    """Publish the built marts as a new release and switch `current` to it atomically."""
    settings = Settings.from_env()
    with db.writer_lock(settings):
        if rollback:
            with db.connect(settings) as connection:
                target = publishing.rollback(connection, settings)
            err.print(f"current -> {target}")
            return
        docs = transform.generate_docs(settings)  # dbt needs the file to itself
        with db.connect(settings) as connection:
            run_id = pipeline.start_run(connection, "publish")
            release = publishing.publish(connection, settings, run_id, partial(
                pipeline.attach_release_files, gate_one=None, docs=docs,
                summary=pipeline.quality_summary(connection, run_id)))
            pipeline.finish_run(connection, run_id, True, f"published {release}")
    err.print(f"published {release / WAREHOUSE_FILE}")


def _release_dir(settings: Settings, release: Path | None) -> Path:
    folder = (release or settings.current_link).resolve()
    if not (folder / WAREHOUSE_FILE).exists():
        raise ConfigurationError(
            f"No release at {folder} (expected {WAREHOUSE_FILE} there); run `prrt nightly` "
            "or `prrt demo` first, or pass --release <releases/RUN_ID>")
    return folder


ReleaseOption = Annotated[Path | None, typer.Option(
    help="A release folder ($PRRT_HOME/releases/<run_id>); default: the current one.")]


@app.command()
@_exits
def report(release: ReleaseOption = None):
    """Write the outcomes report (report.html) of a release and print its path.

    One static page, viewable offline: Kaplan-Meier curves of TTP, PFS and OS by phase with
    numbers at risk and medians, a waterfall of best change in tumour size, a swimmer plot,
    QLQ-C30 change among patients impaired at baseline, best-response tables per criterion
    and the night's data quality. Every night writes it beside its release already.
    """
    settings = Settings.from_env()
    out.print(str(write_report(_release_dir(settings, release))))


@app.command()
@_exits
def docs(
    release: ReleaseOption = None,
    out_dir: Annotated[Path | None, typer.Option(
        "--out", help="Copy the data dictionary (docs/index.html) into this folder.")] = None,
    serve: Annotated[bool, typer.Option(help="Serve it on http://localhost:PORT.")] = False,
    port: Annotated[int, typer.Option(help="Port for --serve.")] = 8080,
):
    """The data dictionary of a release: dbt's docs of every table, view and column
    (descriptions, lineage, tests). Prints its path; --out copies it, --serve serves it."""
    settings = Settings.from_env()
    folder = _release_dir(settings, release) / publishing.DOCS_DIR
    if not (folder / "index.html").exists():
        raise ConfigurationError(f"{folder} has no index.html: the release was published "
                                 "without its data dictionary; run `prrt publish` again")
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        folder = Path(shutil.copy2(folder / "index.html", out_dir / "index.html")).parent
    out.print(str(folder / "index.html"))
    if serve:
        handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
        with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
            err.print(f"serving http://localhost:{port}/ (Ctrl-C stops)")
            server.serve_forever()


@app.command()
@_exits
def nightly(inbox: InboxOption = None):
    """Process the inbox: load new deliveries, dbt build and test, publish if all passed.

    Exit 0 when everything passed; 1 when a delivery was rejected or a dbt test failed
    (the other centres still load; a failed build publishes nothing, so the last good
    release stays current); 2 on a configuration error.
    """
    result = pipeline.nightly(Settings.from_env(), inbox)
    if not result.succeeded:
        raise typer.Exit(1)


@app.command()
@_exits
def status(as_json: Annotated[bool, typer.Option("--json", help="Machine-readable.")] = False):
    """Show the last runs, each centre's last deliveries, the quality checks that failed
    (gate 1 per delivery, gate 2 before publishing) and the current release."""
    settings = Settings.from_env()
    if not settings.warehouse_path.exists():
        raise PrrtError(f"No warehouse at {settings.warehouse_path}: run prrt nightly first")
    try:
        connection = duckdb.connect(str(settings.warehouse_path), read_only=True)
    except duckdb.IOException:
        raise PrrtError("The warehouse is being written (a nightly run is in progress); "
                        "try again when it has finished") from None
    with connection:
        runs = connection.sql("SELECT run_id, command, status, started_at, finished_at, "
                              "message FROM meta.load_run ORDER BY started_at DESC LIMIT 10")
        deliveries = connection.sql(
            "SELECT site_code, delivery_name, status, rows_read, rows_loaded, rows_skipped, "
            "rows_quarantined, processed_at, message FROM meta.delivery QUALIFY row_number() "
            "OVER (PARTITION BY site_code ORDER BY processed_at DESC) <= 3 ORDER BY site_code, "
            "processed_at DESC")
        failed_checks = connection.sql(
            "SELECT g.gate, coalesce(d.site_code, '') AS site_code, g.severity, g.target, "
            "g.check_name, g.failures, g.message FROM meta.gate_result g "
            "LEFT JOIN meta.delivery d USING (delivery_id) "
            "WHERE NOT g.passed AND g.run_id IN (SELECT run_id FROM meta.load_run "
            "ORDER BY started_at DESC LIMIT 3) ORDER BY g.gate_result_id DESC LIMIT 20")
        report = {"current_release": publishing.current_release(settings),
                  "runs": _records(runs), "deliveries": _records(deliveries),
                  "failed_checks": _records(failed_checks)}
    if as_json:
        print(json.dumps(report, default=str, indent=2))
        return
    out.print(f"current release: {report['current_release'] or '(none published)'}")
    _print_table("last runs", report["runs"])
    _print_table("last deliveries per centre", report["deliveries"])
    _print_table("quality checks that failed in the last 3 runs (critical ones reject or "
                 "block; warnings are reported)", report["failed_checks"])


def _records(relation) -> list[dict]:
    return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]


def _print_table(title: str, rows: list[dict]) -> None:
    if not rows:
        out.print(f"{title}: none")
        return
    table = Table(*rows[0].keys(), title=title)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row.values()))
    out.print(table)


@app.command()
@_exits
def synth(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write deliveries into.")],
    patients: Annotated[int, typer.Option(
        help="Patients per centre on the first night (later nights add one in twenty who "
             "start PRRT after it).", min=1)] = 50,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 1,
    centre: Annotated[list[str] | None, typer.Option(
        "--centre", help="Centre code; repeat for several (default: every centre with a "
                         "synthetic writer: BBK, IOW, ROT, TRL).")] = None,
    export_date: Annotated[str, typer.Option(
        help="Export date of night 1, YYYY-MM-DD (default today).")] = "",
    night: Annotated[list[int] | None, typer.Option(
        help="Which night to write: 1 (the default) is the export on --export-date; night "
             "n is --interval-days per night later, same cohort, with more follow-up, ~1 % "
             "of lab values and activities corrected and ~1 % of patients withdrawn. Repeat "
             "for several nights: the cohort is drawn once, and night n goes into "
             "<--out>/night<n>.")] = None,
    interval_days: Annotated[int, typer.Option(
        help=f"Days between nights: {NIGHT_INTERVAL.days} shows follow-up growing (the "
             "demo); 1 is what a nightly schedule sees.", min=1)] = NIGHT_INTERVAL.days,
    faults: Annotated[bool, typer.Option(
        "--faults", help="Plant one row per fault kind the loader must quarantine (unknown "
                         "code, out-of-range activity and QLQ item, future date, unknown "
                         "unit, unparseable date, death before a cycle).")] = False,
):
    """Write synthetic deliveries in the centres' own formats (no real patient data).

    Example: prrt synth --out data/inbox --patients 200 --export-date 2024-06-01, then the
    same with --night 2 for the next delivery of the same cohort.
    """
    from etl.synth import WRITERS, write_nights

    nights = sorted(set(night or [1]))
    if nights[0] < 1:
        raise ConfigurationError(f"--night must be 1 or later, got {nights[0]}")
    when = export_date or date.today().isoformat()
    outs = ({nights[0]: out_dir} if len(nights) == 1
            else {n: out_dir / f"night{n}" for n in nights})
    written = write_nights(outs, patients, seed, centre or sorted(WRITERS), when,
                           faults=faults, interval=timedelta(days=interval_days))
    for delivery in written:
        err.print(f"wrote {delivery.path}")
        for fault in delivery.faults:
            err.print(f"  planted: {fault.table}: {fault.reason_code} ({fault.what})")


DEMO_QUERY = """SELECT phase, count(*) AS episodes, sum(cycles_given) AS cycles,
       round(avg(cumulative_activity_gbq), 2) AS mean_cumulative_gbq
FROM marts.fct_treatment_episode GROUP BY phase ORDER BY phase"""


@app.command()
@_exits
def bench(
    sizes: Annotated[str, typer.Option(
        help="Patients per centre, comma-separated; each size is a separate registry.")
    ] = "2500,10000,25000",
    work: Annotated[Path, typer.Option(help="Scratch folder (emptied per size).")] = Path(
        "bench/work"),
    results: Annotated[Path, typer.Option(
        "--out", help="Where <date>.json and <date>.md go.")] = Path("bench/results"),
    seed: Annotated[int, typer.Option(help="Seed of the synthetic registry.")] = 1,
    naive_rows: Annotated[int, typer.Option(
        help="Rows per file the naive baseline processes (then scaled per row).")] = 5000,
):
    """Measure the pipeline at registry scale: two nights, the floor, a naive extract.

    Per size: synthetic deliveries of every centre (the Excel centre capped so its largest
    sheet fits Excel's row limit), night 1 and night 2 as whole `prrt nightly` processes
    (wall, CPU, peak memory, and each stage), the same files read into DuckDB tables with
    no mapping (the floor: DuckDB's CSV reader, calamine for Excel, the loader's own
    reader for SAS transport files), and a hand-written pandas/SQLAlchemy extract on a
    subset, scaled per row. Writes bench/results/<date>.json and .md (after each size).
    Never part of `make test`.

    Cost on 2 cores: the default sizes took 18 minutes in the two latest rounds
    (bench/results/2026-12-07-11066b3.md), 25 to 38 in the 22 rounds before them from
    2026-12-04, 12 GB at peak; --sizes 2500 alone takes 2 to 4 minutes and 2.7 GB.
    """
    from etl.bench.runner import run

    chosen = [int(size) for size in sizes.split(",") if size.strip()]
    target = run(chosen, work, results, seed, naive_rows, err.print)
    table = target.with_suffix(".md")
    err.print(f"results: {target} and {table}")
    print(table.read_text(encoding="utf-8"))


@app.command()
@_exits
def demo(patients: Annotated[int, typer.Option(help="Synthetic patients per centre.")] = 200):
    """Generate a synthetic delivery, run one night, publish and query the release.

    Uses the labelled demo pseudonym key unless PRRT_PSEUDONYM_KEY is set.
    """
    from etl.synth import WRITERS, write_deliveries

    if not os.environ.get("PRRT_PSEUDONYM_KEY"):
        os.environ["PRRT_PSEUDONYM_KEY"] = DEMO_PSEUDONYM_KEY
        err.print(f"demo pseudonym key in use ({DEMO_PSEUDONYM_KEY}): never use it for "
                  "real data", style="yellow")
    settings = Settings.from_env()
    write_deliveries(settings.inbox, patients, 2026, sorted(WRITERS), date.today().isoformat())
    result = pipeline.nightly(settings)
    if not result.succeeded:
        raise typer.Exit(1)
    published = settings.current_link / WAREHOUSE_FILE
    with duckdb.connect(str(published), read_only=True) as reader:
        relation = reader.sql(DEMO_QUERY)
        rows = _records(relation)
    out.print(f"\nPublished release: {published}  (-> {publishing.current_release(settings)})")
    out.print(f"Example query (read-only):\n{DEMO_QUERY}\n")
    _print_table("episodes by phase", rows)


def _reflow_help(*apps: typer.Typer) -> None:
    """Every registered command's help (its docstring unless given) as ``reflowed``."""
    for each in apps:
        for command in each.registered_commands:
            command.help = reflowed(command.help or command.callback.__doc__ or "")


_reflow_help(app, db_app)  # last: once every command is registered

"""``prrt bench``: generate a registry per size, run two nights, the floor and the naive
baseline as measured processes, and write ``<date>.json`` and ``<date>.md``.

Per size N (patients per centre; the Excel centre is capped so its largest sheet stays
under Excel's row limit, and the results say so):
1. night 1 end to end (``prrt nightly``), with its stages from ``PRRT_STAGE_TIMINGS``;
2. night 2 on the same cohort, the next day (one day more follow-up, ~1 % corrections,
   ~1 % of patients withdrawn);
3. the floor (``etl.bench.floor``) on night 1's files;
4. the naive extract (``etl.bench.naive``) on the first rows of night 1's delimited files,
   scaled per row to the whole delivery.
"""

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb

from etl.bench.measure import Measurement, run_concurrently, run_measured
from etl.stages import TIMINGS_VARIABLE
from etl.synth import WRITERS
from etl.synth.nights import night_truth

EXCEL_ROW_LIMIT = 1_048_576 - 1  # one header row
EXCEL_CENTRES = ("BBK",)
EXPORT_DATE = "2026-06-01"
NIGHT_INTERVAL_DAYS = 1  # night 2 is the next night of a nightly schedule
# What generating both nights costs per 1,000 patients of a centre, in seconds on one core
# (measured at 10,000): the longest jobs start first so that the cores finish together. A
# centre not listed is taken to be as slow as the slowest.
SYNTH_SECONDS_PER_1000 = {"TRL": 4.9, "IOW": 4.4, "BBK": 3.8, "ROT": 3.2}
WAITS = {"extract_wait"}  # time spent waiting for another stage: no rows per second
STAGES = ["extract", "extract_wait", "gate_one", "raw_write", "dbt_build", "docs", "gate_two",
          "publish"]


def excel_cap(patients: int, seed: int) -> int:
    """Patients the Excel centre can deliver: its largest sheet, per patient as drawn for
    200 patients with a 20 % margin, must fit under the row limit."""
    tables, _, _ = night_truth("BBK", 200, seed, EXPORT_DATE, 1, False)
    view = WRITERS["BBK"].centre_view(tables)
    per_patient = max(len(frame) for frame in view.values()) / 200
    return min(patients, int(EXCEL_ROW_LIMIT / (per_patient * 1.2)))


def machine() -> dict:
    memory_kb = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text()
                      .splitlines() if line.startswith("MemTotal")), 0)
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo")
                  .read_text().splitlines() if line.startswith("model name")), "unknown")
    return {"cpu": model, "cores": os.cpu_count(), "memory_gb": round(memory_kb / 2**20, 1),
            "python": platform.python_version(), "duckdb": duckdb.__version__,
            "system": platform.platform()}


def code_version() -> str | None:
    """The commit the benchmark ran (with ``+changes`` if the tree had uncommitted edits),
    so a result can be traced to its code; None outside a git checkout."""
    repository = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repository,
                                capture_output=True, text=True, check=True).stdout.strip()
        edited = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                                cwd=repository, capture_output=True, text=True,
                                check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{commit}+changes" if edited else commit


class Bench:
    """One benchmark run in ``work`` (deleted and rebuilt per size)."""

    def __init__(self, work: Path, seed: int, naive_rows: int,
                 say: Callable[[str], None]) -> None:
        self.work, self.seed, self.naive_rows, self.say = work, seed, naive_rows, say
        self.prrt = str(Path(sys.executable).parent / "prrt")

    def _env(self, home: Path, **extra: str) -> dict[str, str]:
        return {**os.environ, "PRRT_HOME": str(home), "PRRT_PSEUDONYM_KEY": "bench-key",
                **extra}

    def _synth(self, home: Path, patients: int, excel: int) -> float:
        """Both nights' deliveries into ``work/night1`` and ``work/night2``: one process
        per centre, which draws its cohort once for both nights, as many at once as there
        are cores, the longest jobs first (generating is preparation, not measured
        work); its wall time."""
        jobs = []
        size = {centre: excel if centre in EXCEL_CENTRES else patients for centre in WRITERS}
        slowest = max(SYNTH_SECONDS_PER_1000.values())
        for centre in sorted(WRITERS, key=lambda c: -size[c] * SYNTH_SECONDS_PER_1000.get(
                c, slowest)):
            n = size[centre]
            jobs.append(([self.prrt, "synth", "--out", str(self.work), "--patients", str(n),
                          "--seed", str(self.seed), "--export-date", EXPORT_DATE,
                          "--night", "1", "--night", "2", "--interval-days",
                          str(NIGHT_INTERVAL_DAYS), "--centre", centre],
                         self.work / f"synth_{centre}.log"))
        started = time.perf_counter()
        done = run_concurrently(jobs, self._env(home), os.cpu_count() or 1)
        for (_, log), measured in zip(jobs, done, strict=True):
            if measured.returncode:
                raise RuntimeError(f"prrt synth failed: see {log}")
        return round(time.perf_counter() - started, 1)

    def _night(self, home: Path, inbox: Path, night: int) -> dict:
        timings = self.work / f"stages{night}.json"
        measured = run_measured([self.prrt, "nightly", "--inbox", str(inbox)],
                                self._env(home, **{TIMINGS_VARIABLE: str(timings)}),
                                self.work / f"night{night}.log")
        if measured.returncode:
            raise RuntimeError(f"night {night} failed: see {self.work}/night{night}.log")
        quality = json.loads((home / "current" / "quality.json").read_text())
        rows = sum(d["rows_read"] for d in quality["deliveries"])
        return {"process": measured.as_dict(), "rows_read": rows,
                "stages": json.loads(timings.read_text())}

    def _module(self, module: str, *arguments: str, log: str) -> tuple[Measurement, int]:
        measured = run_measured([sys.executable, "-m", module, *arguments], dict(os.environ),
                                self.work / log)
        if measured.returncode:
            raise RuntimeError(f"{module} failed: see {self.work / log}")
        rows = int((self.work / log).read_text().strip().splitlines()[-1])
        return measured, rows

    def size(self, patients: int) -> dict:
        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir(parents=True)
        home, first, second = self.work / "home", self.work / "night1", self.work / "night2"
        excel = excel_cap(patients, self.seed)
        self.say(f"N = {patients} per centre ({', '.join(EXCEL_CENTRES)}: {excel}) ...")
        synth_s = self._synth(home, patients, excel)
        self.say(f"  deliveries generated in {synth_s} s")
        night1 = self._night(home, first, 1)
        self.say(f"  night 1: {night1['process']['wall_s']} s")
        night2 = self._night(home, second, 2)
        self.say(f"  night 2: {night2['process']['wall_s']} s")
        floor, floor_rows = self._module("etl.bench.floor", str(first),
                                         str(self.work / "floor.duckdb"), log="floor.log")
        naive, naive_rows = self._module("etl.bench.naive", str(first),
                                         str(self.work / "naive.duckdb"),
                                         str(self.naive_rows), log="naive.log")
        self.say(f"  floor: {floor.wall_s} s; naive: {naive.wall_s} s on {naive_rows} rows")
        return {**summarise(patients, excel, night1, night2, floor, floor_rows, naive,
                            naive_rows), "synth_wall_s": synth_s}


def summarise(patients: int, excel: int, night1: dict, night2: dict, floor: Measurement,
              floor_rows: int, naive: Measurement, naive_rows: int) -> dict:
    """Rows per second per stage and the ratios the issue asks for. Rows are the rows in
    night 1's files (what the floor reads); ``rows_mapped`` counts them once per extract
    that reads them (a file can feed several tables)."""
    rows = floor_rows
    stages = night1["stages"]
    load_s = sum(stages.get(s, {}).get("wall_s", 0.0) for s in ("extract", "raw_write"))
    naive_scaled = naive.wall_s / naive_rows * rows if naive_rows else None
    return {
        "patients_per_centre": patients,
        "excel_centre_patients": excel,
        "rows_night1": rows,
        "rows_mapped_night1": night1["rows_read"],
        "rows_mapped_night2": night2["rows_read"],
        "night1": night1,
        "night2": night2,
        "floor": {**floor.as_dict(), "rows": floor_rows},
        "naive": {**naive.as_dict(), "rows": naive_rows,
                  "scaled_wall_s": round(naive_scaled, 1) if naive_scaled else None},
        "rows_per_second": {
            stage: round(rows / stages[stage]["wall_s"]) for stage in STAGES
            if stage in stages and stages[stage]["wall_s"] > 0 and stage not in WAITS},
        "ratios": {
            "extract_and_write_over_floor": round(load_s / floor.wall_s, 2),
            "naive_over_extract_and_write": round(naive_scaled / load_s, 2)
            if naive_scaled and load_s else None,
            "night2_over_night1": round(night2["process"]["wall_s"]
                                        / night1["process"]["wall_s"], 2),
        },
    }


def _night_one_cell(size: dict, stage: str) -> str:
    timing, rate = size["night1"]["stages"].get(stage), size["rows_per_second"].get(stage)
    if timing and stage in WAITS:
        return f"{timing['wall_s']:.1f} / {timing['cpu_s']:.1f} / –"
    return f"{timing['wall_s']:.1f} / {timing['cpu_s']:.1f} / {rate:,}" if timing and rate \
        else "–"


def _night_two_cell(size: dict, stage: str) -> str:
    first, second = (size[night]["stages"].get(stage) for night in ("night1", "night2"))
    return (f"{second['wall_s']:.1f} ({second['wall_s'] / first['wall_s']:.2f})"
            if first and second and first["wall_s"] > 0.05 else "–")


def _stage_table(result: dict, title: str, cell: Callable[[dict, str], str]) -> list[str]:
    """A table of sizes × stages with a title, one ``cell`` per stage."""
    lines = ["", title, "", "| N / centre | " + " | ".join(STAGES) + " |",
             "|---|" + "---|" * len(STAGES)]
    for size in result["sizes"]:
        lines.append(f"| {size['patients_per_centre']:,} | "
                     + " | ".join(cell(size, stage) for stage in STAGES) + " |")
    return lines


def markdown(result: dict) -> str:
    """The results as the Markdown table the README shows."""
    m = result["machine"]
    lines = [f"Benchmark of {result['date']} on {m['cpu']} ({m['cores']} cores, "
             f"{m['memory_gb']} GB), Python {m['python']}, DuckDB {m['duckdb']}"
             + (f", code at commit {result['commit']}." if result.get("commit") else "."), "",
             "| N / centre | rows in files | night 1 s | peak MB | night 2 s | night 2 / 1 "
             "| floor s | extract+write / floor | naive s (scaled) | naive / ours |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for size in result["sizes"]:
        n1, r = size["night1"]["process"], size["ratios"]
        lines.append(
            f"| {size['patients_per_centre']:,} (BBK {size['excel_centre_patients']:,}) "
            f"| {size['rows_night1']:,} | {n1['wall_s']:.0f} | {n1['peak_rss_mb']:.0f} "
            f"| {size['night2']['process']['wall_s']:.0f} | {r['night2_over_night1']} "
            f"| {size['floor']['wall_s']:.1f} | {r['extract_and_write_over_floor']} "
            f"| {size['naive']['scaled_wall_s']} | {r['naive_over_extract_and_write']} |")
    if "wall_s" in result:
        generated = "; ".join(f"{size['patients_per_centre']:,}: {size['synth_wall_s']:.0f} s"
                              for size in result["sizes"] if "synth_wall_s" in size)
        lines += ["", f"The whole run (generating the registries included) took "
                      f"{result['wall_s'] / 60:.0f} minutes."
                  + (f" Generating both nights' deliveries (one process per centre, one "
                     f"per core) took {generated}." if generated else "")]
    lines += _stage_table(result, "Stages of night 1 (wall s / CPU s / rows per s):",
                          _night_one_cell)
    lines += _stage_table(result, "Stages of night 2 (wall s), against night 1:",
                          _night_two_cell)
    smallest = result["sizes"][0]
    if len(result["sizes"]) > 1:
        lines += ["", "Growth from the smallest size (1.0 = linear in N):", "",
                  "| N / centre | N × | night 1 time ÷ N × | peak memory ÷ N × |",
                  "|---|---|---|---|"]
        for size in result["sizes"][1:]:
            factor = size["rows_night1"] / smallest["rows_night1"]
            time_factor = (size["night1"]["process"]["wall_s"]
                           / smallest["night1"]["process"]["wall_s"])
            memory_factor = (size["night1"]["process"]["peak_rss_mb"]
                             / smallest["night1"]["process"]["peak_rss_mb"])
            lines.append(f"| {size['patients_per_centre']:,} | {factor:.1f} "
                         f"| {time_factor / factor:.2f} | {memory_factor / factor:.2f} |")
    return "\n".join(lines) + "\n"


def run(sizes: list[int], work: Path, out: Path, seed: int, naive_rows: int,
        say: Callable[[str], None]) -> Path:
    """Run every size, write ``<date>.json`` and ``<date>.md`` into ``out`` after each
    one, so a size that fails (or runs out of memory) keeps the sizes before it."""
    bench = Bench(work, seed, naive_rows, say)
    started = time.perf_counter()
    result = {"date": date.today().isoformat(), "machine": machine(),
              "commit": code_version(), "sizes": []}
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{result['date']}.json"
    for patients in sizes:
        result["sizes"].append(bench.size(patients))
        result["wall_s"] = round(time.perf_counter() - started, 1)
        target.write_text(json.dumps(result, indent=2), encoding="utf-8")
        (out / f"{result['date']}.md").write_text(markdown(result), encoding="utf-8")
        say(f"  results so far: {target}")
    return target

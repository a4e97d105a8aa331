"""Wall and CPU time per pipeline stage, for the benchmarks (``prrt bench``).

The pipeline marks its stages (extract, extract_wait, gate_one, raw_write, dbt_build,
docs, gate_two, publish) with :func:`stage`. With ``PRRT_STAGE_TIMINGS=<file>``
in the environment the totals of a process are written there as JSON when it ends;
without it, marking costs two clock reads. CPU time of the dbt stages includes dbt's
process.

Extracts run in a worker process alongside the previous delivery's gate and write
(``etl.extract_ahead``), which times them itself and hands the times back (:func:`record`):
the stages overlap, so their wall times add up to more than the night. ``extract_wait``
is the time the main process waited for an extract.
"""

import atexit
import json
import os
import resource
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TIMINGS_VARIABLE = "PRRT_STAGE_TIMINGS"

_totals: dict[str, dict[str, float]] = defaultdict(lambda: {"wall_s": 0.0, "cpu_s": 0.0})


def cpu_seconds(children: bool = False) -> float:
    """CPU seconds of this process, with those of its finished children if asked."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    spent = own.ru_utime + own.ru_stime
    if children:
        finished = resource.getrusage(resource.RUSAGE_CHILDREN)
        spent += finished.ru_utime + finished.ru_stime
    return spent


@contextmanager
def stage(name: str, children: bool = False) -> Iterator[None]:
    """Add the wall and CPU time of the ``with`` block to stage ``name``; ``children``
    for a stage that runs a child process (dbt). Other stages leave children out: the
    extract worker's CPU is its own stage's (``record``), not that of the stage running
    when the worker ends."""
    wall, cpu = time.perf_counter(), cpu_seconds(children)
    try:
        yield
    finally:
        record(name, time.perf_counter() - wall, cpu_seconds(children) - cpu)


def record(name: str, wall_s: float, cpu_s: float) -> None:
    """Add time measured elsewhere (in the extract worker) to stage ``name``."""
    _totals[name]["wall_s"] += wall_s
    _totals[name]["cpu_s"] += cpu_s


def _write() -> None:
    target = os.environ.get(TIMINGS_VARIABLE)
    if target and _totals:
        Path(target).write_text(json.dumps(_totals, indent=2), encoding="utf-8")


atexit.register(_write)

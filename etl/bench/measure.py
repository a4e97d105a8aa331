"""Run a command as its own process and measure it: wall time, CPU time (user + system,
its children included) and peak resident memory.

A night runs its extracts in worker processes beside the main one, so the memory that
counts is what the whole process tree holds at once. ``wait4`` only reports the largest
single process; the tree's resident memory is therefore also sampled (from ``/proc``,
every ``SAMPLE_S``) and the peak is the larger of the two. Pages the processes share
(libraries) count once per process, which errs high; a spike shorter than the sampling
interval can be missed, which errs low.
"""

import contextlib
import os
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

SAMPLE_S = 0.2


@dataclass(frozen=True)
class Measurement:
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    returncode: int

    def as_dict(self) -> dict:
        return asdict(self)


def run_measured(command: list[str], env: dict[str, str], log: Path) -> Measurement:
    """Run ``command`` with its output in ``log``; ``os.wait4`` gives the child's own
    resource usage (with the children it waited for, e.g. dbt), not the parent's."""
    with log.open("w", encoding="utf-8") as output:
        start = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        sampler = TreeMemory(process.pid)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        sampler.stop()
    process.returncode = os.waitstatus_to_exitcode(status)
    return Measurement(wall_s=round(wall, 3), cpu_s=round(usage.ru_utime + usage.ru_stime, 3),
                       peak_rss_mb=round(max(usage.ru_maxrss / 1024, sampler.peak_mb), 1),
                       returncode=process.returncode)


class TreeMemory:
    """Samples the resident memory of a process and all its descendants on a thread;
    ``peak_mb`` is the largest sum seen."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_mb = pid, 0.0
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stopped.wait(SAMPLE_S):
            self.peak_mb = max(self.peak_mb, sum(map(_resident_mb, _tree(self.pid))))


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (those still running)."""
    found, index = [pid], 0
    while index < len(found):
        try:
            tasks = list(Path(f"/proc/{found[index]}/task").iterdir())
        except OSError:
            tasks = []
        for task in tasks:
            with contextlib.suppress(OSError):  # the task ended meanwhile
                found += [int(child) for child in (task / "children").read_text().split()]
        index += 1
    return found


def _resident_mb(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/statm").read_text().split()
    except OSError:
        return 0.0  # ended between listing and reading
    return int(fields[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def run_concurrently(commands: list[tuple[list[str], Path]], env: dict[str, str],
                     workers: int) -> list[Measurement]:
    """Run independent ``(command, log)`` pairs, ``workers`` at a time (for work that is
    prepared, not measured, such as generating deliveries); measurements in input order."""
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(lambda job: run_measured(job[0], env, job[1]), commands))

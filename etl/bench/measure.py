"""Run a command as its own process and measure it: wall time, CPU time (user + system,
its children included) and peak resident memory."""

import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path


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
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    return Measurement(wall_s=round(wall, 3), cpu_s=round(usage.ru_utime + usage.ru_stime, 3),
                       peak_rss_mb=round(usage.ru_maxrss / 1024, 1),
                       returncode=process.returncode)


def run_concurrently(commands: list[tuple[list[str], Path]], env: dict[str, str],
                     workers: int) -> list[Measurement]:
    """Run independent ``(command, log)`` pairs, ``workers`` at a time (for work that is
    prepared, not measured, such as generating deliveries); measurements in input order."""
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(lambda job: run_measured(job[0], env, job[1]), commands))

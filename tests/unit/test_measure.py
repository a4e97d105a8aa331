"""The benchmark's peak memory counts a process and its children at once."""

import os
import sys

from etl.bench.measure import run_measured

HOLD = "import subprocess, sys, time; held = b'x' * ({mb} << 20); {then}"


def test_peak_memory_is_the_whole_process_tree_at_once(tmp_path):
    child = HOLD.format(mb=300, then="time.sleep(1.5)")
    parent = HOLD.format(mb=200, then=f"subprocess.run([sys.executable, '-c', {child!r}])")
    measured = run_measured([sys.executable, "-c", parent], dict(os.environ),
                            tmp_path / "log")
    assert measured.returncode == 0
    assert 500 < measured.peak_rss_mb < 700  # wait4 alone would report the child's ~310

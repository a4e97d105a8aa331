"""Named points where a test makes the process die the way ``kill -9`` would.

Crash safety is tested by killing real processes: with ``PRRT_CRASH_AT=<point>`` in its
environment, a ``prrt`` process sends itself (and the dbt child it runs, if any)
SIGKILL on reaching that point. Operators never set it. The points:

- ``extract``: a delivery has been read and mapped, nothing written;
- ``gate``: gate 1 passed, before the raw write;
- ``raw_write``: inside the delivery's transaction, everything written, not committed;
- ``dbt``: while ``dbt build`` is running;
- ``publish``: the release file is written, ``current`` not yet switched.
"""

import os
import signal
import subprocess

POINTS = ("extract", "gate", "raw_write", "dbt", "publish")


def maybe_crash(point: str, child: subprocess.Popen | None = None) -> None:
    if os.environ.get("PRRT_CRASH_AT") != point:
        return
    if child is not None:
        child.kill()
        child.wait()
    os.kill(os.getpid(), signal.SIGKILL)

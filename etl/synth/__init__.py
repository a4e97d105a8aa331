"""Synthetic multi-centre deliveries for the demo, tests and benchmarks.

``cohort`` draws centre-neutral clinical truth from a seed; ``nights`` turns it into the
truth each night's export shows (more follow-up, corrections, withdrawals) and can
inject faults; each centre writer renders that truth in the centre's own export format,
as the site-exports README describes it. Tests compare what the warehouse loads and
derives with the truth the generator started from. No real patient data is involved.
"""

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import ModuleType

from etl.synth import bbk, iow, rot, trl
from etl.synth.nights import NIGHT_INTERVAL, Fault, nights_truth

WRITERS: dict[str, ModuleType] = {"ROT": rot, "BBK": bbk, "IOW": iow, "TRL": trl}


@dataclass
class WrittenDelivery:
    site: str
    path: Path
    faults: list[Fault]


def write_deliveries(out: Path, patients: int, seed: int, centres: list[str],
                     export_date: str, night: int = 1, faults: bool = False,
                     interval: timedelta = NIGHT_INTERVAL) -> list[WrittenDelivery]:
    """Write one delivery per centre into ``out`` for night ``night`` (1 = the first
    export on ``export_date``; each later night is ``interval`` on, same cohort)."""
    return write_nights({night: out}, patients, seed, centres, export_date, faults, interval)


def write_nights(outs: dict[int, Path], patients: int, seed: int, centres: list[str],
                 export_date: str, faults: bool = False,
                 interval: timedelta = NIGHT_INTERVAL) -> list[WrittenDelivery]:
    """``write_deliveries`` for several nights at once, night ``n`` into ``outs[n]``; each
    centre's cohort is drawn once for all of them."""
    unknown = sorted(set(centres) - set(WRITERS))
    if unknown:
        raise ValueError(f"no synthetic writer for centre(s) {', '.join(unknown)}; "
                         f"available: {', '.join(sorted(WRITERS))}")
    written = []
    for centre in centres:
        for night, truth, when, injected in nights_truth(centre, patients, seed, export_date,
                                                         sorted(outs), faults, interval):
            outs[night].mkdir(parents=True, exist_ok=True)
            path = WRITERS[centre].write(truth, outs[night], when)
            written.append(WrittenDelivery(centre, path, injected))
    return written

"""Synthetic multi-centre deliveries for the demo, tests and benchmarks.

``cohort`` draws centre-neutral clinical truth (patients, cycles, follow-up) from a
seed; each centre writer renders that truth in the centre's own export format, as the
site-exports README describes it. Tests compare what the warehouse derives with the
truth the generator started from. No real patient data is involved anywhere.
"""

from pathlib import Path

from etl.synth.cohort import draw_cohort
from etl.synth.rot import write_rot_delivery

WRITERS = {"ROT": write_rot_delivery}


def write_deliveries(out: Path, patients: int, seed: int, centres: list[str],
                     export_date: str) -> list[Path]:
    """Write one delivery per centre into ``out``; returns the delivery paths."""
    unknown = sorted(set(centres) - set(WRITERS))
    if unknown:
        raise ValueError(f"no synthetic writer for centre(s) {', '.join(unknown)}; "
                         f"available: {', '.join(sorted(WRITERS))}")
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for offset, centre in enumerate(centres):
        cohort = draw_cohort(patients, seed + offset, export_date)
        paths.append(WRITERS[centre](cohort, out, export_date))
    return paths

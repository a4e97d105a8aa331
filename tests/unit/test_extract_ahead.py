"""Extracts run ahead of the delivery being loaded, a bounded number of them; a worker
lost mid-extract stops the night with an error that names the delivery."""

import os
import time
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from pathlib import Path

import pytest

from etl import extract_ahead
from etl.errors import ExtractWorkerLost
from etl.extract_ahead import AHEAD, Ahead, Extraction, extracts_ahead
from etl.inbox import Delivery


def test_a_lost_worker_is_an_error_naming_the_delivery():
    lost: Future = Future()
    lost.set_exception(BrokenProcessPool("A process in the process pool was terminated"))
    delivery = Delivery(site="ROT", path=Path("inbox/ROT_20260601"), export_date=None,
                        content_sha256="0" * 64, file_sha256={})
    with pytest.raises(ExtractWorkerLost, match=r"^ROT_20260601: the worker process") as lost_error:
        Ahead(delivery, lost).result()
    assert lost_error.value.exit_code == 1


def test_at_most_two_deliveries_are_started_ahead_of_the_one_handed_over():
    deliveries = [Delivery(site="ROT", path=Path(f"inbox/ROT_2026060{day}"), export_date=None,
                           content_sha256=f"{day}" * 64, file_sha256={}) for day in range(1, 6)]
    asked: list[str] = []

    def wanted(delivery: Delivery) -> bool:  # asked as an extract would start
        asked.append(delivery.name)
        return False  # so nothing is extracted

    handed = extracts_ahead(deliveries, wanted, settings=None, mappings={}, key=b"")
    first = next(handed)
    assert AHEAD == 2 and first.delivery is deliveries[0] and first.future is None
    assert asked == ["ROT_20260601", "ROT_20260602", "ROT_20260603"]
    next(handed)
    assert asked[-1] == "ROT_20260604" and len(asked) == 4
    rest = list(handed)
    assert [a.delivery for a in rest] == deliveries[2:]
    assert asked == [d.name for d in deliveries]  # each asked once, in order


def marked(folder: Path, name: str) -> None:
    (folder / name).touch()


def wait_for(folder: Path, name: str) -> None:
    deadline = time.monotonic() + 120
    while not (folder / name).exists():
        assert time.monotonic() < deadline, f"{name} never happened"
        time.sleep(0.05)


def scripted_extract(main: int, delivery: Delivery) -> Extraction:
    """Stands in for an extract (runs in the worker or here): what it waits for and
    marks is in the delivery's name (``<day>-<waits for>-<marks>``)."""
    folder, (_, waits, marks) = delivery.path.parent, delivery.path.name.split("-")
    where = "here" if os.getpid() == main else "worker"
    if waits != "none":
        wait_for(folder, waits)
    marked(folder, f"{marks}.{where}")
    return Extraction(extracted=where, wall_s=0.0, cpu_s=0.0)


def shared_run(tmp_path: Path, names: list[str]) -> tuple[list[str], list[str]]:
    deliveries = [Delivery(site="ROT", path=tmp_path / name, export_date=None,
                           content_sha256=f"{number}" * 64, file_sha256={})
                  for number, name in enumerate(names)]
    said: list[str] = []
    handed = extract_ahead._shared(deliveries, lambda _: True,
                                   partial(scripted_extract, os.getpid()), said.append)
    return [ahead.result() for ahead in handed], said


def test_at_the_start_the_main_process_extracts_the_second_while_the_worker_does_the_first(
        tmp_path):
    # the worker's first extract lasts until the main process has done the second; then
    # the main process has the second to gate and write, and leaves the third to the worker
    where, said = shared_run(tmp_path, ["1-second.here-first", "2-none-second",
                                        "3-none-third"])
    assert where == ["worker", "here", "worker"]
    assert said == ["  extracting 2-none-second (beside the worker) ..."]


def test_the_main_process_takes_an_extract_the_worker_has_not_begun_rather_than_wait(
        tmp_path):
    # the worker's third extract lasts until the main process has done the fourth
    where, said = shared_run(tmp_path, ["1-second.here-first", "2-none-second",
                                        "3-fourth.here-third", "4-none-fourth"])
    assert where == ["worker", "here", "worker", "here"]
    assert said == [f"  extracting {name} (beside the worker) ..." for name in
                    ("2-none-second", "4-none-fourth")]

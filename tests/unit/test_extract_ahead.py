"""Extracts run ahead of the delivery being loaded, a bounded number of them; a worker
lost mid-extract stops the night with an error that names the delivery."""

from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from etl.errors import ExtractWorkerLost
from etl.extract_ahead import AHEAD, Ahead, extracts_ahead
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

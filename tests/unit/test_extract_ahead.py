"""A worker lost mid-extract stops the night with an error that names the delivery."""

from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from etl.errors import ExtractWorkerLost
from etl.extract_ahead import Ahead
from etl.inbox import Delivery


def test_a_lost_worker_is_an_error_naming_the_delivery():
    lost: Future = Future()
    lost.set_exception(BrokenProcessPool("A process in the process pool was terminated"))
    delivery = Delivery(site="ROT", path=Path("inbox/ROT_20260601"), export_date=None,
                        content_sha256="0" * 64, file_sha256={})
    with pytest.raises(ExtractWorkerLost, match=r"^ROT_20260601: the worker process") as lost_error:
        Ahead(delivery, lost).result()
    assert lost_error.value.exit_code == 1

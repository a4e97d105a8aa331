"""Extracts run ahead of the delivery being loaded, a bounded number of them; a worker
lost mid-extract stops the night with an error that names the delivery."""

from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from etl import extract_ahead
from etl.errors import ExtractWorkerLost
from etl.extract_ahead import AHEAD, WORKERS, Ahead, Extraction, extracts_ahead
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


class RecordingPool:
    """Stands in for the worker processes: records how many it was asked for and which
    deliveries it was given, and hands each extract back done at once."""

    def __init__(self, max_workers: int, **options: object) -> None:
        self.max_workers, self.submitted, self.stopped = max_workers, [], False

    def submit(self, function, settings, loaded, key, delivery: Delivery) -> Future:
        self.submitted.append(delivery.name)
        done: Future = Future()
        done.set_result(Extraction(extracted=f"frames of {delivery.name}", wall_s=0.0,
                                   cpu_s=0.0))
        return done

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        self.stopped = True


def test_two_workers_extract_every_delivery_of_a_night_the_main_process_none(monkeypatch):
    deliveries = [Delivery(site="ROT", path=Path(f"inbox/ROT_2026060{day}"), export_date=None,
                           content_sha256=f"{day}" * 64, file_sha256={}) for day in range(1, 5)]

    def not_here(*arguments):
        raise AssertionError("the main process extracted a delivery of a night of four")

    pools: list[RecordingPool] = []

    def recording_pool(max_workers: int, **options: object) -> RecordingPool:
        pools.append(RecordingPool(max_workers, **options))
        return pools[-1]

    monkeypatch.setattr(extract_ahead, "ProcessPoolExecutor", recording_pool)
    monkeypatch.setattr(extract_ahead, "extract", not_here)
    handed = extracts_ahead(deliveries, lambda delivery: True, settings=None,
                            mappings={"ROT": None}, key=b"")
    first = next(handed)
    [pool] = pools
    assert WORKERS == 2 and pool.max_workers == 2
    # the first and the two behind it, all given to the workers before the first is used
    assert pool.submitted == ["ROT_20260601", "ROT_20260602", "ROT_20260603"]
    assert first.result() == "frames of ROT_20260601"
    second, third, last = next(handed), next(handed), next(handed)
    assert pool.submitted == [d.name for d in deliveries]
    assert [a.result() for a in (second, third)] == ["frames of ROT_20260602",
                                                     "frames of ROT_20260603"]
    assert not pool.stopped
    assert last.result() == "frames of ROT_20260604"
    assert pool.stopped  # as soon as the last extract is handed over, not at the night's end


def test_dates_texts_and_flags_travel_as_categoricals_and_come_back_the_same():
    import pickle
    from datetime import date, datetime
    from decimal import Decimal

    import numpy as np
    import pandas as pd

    from etl.extract_ahead import _pack, _unpack

    sent = pd.DataFrame({
        "sample_date": [date(2024, 1, 2), None, date(2024, 1, 2), date(2023, 12, 31)],
        "death_date": [None, None, None, None],  # nothing but None: nothing to gain
        "exam_date": [date(2024, 1, 2), np.nan, None, date(2024, 3, 1)],  # NaN is not None
        "taken_at": [datetime(2024, 1, 2, 8), None, None, None],  # not a date
        "analyte": ["cga", "hb", "cga", None],
        "is_dead": [True, None, False, True],
        "analyte_source": pd.array(["CgA", pd.NA, "CgA", "Hb"], dtype="string"),
        "activity": [Decimal("7.40"), Decimal("7.4"), None, Decimal("7.4")],  # equal, kept
        "mixed": [1, True, None, 1],  # one value to pandas' factorize: kept as it is
    })
    frame = sent.copy()

    assert _pack(frame) == ["sample_date", "analyte", "is_dead", "analyte_source"]
    assert all(isinstance(frame[c].dtype, pd.CategoricalDtype)
               for c in ["sample_date", "analyte", "is_dead", "analyte_source"])
    back = pickle.loads(pickle.dumps(frame))
    _unpack(back, ["sample_date", "analyte", "is_dead", "analyte_source"])

    assert back["sample_date"].dtype == object
    assert back["sample_date"].tolist() == [date(2024, 1, 2), None, date(2024, 1, 2),
                                            date(2023, 12, 31)]
    assert back["sample_date"][1] is None  # not NaN, which assert_frame_equal lets pass
    assert back["analyte"][3] is None and back["is_dead"][1] is None
    assert back["is_dead"].tolist() == [True, None, False, True]
    assert back["analyte_source"].dtype == sent["analyte_source"].dtype
    assert back["analyte_source"].isna().tolist() == [False, True, False, False]
    assert [str(a) for a in back["activity"][:2]] == ["7.40", "7.4"]
    assert [type(v) for v in back["mixed"]] == [int, bool, type(None), int]
    pd.testing.assert_frame_equal(back, sent)

"""Extract the next deliveries while the current one is gated and written.

A night loads its deliveries one after the other, and each has two halves: the extract
(read and map the files; no database) and gate 1 plus the raw write (Great Expectations,
DuckDB). Both halves are mostly Python holding the GIL, so threads do not help; worker
processes extract the next deliveries while the main process gates and writes the
current one. The extracted frames come back pickled, their dates, texts and flags as
categoricals (``extract_for_handover``); that copy costs far less than the extract it
overlaps. The workers stop as soon as the last extract is handed over, so the memory
they kept does not stay with idle processes while the last deliveries are gated and
written.

Only the extract runs ahead, at most two deliveries, so at most three deliveries' frames
are in memory. One ahead was not enough: deliveries differ in size and in the cost of
their halves, and a worker that may only prepare the next one idles whenever the main
process is slower, then makes it wait later (at 25,000 patients per centre, the main
process waited 119 s a night although the worker's extracts took 202 s in all and its
own gates and writes 233 s).

Two workers (``WORKERS``), which extract the two deliveries ahead side by side; the main
process extracts nothing. On every night after the first, most records are resent
unchanged: gate 1 and the raw write touch only the new and changed ones, while the
extracts still read and map every row, so the extracts are most of the loads' work.
With one worker (and the main process extracting the first delivery beside it), the
main process waited for that worker 56 s of a night 2 at 25,000 patients per centre,
whose loads took 204 / 197 s (2026-12-07, two runs); with two workers they took 182 /
172 s: each extract is slower, sharing the two cores, but neither core sits idle. On a
first night the gates and writes are the longer half: the main process now waits for
the first extract (57 s against the 39 s it took to extract it itself), and the second
worker competes with its gates and writes, so night 1's loads took 432 s against 397 s
(one run each; 426 s with two workers and the main process still extracting the first).
A registry loads its first night once and a night 2 every night after, so two workers.

Everything that touches the warehouse stays in the main process, in delivery order:
whether a delivery was already loaded is asked again before its extract is used, so a
delivery identical to one loaded just before it is skipped as it would be without the
workers. A night with a single delivery extracts it in the main process: there is
nothing to overlap, and starting a worker costs a few seconds.
"""

import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

import pandas as pd

from etl.config import Settings
from etl.distinct import by_code
from etl.errors import ExtractWorkerLost
from etl.inbox import Delivery
from etl.load import Extracted, extract_delivery
from etl.mapping import LoadedMapping
from etl.stages import TIMINGS_VARIABLE, cpu_seconds, record

PARENT_CHECK_S = 0.5
AHEAD = 2  # deliveries extracted ahead of the one being gated and written
WORKERS = 2  # processes extracting them, side by side


@dataclass
class Extraction:
    """What the worker hands back: the delivery's frames and the wall and CPU seconds the
    extract took in the worker; ``packed`` names, per table, the columns sent as
    categoricals (see ``extract_for_handover``)."""

    extracted: Extracted
    wall_s: float
    cpu_s: float
    packed: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Ahead:
    """One delivery and its extract, running or done; ``result`` waits for it and
    raises what the extract raised (a rejection)."""

    delivery: Delivery
    future: Future | None
    then: Callable[[], None] | None = None  # once the result is in (stop the workers)

    def result(self) -> Extracted:
        assert self.future is not None, "a skipped delivery has no extract"
        try:
            extraction: Extraction = self.future.result()
        except BrokenProcessPool:
            raise ExtractWorkerLost(
                f"{self.delivery.name}: the worker process extracting it ended before it "
                "finished (killed, or out of memory?); nothing of this delivery was written, "
                "and the next night loads it again") from None
        if self.then is not None:
            self.then()
        record("extract", extraction.wall_s, extraction.cpu_s)
        for table_name, columns in extraction.packed.items():
            _unpack(extraction.extracted.tables[table_name], columns)
        return extraction.extracted

    def discard(self) -> None:
        """The delivery turned out to be loaded already, or the night stopped before it:
        drop its extract (not started yet: cancelled)."""
        if self.future is not None:
            self.future.cancel()


def extract(settings: Settings, loaded: LoadedMapping, key: bytes,
            delivery: Delivery) -> Extraction:
    """Read and map one delivery (runs in the worker)."""
    wall, cpu = time.perf_counter(), cpu_seconds()
    extracted = extract_delivery(loaded, delivery, key)
    return Extraction(extracted, time.perf_counter() - wall, cpu_seconds() - cpu)


def extract_for_handover(settings: Settings, loaded: LoadedMapping, key: bytes,
                         delivery: Delivery) -> Extraction:
    """``extract`` in the worker, its columns of repeated values packed for the trip to
    the main process.

    The frames travel pickled, and pickling costs per Python object, while a categorical
    pickles as its codes and its few distinct values. At 25,000 patients per centre,
    TRL's frames took 11.4 s to pickle, 9.5 s of it their millions of dates (of ~2,200
    distinct days): dates were packed first. Then (2026-12-06) texts and flags too: a
    pseudonym, file name and digest repeated on each of 4.8 million questionnaire items.
    Handing over ROT's, TRL's and BBK's night-2 frames then cost the worker 9.0 s instead
    of 10.1 (packing and pickling) and the main process, which waits for them, 3.9 s
    instead of 6.5 (unpickling and unpacking)."""
    extraction = extract(settings, loaded, key, delivery)
    wall, cpu = time.perf_counter(), cpu_seconds()
    extraction.packed = {name: _pack(frame)
                         for name, frame in extraction.extracted.tables.items()}
    extraction.wall_s += time.perf_counter() - wall  # packing is part of the extract
    extraction.cpu_s += cpu_seconds() - cpu
    return extraction


PACKED_KINDS = {"date", "string", "boolean"}  # pandas.api.types.infer_dtype of objects


def _pack(frame: pd.DataFrame) -> list[str]:
    """Turn ``frame``'s pandas text columns, and its object columns of dates, texts or
    flags (missing as None), into categoricals, in place; returns their names. ``_unpack``
    gives back the same values, dtypes and None.

    Objects of other kinds stay as they are: pandas factorizes values that are equal
    (Decimal("7.40") and Decimal("7.4"), or 1 and True in one column) into one, and
    would hand back only one of them."""
    packed = []
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.StringDtype):
            codes, distinct = pd.factorize(frame[column].array)  # NA: code -1
            frame[column] = pd.Categorical.from_codes(codes, pd.Index(distinct))
            packed.append(column)
            continue
        values = frame[column].to_numpy()
        if (values.dtype != object
                or pd.api.types.infer_dtype(values, skipna=True) not in PACKED_KINDS):
            continue
        codes, distinct = pd.factorize(values)
        if any(value is not None for value in values[codes < 0]):
            continue  # NaN or NaT would come back as None
        frame[column] = pd.Categorical.from_codes(codes, pd.Index(distinct, dtype=object))
        packed.append(column)
    return packed


def _unpack(frame: pd.DataFrame, columns: list[str]) -> None:
    for column in columns:
        packed = frame[column].array
        distinct = packed.categories.array
        frame[column] = (
            pd.Series(distinct.take(packed.codes, allow_fill=True), index=frame.index)
            if isinstance(distinct.dtype, pd.StringDtype)
            else by_code(distinct.to_numpy(dtype=object), packed.codes))


def _here(function: Callable[..., Extraction], *arguments: object) -> Future:
    """``function(*arguments)`` run in this process, its outcome as a done future."""
    done: Future = Future()
    try:
        done.set_result(function(*arguments))
    except Exception as error:  # handed to whoever asks for the result, as from a worker
        done.set_exception(error)
    return done


def _worker_started(parent: int) -> None:
    os.environ.pop(TIMINGS_VARIABLE, None)  # the main process writes the stage times
    threading.Thread(target=_end_with, args=(parent,), daemon=True).start()


def _end_with(parent: int) -> None:
    """A night killed outright (``kill -9``) cannot stop its worker, which would wait for
    work forever and hold the night's output open: the worker ends itself once its
    parent is gone."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(1)


def extracts_ahead(deliveries: list[Delivery], wanted: Callable[[Delivery], bool],
                   settings: Settings, mappings: dict[str, LoadedMapping],
                   key: bytes) -> Iterator[Ahead]:
    """Yield each delivery in order with its extract, the next ones (``AHEAD``) already
    running or done in the workers.

    ``wanted`` (asked in the main process, before an extract starts) says whether a
    delivery needs loading; an unwanted delivery is yielded with no extract."""
    if len(deliveries) < 2:  # nothing to overlap: extract here, without starting a worker
        for delivery in deliveries:
            yield Ahead(delivery, _here(extract, settings, mappings[delivery.site], key,
                                        delivery) if wanted(delivery) else None)
        return
    workers = ProcessPoolExecutor(max_workers=WORKERS,  # two deliveries or more here
                                  initializer=_worker_started, initargs=(os.getpid(),),
                                  mp_context=multiprocessing.get_context("spawn"))

    def start(delivery: Delivery) -> Ahead:
        last = delivery is deliveries[-1]
        ahead = Ahead(delivery, None, then=workers.shutdown if last else None)
        if wanted(delivery):
            ahead.future = workers.submit(extract_for_handover, settings,
                                          mappings[delivery.site], key, delivery)
        return ahead

    upcoming: deque[Ahead] = deque()
    try:
        for position in range(len(deliveries)):
            while len(upcoming) <= AHEAD and position + len(upcoming) < len(deliveries):
                upcoming.append(start(deliveries[position + len(upcoming)]))
            yield upcoming.popleft()  # the ones behind it keep the workers busy meanwhile
    finally:  # a night that stops early does not wait for extracts it will not use
        workers.shutdown(wait=True, cancel_futures=True)
        for ahead in upcoming:
            ahead.discard()

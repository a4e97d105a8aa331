"""Extract the next deliveries while the current one is gated and written.

A night loads its deliveries one after the other, and each has two halves of about the
same cost: the extract (read and map the files; no database) and gate 1 plus the raw
write (Great Expectations, DuckDB). Both halves are mostly Python holding the GIL, so a
thread does not help; a worker process running the next delivery's extract while the
main process gates and writes the current one keeps both cores of a small server busy.
The extracted frames come back pickled; that copy costs far less than the extract it
overlaps. The worker stops as soon as the last extract is handed over, so the memory it
kept does not stay with an idle process while the last deliveries are gated and written.

Only the extract runs ahead, at most two deliveries, so at most three deliveries' frames
are in memory. One ahead was not enough: deliveries differ in size and in the cost of
their halves, and a worker that may only prepare the next one idles whenever the main
process is slower, then makes it wait later (at 25,000 patients per centre, the main
process waited 119 s a night although the worker's extracts took 202 s in all and its
own gates and writes 233 s).

The worker is handed one extract at a time (by a feeder thread, as soon as it is free),
so that the ones it has not begun can still be taken: whenever the main process would
wait for the extract it needs next, it extracts the earliest one the worker has not
begun itself (``say``: "beside the worker"), unless one behind it is already in: then
it will have gates and writes to do as soon as that one comes. At the start of a night
that is the second delivery, while the worker does the first (before, at 25,000
patients per centre, the main process waited 32 s for the first extract and then 42 s
for the second, which the worker only began when the first was done). On a night whose
records are mostly resent unchanged, gating and writing a delivery costs less than
extracting one, and the main process, which waited 57 s at 25,000 with the extracts
fixed in advance (worker: the first, third and fourth), takes on more. Taking on more
whenever it waited, whatever was in, made night 1 at 10,000 slower (196 s against 184):
at its start the main process extracted the second and the third delivery while the
worker did the first, the Excel centre's, and then had all gates and writes to do.

Everything that touches the warehouse stays in the main process, in delivery order:
whether a delivery was already loaded is asked again before its extract is used, so a
delivery identical to one loaded just before it is skipped as it would be without the
worker. A night with a single delivery extracts it in the main process: there is nothing
to overlap, and starting a worker costs a few seconds.
"""

import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import partial

from etl.config import Settings
from etl.errors import ExtractWorkerLost
from etl.inbox import Delivery
from etl.load import Extracted, extract_delivery
from etl.mapping import LoadedMapping
from etl.stages import TIMINGS_VARIABLE, cpu_seconds, record

PARENT_CHECK_S = 0.5
AHEAD = 2  # deliveries extracted ahead of the one being gated and written


@dataclass
class Extraction:
    """What the worker hands back: the delivery's frames and the wall and CPU seconds the
    extract took in the worker."""

    extracted: Extracted
    wall_s: float
    cpu_s: float


@dataclass
class Ahead:
    """One delivery and its extract, running or done; ``result`` waits for it and
    raises what the extract raised (a rejection)."""

    delivery: Delivery
    future: Future | None
    then: Callable[[], None] | None = None  # once the result is in (stop the worker)

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


Job = Callable[[Delivery], Extraction]


def _settle(done: Future, outcome: Callable[[], Extraction]) -> None:
    """Run ``outcome`` for ``done``, unless a night that stopped early cancelled it first;
    its result, or what it raised, is set on ``done`` for whoever asks."""
    if not done.set_running_or_notify_cancel():
        return
    try:
        done.set_result(outcome())
    except Exception as error:  # handed to whoever asks for the result
        done.set_exception(error)


class Feeder:
    """Hands started extracts to the worker one at a time, in delivery order, from a
    thread of the main process; the main process may ``take`` any not handed over yet."""

    def __init__(self, worker: ProcessPoolExecutor, job: Job) -> None:
        self._worker, self._job = worker, job
        self._waiting: deque[Ahead] = deque()
        self._changed = threading.Condition()
        self._busy = self._closed = False
        threading.Thread(target=self._feed, daemon=True, name="extract-feeder").start()

    def add(self, ahead: Ahead) -> None:
        with self._changed:
            self._waiting.append(ahead)
            self._changed.notify_all()

    def take(self) -> Ahead | None:
        """The earliest extract the worker has not begun, now the caller's to do; none
        while the worker is free (it is about to begin the earliest)."""
        with self._changed:
            while self._waiting and not self._busy and not self._closed:
                self._changed.wait()
            return self._waiting.popleft() if self._waiting and not self._closed else None

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def _feed(self) -> None:
        while True:
            with self._changed:
                self._busy = False
                self._changed.notify_all()
                while not self._waiting and not self._closed:
                    self._changed.wait()
                if self._closed:
                    return
                ahead = self._waiting.popleft()
                self._busy = True
                self._changed.notify_all()
            _settle(ahead.future, partial(self._in_worker, ahead.delivery))

    def _in_worker(self, delivery: Delivery) -> Extraction:
        return self._worker.submit(self._job, delivery).result()


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
                   key: bytes, say: Callable[[str], None] = lambda _: None
                   ) -> Iterator[Ahead]:
    """Yield each delivery in order with its extract, the next ones (``AHEAD``) already
    running or done.

    ``wanted`` (asked in the main process, before an extract starts) says whether a
    delivery needs loading; an unwanted delivery is yielded with no extract."""
    job = partial(extract_for, settings, mappings, key)
    if len(deliveries) < 2:  # nothing to overlap: extract here, without starting a worker
        for delivery in deliveries:
            ahead = Ahead(delivery, Future() if wanted(delivery) else None)
            if ahead.future is not None:
                _settle(ahead.future, partial(job, delivery))
            yield ahead
        return
    yield from _shared(deliveries, wanted, job, say)


def extract_for(settings: Settings, mappings: dict[str, LoadedMapping], key: bytes,
                delivery: Delivery) -> Extraction:
    """``extract`` of one delivery with its centre's mapping (what the worker runs)."""
    return extract(settings, mappings[delivery.site], key, delivery)


def _idle(upcoming: deque[Ahead]) -> bool:
    """The main process would only wait: the extract it needs next is not in, and none
    behind it is (one that is means gates and writes to do as soon as it comes)."""
    following, *behind = upcoming
    return (following.future is not None and not following.future.done()
            and not any(a.future is not None and a.future.done() for a in behind))


def _shared(deliveries: list[Delivery], wanted: Callable[[Delivery], bool], job: Job,
            say: Callable[[str], None]) -> Iterator[Ahead]:
    """``extracts_ahead`` with a worker process, the main process taking extracts the
    worker has not begun whenever it would wait."""
    worker = ProcessPoolExecutor(max_workers=1, initializer=_worker_started,
                                 initargs=(os.getpid(),),
                                 mp_context=multiprocessing.get_context("spawn"))
    feeder = Feeder(worker, job)

    def stop() -> None:
        feeder.close()
        worker.shutdown()

    def start(delivery: Delivery) -> Ahead:
        ahead = Ahead(delivery, None, then=stop if delivery is deliveries[-1] else None)
        if wanted(delivery):
            ahead.future = Future()
            feeder.add(ahead)
        return ahead

    upcoming: deque[Ahead] = deque()
    try:
        for position in range(len(deliveries)):
            while len(upcoming) <= AHEAD and position + len(upcoming) < len(deliveries):
                upcoming.append(start(deliveries[position + len(upcoming)]))
            while _idle(upcoming):
                mine = feeder.take()  # rather than wait: one the worker has not begun
                if mine is None:
                    break
                say(f"  extracting {mine.delivery.name} (beside the worker) ...")
                _settle(mine.future, partial(job, mine.delivery))
            yield upcoming.popleft()  # the ones behind it keep the worker busy meanwhile
    finally:  # a night that stops early does not wait for extracts it will not use
        for ahead in upcoming:
            ahead.discard()
        feeder.close()
        worker.shutdown(wait=True, cancel_futures=True)

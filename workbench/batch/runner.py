"""The built-in batch engine: units through a backend on a few threads, outcomes into a sink.

``run_batch`` reads the units lazily, keeps at most ``concurrency`` model calls in flight
(worker threads; a server does the batching) and as many units queued behind them, so a
worker starts its next unit as soon as it has an answer. The calling thread parses each answer
with its own geometry and stores each unit with one sink call, so the sink (an SQLite store) is
only ever used from one thread, one unit per transaction, and no parsing or storing sits between
one model call and the next.

- A unit that fails (unreadable image, server refusal, anything unexpected) is recorded with
  ``sink.fail`` and the run goes on.
- When no server can be reached any more (:class:`~workbench.batch.replicas.ServersUnavailable`)
  or ``cancel`` is set, no new unit starts; those in flight are stored; the summary says why
  it stopped. A cancel also stops the server calls in flight (:mod:`workbench.backends.deadline`):
  those units are left undone, not failed. Ctrl-C stops at once: what was stored is whole, what was in flight is dropped.
- Units already done with the same settings key are skipped, so a re-run resumes.

A backend with ``prepare(request) -> call`` and ``send(call) -> RawOutput`` (a
:class:`~workbench.batch.replicas.ReplicaPool`) gets its request bodies built in the calling
thread as units are queued, so images are read and encoded while earlier requests are in
flight; a unit whose images cannot be read fails there, without taking a worker.

``batch_size`` is the hook for backends that run several requests in one forward pass: a
backend with ``generate_batch(requests) -> list[RawOutput | Exception]`` gets groups of that
size; others get one request at a time.

>>> from grounding import PixelLimits
>>> from workbench.backends import FakeBackend
>>> from workbench.batch.sinks import MemorySink
>>> from workbench.batch.units import JobSettings, WorkUnit
>>> import io; from PIL import Image
>>> png = io.BytesIO(); Image.new("RGB", (640, 480)).save(png, "PNG")
>>> backend = FakeBackend(lambda request, images: '[{"bbox_2d": [0, 0, 322, 238], "label": "cat"}]')
>>> settings = JobSettings.for_backend(backend, max_new_tokens=64)
>>> units = [WorkUnit(f"u{i}", (png.getvalue(),), prompt="Find cats.") for i in range(3)]
>>> sink = MemorySink()
>>> run_batch(units, backend, sink, settings, concurrency=2).written
3
>>> run_batch(units, backend, sink, settings).skipped
3
"""

from __future__ import annotations

import functools
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from workbench.backends.base import ModelBackend, RawOutput
from workbench.backends.deadline import interruptible
from workbench.backends.media import original_wh
from workbench.batch.ledger import BatchLedger, BatchSummary, ProgressCallback
from workbench.batch.replicas import ServersUnavailable
from workbench.batch.results import Timings, UnitError, UnitResult, unit_result
from workbench.batch.units import JobSettings, WorkUnit
from workbench.errors import WorkbenchError

__all__ = ["run_batch", "annotate_unit", "check_inputs"]

Outcome = UnitResult | UnitError


def check_inputs(unit: WorkUnit, settings: JobSettings) -> UnitError | None:
    """Read each image's header and build the request: a bad unit fails here, before any model call."""
    key = settings.key(unit.prompt)
    try:
        unit.request(settings)
        for image in unit.images:
            original_wh(image)
    except (WorkbenchError, ValueError) as exc:
        return UnitError(key, str(exc), "input")
    return None


def _outcome(unit: WorkUnit, settings: JobSettings, produce: Callable[[], RawOutput], queued_s: float,
             *, checked: bool = False) -> Outcome | Answered:
    key = settings.key(unit.prompt)
    problem = None if checked else check_inputs(unit, settings)
    if problem is not None:
        return problem
    started = time.perf_counter()
    try:
        output = produce()
    except ServersUnavailable:
        raise
    except WorkbenchError as exc:
        return UnitError(key, str(exc), "backend")
    except Exception as exc:
        return UnitError(key, f"{type(exc).__name__}: {exc}", "internal")
    return Answered(unit, output, Timings(queued_s, time.perf_counter() - started, output.generate_s))


@dataclass(frozen=True)
class Answered:
    """A unit's answer, not parsed yet: the worker that got it goes on to its next call, the
    calling thread parses (:meth:`outcome`) while that call is in flight."""

    unit: WorkUnit
    output: RawOutput
    timings: Timings

    def outcome(self, settings: JobSettings) -> Outcome:
        try:
            return unit_result(self.unit, settings, self.output, self.timings)
        except Exception as exc:
            return UnitError(settings.key(self.unit.prompt), f"{type(exc).__name__}: {exc}", "internal")


def _parsed(outcome: Outcome | Answered, settings: JobSettings) -> Outcome:
    return outcome.outcome(settings) if isinstance(outcome, Answered) else outcome


def annotate_unit(backend: ModelBackend, unit: WorkUnit, settings: JobSettings, queued_s: float = 0.0) -> Outcome:
    """One unit through the backend and the parser; failures come back as :class:`UnitError`."""
    return _parsed(_outcome(unit, settings, lambda: backend.generate(unit.request(settings)), queued_s), settings)


def _annotate_group(backend: ModelBackend, jobs: Sequence[tuple[WorkUnit, Any]], settings: JobSettings,
                    queued_s: float) -> list[Outcome | Answered]:
    units = [unit for unit, _ in jobs]
    if any(call is not None for _, call in jobs):
        send = backend.send  # type: ignore[attr-defined]  # prepared calls come from a backend with send
        return [_outcome(unit, settings, functools.partial(send, call), queued_s, checked=True) for unit, call in jobs]
    many = getattr(backend, "generate_batch", None)
    if len(units) == 1 or many is None:
        return [annotate_unit(backend, unit, settings, queued_s) for unit in units]
    ready = [u for u in units if check_inputs(u, settings) is None]
    try:
        answers = dict(zip((u.key for u in ready), many([u.request(settings) for u in ready])))
    except Exception:
        return [annotate_unit(backend, unit, settings, queued_s) for unit in units]

    def produce(unit: WorkUnit) -> Callable[[], RawOutput]:
        def answer() -> RawOutput:
            found = answers[unit.key]
            if isinstance(found, BaseException):
                raise found
            return found
        return answer

    return [_outcome(unit, settings, produce(unit), queued_s) for unit in units]


def _take_back(inbox: queue.Queue) -> int:
    """Remove the queued groups no worker has started; return how many units they held."""
    count = 0
    while True:
        try:
            job = inbox.get_nowait()
        except queue.Empty:
            return count
        count += len(job[0])


class _Stop:
    """A worker met :class:`ServersUnavailable`: its units stay undone."""

    def __init__(self, reason: str, count: int) -> None:
        self.reason, self.count = reason, count


def _worker(backend: ModelBackend, settings: JobSettings, inbox: queue.Queue, outbox: queue.Queue,
            cancel: threading.Event | None = None) -> None:
    with interruptible(cancel):  # a cancel reaches the call this worker is waiting on, not only the next one
        _work(backend, settings, inbox, outbox, cancel)


def _work(backend: ModelBackend, settings: JobSettings, inbox: queue.Queue, outbox: queue.Queue,
          cancel: threading.Event | None) -> None:
    while True:
        job = inbox.get()
        if job is None:
            return
        jobs, submitted = job
        try:
            outcomes = _annotate_group(backend, jobs, settings, time.perf_counter() - submitted)
        except ServersUnavailable as exc:
            outbox.put(_Stop(str(exc), len(jobs)))
            continue
        for (unit, _), outcome in zip(jobs, outcomes):
            stopped = cancel is not None and cancel.is_set() and isinstance(outcome, UnitError)
            # stopped by the cancel: not the item's failure (None); the next run does it
            outbox.put((unit, None if stopped else outcome))


def run_batch(
    units: Iterable[WorkUnit],
    backend: ModelBackend,
    sink: Any,
    settings: JobSettings,
    *,
    concurrency: int = 1,
    batch_size: int = 1,
    total: int | None = None,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    poll_s: float = 0.1,
) -> BatchSummary:
    """Annotate ``units`` with at most ``concurrency`` calls in flight; store each in ``sink``.

    ``total`` (the number of units, when the source knows it) feeds the ETA. ``on_progress``
    is called from this thread after every unit stored or skipped.
    """
    if concurrency < 1 or batch_size < 1:
        raise WorkbenchError(f"concurrency and batch size must be at least 1, got {concurrency} and {batch_size}")
    ledger = BatchLedger(sink, settings, total=total, on_progress=on_progress)
    inbox: queue.Queue = queue.Queue()
    outbox: queue.Queue = queue.Queue()
    workers = [
        threading.Thread(target=_worker, args=(backend, settings, inbox, outbox, cancel), name=f"batch-worker-{n}",
                         daemon=True)
        for n in range(concurrency)
    ]
    for worker in workers:
        worker.start()
    source = iter(units)
    in_flight = 0
    exhausted = False
    stopped: str | None = None

    prepare = getattr(backend, "prepare", None) if hasattr(backend, "send") and batch_size == 1 else None

    def ready(unit: WorkUnit) -> tuple[WorkUnit, Any] | None:
        """The unit with its prepared call (or None: not prepared here); a unit that cannot go is recorded."""
        if prepare is None:
            return unit, None
        problem = check_inputs(unit, settings)
        if problem is None:
            try:
                return unit, prepare(unit.request(settings))
            except (WorkbenchError, ValueError) as exc:
                problem = UnitError(settings.key(unit.prompt), str(exc), "input")
        ledger.record(unit, problem)
        return None

    def next_group() -> list[tuple[WorkUnit, Any]] | None:
        """Up to ``batch_size`` jobs; None when the source is exhausted."""
        group: list[tuple[WorkUnit, Any]] = []
        while len(group) < batch_size:
            unit = next(source, None)
            if unit is None:
                return group or None
            if ledger.admit(unit):
                job = ready(unit)
                if job is not None:
                    group.append(job)
        return group

    try:
        while True:
            cancelled = cancel is not None and cancel.is_set()
            if cancelled and stopped is None:
                stopped = "cancelled"
            if stopped is not None:
                in_flight -= _take_back(inbox)
            while not exhausted and stopped is None and in_flight < 2 * concurrency * batch_size:
                group = next_group()
                if group is None:
                    exhausted = True
                    break
                if group:
                    inbox.put((group, time.perf_counter()))
                    in_flight += len(group)
            if in_flight == 0:
                break
            try:
                item = outbox.get(timeout=poll_s)
            except queue.Empty:
                continue
            if isinstance(item, _Stop):
                in_flight -= item.count
                stopped = stopped or f"no server answered ({item.reason})"
                continue
            in_flight -= 1
            unit, outcome = item
            if outcome is not None:
                ledger.record(unit, _parsed(outcome, settings))
    finally:
        for _ in workers:
            inbox.put(None)
    return ledger.summary(stopped)

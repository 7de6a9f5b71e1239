"""Batches started from the app: they run in the server, outlive the browser tab, and report through the store.

A job is a row of the store's ``jobs`` table (state, counts, a message) and a thread in this process
running :func:`~workbench.batch.run_batch` over the dataset's items with the store as its sink. A
page reads the row to show progress, whenever it is opened; a cancel is a flag on the row (so
another process can ask too) that the thread sees between items. When the app restarts, jobs it
left running are marked ``interrupted``: starting the same job again skips every item already
annotated with the same settings.

>>> from workbench.batch.jobs import JobRunner, JobRequest
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from workbench.backends.base import DEFAULT_TOP_LOGPROBS
from workbench.backends.deadline import interruptible
from workbench.batch.dataset import StoreSink, units_from_items
from workbench.batch.geometry_check import check_server_geometry
from workbench.batch.orchestrator import Ask, BatchRequest, run_units
from workbench.batch.progress import BatchProgress
from workbench.batch.units import JobSettings
from workbench.confidence.scoring import refit
from workbench.errors import USER_ERRORS, WorkbenchError
from workbench.run_settings import (
    DEFAULT_MAX_NEW_TOKENS,
    Generation,
    ModelSource,
    Reading,
    RunSettings,
)
from workbench.store import ItemFilter, Job

__all__ = ["AGAIN", "JobRequest", "JobRunner", "describe"]

AGAIN = "press Start again to go on (items already done are skipped)"
"""How a job stopped early goes on: from the page, not from a command line."""


@dataclass(frozen=True)
class JobRequest(BatchRequest):
    """What a person asked for on the Batch page (plain data, stored with the job): the model and server of a
    :class:`~workbench.batch.orchestrator.BatchRequest`, what to find, on which items, with which limits."""

    model: str = ""
    prompt: str = ""
    labels: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ("new",)
    min_pixels: int | None = None
    max_pixels: int | None = None
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    filter: dict[str, Any] = field(default_factory=dict)

    def claim(self) -> str:
        """What makes two jobs on one dataset the same work: the model, server and what is asked (not how many
        requests at once, nor which statuses: items one job annotates the other would annotate again)."""
        import hashlib
        import json

        same = {k: v for k, v in asdict(self).items() if k not in ("concurrency", "geometry_check", "statuses",
                                                                     "filter")}
        return hashlib.sha256(json.dumps(same, sort_keys=True).encode()).hexdigest()[:16]

    @property
    def ask(self) -> Ask:
        """What each item asks (:class:`workbench.batch.orchestrator.Ask`)."""
        return Ask(self.prompt, self.labels)

    def run_settings(self, dataset: Reading, family: str) -> RunSettings:
        """This request on a dataset whose reading is ``dataset``, answered by a model of ``family``: the pixel
        limits asked for, else the dataset's when the model is of its family (Review's "Use these for the
        dataset", as its item runs use them), else the model's own; the dataset's keys and convention."""
        if self.min_pixels or self.max_pixels:
            reading = replace(dataset, min_pixels=self.min_pixels, max_pixels=self.max_pixels)
        elif dataset.family == family:
            reading = dataset
        else:
            reading = replace(dataset, min_pixels=None, max_pixels=None)
        return RunSettings(self.source, reading, Generation(self.max_new_tokens, logprobs=DEFAULT_TOP_LOGPROBS))

    @property
    def source(self) -> ModelSource:
        """Which model answers (:class:`workbench.run_settings.ModelSource`)."""
        return ModelSource(self.backend, self.model, (self.base_url,) if self.base_url else ())

    def check(self) -> None:
        self.ask.check()
        if not self.statuses:
            raise WorkbenchError("choose which items to run on (new, pre-annotated...)")
        super().check()


class JobRunner:
    """The app's running jobs: one thread each, backends from ``backend_for`` (the deployment's gate)."""

    def __init__(self, store_for: Callable[[], Any], backend_for: Callable[..., Any]) -> None:
        self._store_for = store_for
        self._backend_for = backend_for
        self._events: dict[int, threading.Event] = {}
        self._lock = threading.Lock()

    def start(self, dataset: int, request: JobRequest) -> int:
        """Create the job and start it; returns its id (the page polls the store for its progress)."""
        request.check()
        store = self._store_for()
        flt = ItemFilter(**request.filter) if request.filter else ItemFilter()
        ids, _ = units_from_items(store, dataset, statuses=request.statuses, filter=flt)
        if not ids:
            raise WorkbenchError(f"no {' or '.join(request.statuses)} items to run on in this dataset"
                                 + (" with this filter" if request.filter else ""))
        job_id = store.claim_job(dataset, "annotate", asdict(request), len(ids), claim=request.claim())
        cancel = threading.Event()
        with self._lock:
            self._events[job_id] = cancel
        thread = threading.Thread(target=self._run, args=(job_id, dataset, request, flt, cancel),
                                  name=f"batch-job-{job_id}", daemon=True)
        thread.start()
        return job_id

    def cancel(self, job_id: int) -> None:
        self._store_for().cancel_job(job_id)
        with self._lock:
            event = self._events.get(job_id)
        if event is not None:
            event.set()

    def running(self, job_id: int) -> bool:
        with self._lock:
            return job_id in self._events

    def _run(self, job_id: int, dataset: int, request: JobRequest, flt: ItemFilter, cancel: threading.Event) -> None:
        with interruptible(cancel):  # Cancel stops a call that is waiting (the geometry check, a slow server)
            self._run_job(job_id, dataset, request, flt, cancel)

    def _run_job(self, job_id: int, dataset: int, request: JobRequest, flt: ItemFilter,
                 cancel: threading.Event) -> None:
        store = self._store_for()
        try:
            store.update_job(job_id, state="running", message="starting the model…")
            backend = self._backend_for(request.backend, **request.source.backend_options())
            run = request.run_settings(Reading.from_dataset(store.dataset_settings(dataset)), backend.family().name)
            settings = JobSettings.for_run(backend, run)
            if not request.local and request.geometry_check:
                store.update_job(job_id, message="checking how the server resizes images…")
                check_server_geometry(backend, settings.limits)
            _, units = units_from_items(store, dataset, statuses=request.statuses, filter=flt)
            last = [0.0]

            def progress(p: BatchProgress) -> None:
                now = time.monotonic()
                if now - last[0] >= 0.5 or p.remaining == 0:
                    last[0] = now
                    eta = "" if p.eta_s is None else f", about {int(p.eta_s)} s left"
                    store.update_job(job_id, done=p.written + p.skipped, failed=p.failed,
                                     message=f"{p.rate:.2f} items/s{eta}")
                    if store.job(job_id).cancel:
                        cancel.set()

            summary = run_units(units, backend, StoreSink(store, dataset), settings, ask=request.ask,
                                local=request.local, concurrency=request.concurrency,
                                total=store.job(job_id).total, on_progress=progress, cancel=cancel)
            state = "cancelled" if summary.stopped == "cancelled" else ("done" if summary.complete else "failed")
            calibrated = refit(store, dataset).message  # after each batch: the new boxes get the dataset's scores
            store.update_job(job_id, state=state, done=summary.written + summary.skipped, failed=summary.failed,
                             message="; ".join([*summary.lines(shown_failures=3, again=AGAIN), calibrated]))
        except USER_ERRORS as exc:
            state = "cancelled" if cancel.is_set() else "failed"
            store.update_job(job_id, state=state, message="cancelled before any item ran" if cancel.is_set()
                             else str(exc))
        except Exception as exc:
            store.update_job(job_id, state="failed", message=f"unexpected error ({type(exc).__name__}: {exc})")
        finally:
            with self._lock:
                self._events.pop(job_id, None)


def describe(job: Job) -> str:
    """One line for the page: state, counts, the last message."""
    total, done, failed = job.total, job.done, job.failed
    share = f" ({done / total:.0%})" if total else ""
    text = f"Job {job.id}: {job.state} · {done} of {total} item(s) done{share}"
    if failed:
        text += f", {failed} failed (each item says why)"
    if job.message:
        text += f" · {job.message}"
    return text


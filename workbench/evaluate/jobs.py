"""Evaluations started from the app: a thread each, progress and cancel through the store's ``jobs`` row.

Like a batch job (:mod:`workbench.batch.jobs`), an evaluation runs in the server, outlives the browser tab
and reports through the store: the job row says how many answers of how many are in (all cells together)
and which cell runs; each cell's state and metrics are on the evaluation itself. Cancelling stops after
the answers in flight; starting the same grid again resumes it.

>>> from workbench.evaluate.jobs import EvalRunner
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from workbench.batch.orchestrator import BatchRequest
from workbench.batch.progress import BatchProgress
from workbench.errors import USER_ERRORS, WorkbenchError
from workbench.evaluate.grid import EvalGrid, EvalSetup, served_family
from workbench.evaluate.runner import plan_evaluation, run_evaluation
from workbench.run_settings import Reading
from workbench.store import Evaluation, EvaluationCell, Job

__all__ = ["EVAL_JOB", "EvalRequest", "EvalRunner", "latest_eval_job"]

EVAL_JOB = "eval"


@dataclass(frozen=True)
class EvalRequest(BatchRequest):
    """How the app runs an evaluation's cells (what is measured is the :class:`EvalGrid`): the model server of a
    :class:`~workbench.batch.orchestrator.BatchRequest`, a served model's family, and whether to start afresh."""

    family: str = ""
    """A served model's family when its name does not tell ('' : from the name, else the dataset's family)."""
    fresh: bool = False


def latest_eval_job(jobs: list[Job]) -> Job | None:
    return next((job for job in jobs if job.kind == EVAL_JOB), None)


class EvalRunner:
    """The app's running evaluations: one thread each, backends from ``backend_for`` (the deployment's gate)."""

    def __init__(self, store_for: Callable[[], Any], backend_for: Callable[..., Any]) -> None:
        self._store_for = store_for
        self._backend_for = backend_for
        self._events: dict[int, threading.Event] = {}
        self._lock = threading.Lock()

    def start(self, dataset: int, grid: EvalGrid, request: EvalRequest) -> tuple[Evaluation, int]:
        """Plan the evaluation (refused in words before anything runs when there is nothing to measure), start
        its thread; the evaluation and the job id the page polls."""
        request.check()
        store = self._store_for()
        evaluation = plan_evaluation(store, dataset, grid, fresh=request.fresh)
        running = [job for job in store.jobs(dataset, limit=20) if job.kind == EVAL_JOB and job.active
                   and job.settings.get("evaluation") == evaluation.id]
        if running:
            raise WorkbenchError(f"evaluation {evaluation.id} is already running (job {running[0].id})")
        todo = [cell for cell in evaluation.cells if cell.state != "done"]
        job_id = store.create_job(dataset, EVAL_JOB, {"evaluation": evaluation.id, "grid": grid.as_dict(),
                                                      "backend": request.backend, "concurrency": request.concurrency},
                                  len(evaluation.items) * len(todo))
        cancel = threading.Event()
        with self._lock:
            self._events[job_id] = cancel
        threading.Thread(target=self._run, args=(job_id, evaluation, request, cancel), name=f"eval-job-{job_id}",
                         daemon=True).start()
        return evaluation, job_id

    def cancel(self, job_id: int) -> None:
        self._store_for().cancel_job(job_id)
        with self._lock:
            event = self._events.get(job_id)
        if event is not None:
            event.set()

    def _open(self, request: EvalRequest, dataset_family: str) -> Callable[[EvalSetup], Any]:
        def open_cell(setup: EvalSetup) -> Any:
            options: dict[str, Any] = {"model": setup.model} if setup.model else {}
            if request.backend == "openai":
                if request.base_url:
                    options["base_url"] = request.base_url
                options["family"] = served_family(setup.model, request.family, dataset_family)
            return self._backend_for(request.backend, **options)
        return open_cell

    def _run(self, job_id: int, evaluation: Evaluation, request: EvalRequest, cancel: threading.Event) -> None:
        store = self._store_for()
        items = len(evaluation.items)
        finished = [0]  # answers of the cells already over
        last = [0.0]

        def progress(cell: EvaluationCell, p: BatchProgress) -> None:
            now = time.monotonic()
            if now - last[0] >= 0.5 or p.remaining == 0:
                last[0] = now
                eta = "" if p.eta_s is None else f", about {int(p.eta_s)} s left in this cell"
                store.update_job(job_id, done=finished[0] + p.processed + p.skipped, failed=p.failed,
                                 message=f"cell {cell.position} of {len(evaluation.cells)}: "
                                         f"{EvalSetup.from_dict(cell.settings).describe()} · {p.rate:.2f} items/s{eta}")
                if store.job(job_id).cancel:
                    cancel.set()

        def cell_over(cell: EvaluationCell) -> None:
            finished[0] += items
            store.update_job(job_id, done=finished[0], message=f"cell {cell.position} {cell.state}")

        try:
            store.update_job(job_id, state="running", message="starting…")
            family = Reading.from_dataset(store.dataset_settings(evaluation.dataset_id)).family
            ended = run_evaluation(store, evaluation.id, self._open(request, family), concurrency=1 if request.backend ==
                                   "local" else request.concurrency, geometry_check=request.geometry_check and
                                   request.backend == "openai", on_progress=progress, on_cell=cell_over, cancel=cancel)
            states = [cell.state for cell in ended.cells]
            if cancel.is_set() and ended.state != "done":
                state, message = "cancelled", "cancelled: start the same evaluation again to go on"
            elif all(s == "done" for s in states):
                state, message = "done", f"evaluation {ended.id}: every cell measured"
            else:
                state = "failed"
                message = f"evaluation {ended.id}: {states.count('done')} of {len(states)} cell(s) measured; " + \
                    "; ".join(f"cell {c.position}: {c.error}" for c in ended.cells if c.state != "done")[:600]
            store.update_job(job_id, state=state, message=message)
        except USER_ERRORS as exc:
            store.update_job(job_id, state="failed", message=str(exc))
        except Exception as exc:
            store.update_job(job_id, state="failed", message=f"unexpected error ({type(exc).__name__}: {exc})")
        finally:
            with self._lock:
                self._events.pop(job_id, None)

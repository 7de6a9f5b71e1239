"""Running an evaluation: each cell of the grid is a batch (the same runner, sinks, progress and engines as
``annotate``) into its own eval run, then measured against the accepted boxes.

1. :func:`plan_evaluation` fixes what is measured before anything runs: the accepted items of the split
   (refused in words when there are none), or the unfinished evaluation of the same grid, to resume it.
2. :func:`run_evaluation` runs every cell not done yet, one after the other. A cell whose model cannot be
   reached (or whose server resizes images otherwise than asked) fails with the reason and the next cell
   runs; a cancel or Ctrl-C leaves whole answers behind and the next run of the same grid resumes where it
   stopped (each cell's run skips the items it already answered).

Each cell's run is an ``eval`` run with its evaluation and cell in its settings, next to the model, family,
pixel limits, prompt template and generation limits, and every item's question in its stats: the same
model re-evaluated later (a new checkpoint under the same served name) is a new run, never mistaken for
this one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from workbench.backends.base import ModelBackend
from workbench.batch import BatchProgress, JobSettings, WorkUnit
from workbench.batch.geometry_check import check_server_geometry
from workbench.batch.orchestrator import run_units
from workbench.errors import USER_ERRORS, StoreError, WorkbenchError
from workbench.evaluate.grid import EvalGrid, EvalSetup, item_prompt
from workbench.evaluate.measure import measure_run
from workbench.evaluate.sink import EvalSink
from workbench.run_settings import DEFAULT_CONCURRENCY, Generation, Reading, RunSettings
from workbench.store import DatasetRef, DatasetStore, Evaluation, EvaluationCell, ItemFilter

__all__ = ["BackendOpener", "CellProgress", "eval_units", "plan_evaluation", "run_evaluation"]

BackendOpener = Callable[[EvalSetup], ModelBackend]
"""Opens the backend a cell runs on (a server pool, a gated app backend, the local model)."""
CellProgress = Callable[[EvaluationCell, BatchProgress], None]


def _no_items_message(store: DatasetStore, dataset: DatasetRef, split: str) -> str:
    record = store.dataset(dataset)
    where = f"the {split} split of {record.name!r}" if split else repr(record.name)
    accepted = store.split_counts(dataset, status="accepted")
    counts = ", ".join(f"{n} in {s or 'no split'}" for s, n in accepted.items() if n) or "none at all"
    return (f"no accepted item in {where} to evaluate on (accepted items: {counts}); accept items in Review, "
            "import reviewed data with --status accepted, or choose another split")


def plan_evaluation(store: DatasetStore, dataset: DatasetRef, grid: EvalGrid, *, fresh: bool = False) -> Evaluation:
    """The evaluation to run: the unfinished one of the same grid (its item list as it was), else a new one of
    the split's accepted items. Raises before anything runs when there is no accepted item to measure."""
    if not fresh:
        found = store.unfinished_evaluation(dataset, grid.split, grid.as_dict())
        if found is not None:
            return found
    ids = store.item_ids(dataset, ItemFilter(status="accepted", split=grid.split or None))
    if not ids:
        raise WorkbenchError(_no_items_message(store, dataset, grid.split))
    return store.create_evaluation(dataset, grid.split, grid.as_dict(), ids, [s.as_dict() for s in grid.setups()])


def _labels_in(store: DatasetStore, evaluation: Evaluation) -> list[str]:
    wanted = set(evaluation.items)
    labels: dict[str, None] = {}
    for item in store.items(evaluation.dataset_id):
        if item.id in wanted:
            labels.update(dict.fromkeys(a.label for a in item.annotations if a.kind == "box"))
    return list(labels)


def eval_units(store: DatasetStore, evaluation: Evaluation, family: Any, template: str | None) -> Iterator[WorkUnit]:
    """The evaluation's items still there, each with its question, read one at a time."""
    every_label = _labels_in(store, evaluation)
    for item_id in evaluation.items:
        try:
            item = store.item(item_id)
        except StoreError:
            continue  # deleted since the evaluation was made: nothing to measure
        labels = list(dict.fromkeys(a.label for a in item.annotations if a.kind == "box")) or every_label
        ids = tuple(image.image_id for image in item.images)
        yield WorkUnit(str(item.id), tuple(Path(image.file) for image in item.images), ids,
                       item_prompt(template, family, labels, ids))


def _run_settings(evaluation: Evaluation, cell: EvaluationCell, setup: EvalSetup, settings: JobSettings) -> dict:
    return {"evaluation": evaluation.id, "cell": cell.position, "split": evaluation.split,
            "prompt_template": setup.prompt, "min_pixels": settings.limits.min_pixels,
            "max_pixels": settings.limits.max_pixels, "max_new_tokens": settings.max_new_tokens,
            "temperature": settings.temperature, "source": "eval",
            **({"coordinate_keys": list(settings.coordinate_keys)} if settings.coordinate_keys else {})}


def _run_cell(store: DatasetStore, evaluation: Evaluation, cell: EvaluationCell, grid: EvalGrid,
              open_backend: BackendOpener, *, engine: str, concurrency: int, geometry_check: bool,
              coordinate_keys: Sequence[str] | None, on_progress: CellProgress | None,
              cancel: threading.Event | None) -> str:
    """Run and measure one cell; its final state."""
    setup = EvalSetup.from_dict(cell.settings)
    store.update_evaluation_cell(cell.id, state="running", error="")
    try:
        backend = open_backend(setup)
        family = backend.family()
        keys = tuple(coordinate_keys) if coordinate_keys is not None else \
            Reading.from_dataset(store.dataset_settings(evaluation.dataset_id)).coordinate_keys
        reading = Reading(family.name, grid.min_pixels, setup.max_pixels, tuple(keys))
        settings = JobSettings.for_run(backend, RunSettings(reading=reading,
                                                            generation=Generation(max_new_tokens=grid.max_new_tokens)))
        if geometry_check:
            check_server_geometry(backend, settings.limits)
        run = store.run(evaluation.dataset_id, model=settings.model, family=family.name,
                        settings=_run_settings(evaluation, cell, setup, settings), kind="eval")
        store.update_evaluation_cell(cell.id, run_id=run.id)
        units = eval_units(store, evaluation, family, setup.prompt)
        progress = (lambda p: on_progress(store.evaluation_cell(cell.id), p)) if on_progress else None
        summary = run_units(units, backend, EvalSink(store, run.id), settings, engine=engine, concurrency=concurrency,
                            total=len(evaluation.items), on_progress=progress, cancel=cancel)
    except KeyboardInterrupt:
        store.update_evaluation_cell(cell.id, state="interrupted", error="interrupted: run the same evaluation "
                                                                          "again to go on (answered items are kept)")
        raise
    except USER_ERRORS as exc:
        store.update_evaluation_cell(cell.id, state="failed", error=str(exc))
        return "failed"
    if summary.stopped == "cancelled":
        store.update_evaluation_cell(cell.id, state="cancelled", error="cancelled: run the same evaluation again "
                                                                       "to go on (answered items are kept)")
        return "cancelled"
    if summary.stopped:
        store.update_evaluation_cell(cell.id, state="failed", error=f"stopped early: {summary.stopped}")
        return "failed"
    metrics = measure_run(store, evaluation, run.id)
    if not metrics["answered"]:
        reason = summary.failures[0][1] if summary.failures else "the model answered no item"
        store.update_evaluation_cell(cell.id, state="failed", metrics=metrics, error=f"no item answered: {reason}")
        return "failed"
    failed = f"{summary.failed} item(s) got no answer (each says why in the error browser)" if summary.failed else ""
    store.update_evaluation_cell(cell.id, state="done", metrics=metrics, error=failed)
    return "done"


def run_evaluation(store: DatasetStore, evaluation_id: int, open_backend: BackendOpener, *, engine: str = "threads",
                   concurrency: int = DEFAULT_CONCURRENCY, geometry_check: bool = True, coordinate_keys: Sequence[str] | None = None,
                   on_progress: CellProgress | None = None, on_cell: Callable[[EvaluationCell], None] | None = None,
                   cancel: threading.Event | None = None) -> Evaluation:
    """Run every cell of the evaluation that is not done (in order); returns the evaluation as it ends.

    ``geometry_check`` probes each cell's server before its batch (servers only); ``coordinate_keys`` are the
    extra JSON keys answers are read under (default: the dataset's). ``on_progress`` gets the cell
    and the batch's progress after every item; ``on_cell`` each cell as it ends. A cancel stops after the items
    in flight and leaves the remaining cells queued.
    """
    if engine not in ("threads", "ray"):
        raise WorkbenchError(f"engine must be threads or ray, got {engine!r}")
    evaluation = store.evaluation(evaluation_id)
    grid = EvalGrid.from_dict(evaluation.settings)
    for cell in evaluation.cells:
        if cell.state == "done":
            continue
        if cancel is not None and cancel.is_set():
            break
        state = _run_cell(store, evaluation, cell, grid, open_backend, engine=engine, concurrency=concurrency,
                          geometry_check=geometry_check, coordinate_keys=coordinate_keys, on_progress=on_progress,
                          cancel=cancel)
        if on_cell is not None:
            on_cell(store.evaluation_cell(cell.id))
        if state == "cancelled":
            break
    return store.evaluation(evaluation_id)


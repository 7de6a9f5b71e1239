"""A batch over a dataset: its items as work units, and the store as the sink (one item per transaction).

The results land exactly as a run from the review screen does (:meth:`DatasetStore.record_proposals`):
on an item nobody has worked on, the model's boxes become its annotations (``pre-annotated``); on
one a person touched, they are kept beside the person's work. A failure is written on the item
(and the batch goes on). Re-running skips every item already annotated with the same settings.

>>> from workbench.batch.dataset import StoreSink, units_from_items
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from grounding.parse import ParseResult
from workbench.batch.results import UnitError, UnitResult
from workbench.batch.units import WorkUnit
from workbench.confidence.scoring import dataset_scorer
from workbench.runs.items import answer_notes, drafts_with_signals
from workbench.store import DatasetRef, DatasetStore, ItemFilter

__all__ = ["StoreSink", "units_from_items"]


def units_from_items(store: DatasetStore, dataset: DatasetRef, *, statuses: Sequence[str] | None = None,
                     filter: ItemFilter | None = None,
                     item_ids: Sequence[int] | None = None) -> tuple[list[int], Iterator[WorkUnit]]:
    """The chosen items' ids in queue order (for the count) and their work units, read one item at a time.

    ``item_ids`` picks items by hand; otherwise the items matching ``filter`` whose status is one of
    ``statuses`` (all statuses when not given).
    """
    if item_ids is not None:
        ids = list(item_ids)
    else:
        flt = filter or ItemFilter()
        ids = store.item_ids(dataset, replace(flt, status=None) if statuses else flt)
        if statuses:
            chosen = {i for s in statuses for i in store.item_ids(dataset, replace(flt, status=s))}
            ids = [i for i in ids if i in chosen]

    def units() -> Iterator[WorkUnit]:
        for item_id in ids:
            item = store.item(item_id)
            yield WorkUnit(str(item.id), tuple(Path(image.file) for image in item.images),
                           tuple(image.image_id for image in item.images))

    return ids, units()


class StoreSink:
    """Writes each unit's result to its item; ``unit_key`` is the item id."""

    def __init__(self, store: DatasetStore, dataset: DatasetRef) -> None:
        self.store = store
        self.dataset_id = store.dataset(dataset).id

    def _run(self, result: UnitResult):
        settings = {"settings_key": result.settings_key, "prompt": result.prompt, "source": "batch",
                    "min_pixels": result.limits.min_pixels, "max_pixels": result.limits.max_pixels}
        return self.store.run(self.dataset_id, model=result.model, family=result.family, settings=settings)

    def done(self, unit_key: str, settings_key: str) -> bool:
        return self.store.run_done_with(int(unit_key), "settings_key", settings_key)

    def write(self, result: UnitResult) -> None:
        item = self.store.item(int(result.unit_key))
        detections = tuple(d for image in result.images for d in image.detections)
        signals = [dict(s) for image in result.images for s in image.signals]
        known = {label.name for label in self.store.labels(self.dataset_id, counts=False)}
        for detection, found in zip(detections, signals):
            found["unknown_label"] = bool(known) and detection.label not in known
        score, _ = dataset_scorer(self.store, self.dataset_id)
        per_image, per_image_signals, warnings = drafts_with_signals(
            ParseResult(detections), [image.wh for image in item.images], signals, score=score)
        run = self._run(result)
        notes = tuple(n for n in answer_notes(result.text, signals, False) if n not in result.warnings)
        self.store.record_proposals(run.id, item.id, per_image, text=result.text,
                                    warnings=(*result.warnings, *notes, *warnings), signals=per_image_signals)

    def fail(self, unit: WorkUnit, error: UnitError) -> None:
        self.store.record_failure(None, int(unit.key), f"{error.stage}: {error.message}")

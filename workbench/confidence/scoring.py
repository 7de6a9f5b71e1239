"""A dataset's confidence: the signals of an answer's boxes, the score they get, and refitting the calibration.

The dataset's settings hold, under ``confidence``, either a fitted :class:`~workbench.confidence.calibration.Calibration`
(``{"calibrated": true, ...}``) or how far it is from one (``{"calibrated": false, "reviewed_items": 12,
"needed": 30}``). :func:`dataset_scorer` scores new proposals with whichever there is; :func:`refit` fits
again from the store's reviews and rescores every proposal (on demand, and after each batch).

>>> import tempfile
>>> from pathlib import Path
>>> from workbench.store import DatasetStore
>>> store = DatasetStore(Path(tempfile.mkdtemp()) / "db.sqlite3")
>>> report = refit(store, store.create_dataset("pets").id)
>>> report.calibrated, report.message
(False, 'Ordered by the raw signal (not calibrated yet): 0 of 30 reviewed items needed to calibrate.')
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from grounding import ProcessedImage
from grounding.confidence import box_signals, raw_score
from grounding.confidence.tokens import TokenLogprob
from grounding.parse import Detection
from workbench.confidence.calibration import MIN_REVIEWED_ITEMS, Calibration, ReviewedBox, fit
from workbench.store import DatasetRef, DatasetStore

__all__ = ["SETTINGS_KEY", "RefitReport", "answer_signals", "dataset_calibration", "dataset_scorer", "refit",
           "status_text"]

SETTINGS_KEY = "confidence"
"""Where a dataset's settings keep its calibration (or its progress towards one)."""

Scorer = Callable[[Mapping[str, Any]], float]


def answer_signals(text: str, detections: Sequence[Detection], images: Sequence[ProcessedImage], *,
                   tokens: Sequence[TokenLogprob] | None = None, finish_reason: str = "stop",
                   labels: Sequence[str] = ()) -> list[dict[str, Any]]:
    """:func:`grounding.confidence.box_signals`, plus ``unknown_label`` when the dataset has a label set and
    the box's label is not in it."""
    out = box_signals(text, detections, images, tokens=tokens, finish_reason=finish_reason)
    known = set(labels)
    for detection, signals in zip(detections, out):
        signals["unknown_label"] = bool(known) and detection.label not in known
    return out


def dataset_calibration(store: DatasetStore, dataset: DatasetRef) -> Calibration | None:
    """The dataset's fitted calibration, or None (not enough reviews yet, or never fitted)."""
    state = store.dataset_settings(dataset).get(SETTINGS_KEY)
    if not isinstance(state, Mapping) or not state.get("calibrated"):
        return None
    return Calibration.from_dict(state)


def dataset_scorer(store: DatasetStore, dataset: DatasetRef) -> tuple[Scorer, bool]:
    """The function that scores a box's signals for this dataset, and whether it is calibrated."""
    calibration = dataset_calibration(store, dataset)
    return (calibration.score, True) if calibration is not None else (raw_score, False)


@dataclass(frozen=True)
class RefitReport:
    calibrated: bool
    reviewed_items: int
    rescored: int
    calibration: Calibration | None
    message: str


def refit(store: DatasetStore, dataset: DatasetRef, *, clock: Callable[[], str] | None = None) -> RefitReport:
    """Fit the calibration again from the dataset's reviews (when there are enough) and rescore every proposal."""
    rows = [ReviewedBox(item, signals, survived) for item, signals, survived in store.reviewed_boxes(dataset)]
    items = len({row.item for row in rows})
    if items < MIN_REVIEWED_ITEMS:
        store.update_dataset_settings(dataset, {SETTINGS_KEY: {"calibrated": False, "reviewed_items": items,
                                                               "needed": MIN_REVIEWED_ITEMS}})
        rescored = store.rescore(dataset, raw_score)
        return RefitReport(False, items, rescored, None, _raw_message(items))
    calibration = fit(rows, fitted_at=(clock or store.db.clock)())
    store.update_dataset_settings(dataset, {SETTINGS_KEY: {"calibrated": True, **calibration.as_dict()}})
    rescored = store.rescore(dataset, calibration.score)
    return RefitReport(True, items, rescored, calibration,
                       f"Scores are P(the box survives review), {calibration.summary()}.")


def _raw_message(items: int) -> str:
    return (f"Ordered by the raw signal (not calibrated yet): {items} of {MIN_REVIEWED_ITEMS} reviewed items needed "
            "to calibrate.")


def status_text(store: DatasetStore, dataset: DatasetRef) -> str:
    """What the pages say about the dataset's scores: calibrated (with its held-out figures) or raw."""
    state = store.dataset_settings(dataset).get(SETTINGS_KEY)
    calibration = dataset_calibration(store, dataset)
    if calibration is not None:
        return f"Scores are P(the box survives review), {calibration.summary()}."
    items = int(state.get("reviewed_items") or 0) if isinstance(state, Mapping) else 0
    return _raw_message(items)

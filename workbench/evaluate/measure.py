"""An eval run against the accepted boxes: the cases :mod:`grounding.evaluation` scores, read from the store.

The truth is each item's boxes as they are now (points are not measured); the answer is what the
run stored for the item (its proposals, scores when every box has one, and the stats its sink kept).
Items of the evaluation deleted since are left out; an item the run has no answer for counts as an
error (no answer), like one whose request failed.

>>> from workbench.evaluate.measure import measure_run, scored_run
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from grounding.evaluation import EvalCase, PictureBoxes, ScoredCases, compute_metrics, score_cases
from workbench.store import DatasetStore, Evaluation, Item, RunAnswer

__all__ = ["ItemOutcome", "cases_for", "item_outcomes", "measure_run", "scored_run"]


def _truth(item: Item) -> tuple[PictureBoxes, ...]:
    return tuple(PictureBoxes(tuple(a.coords for a in image.boxes), tuple(a.label for a in image.boxes))  # type: ignore[misc]  # box coords are 4-tuples by the store's check
                 for image in item.images)


def _answer(item: Item, answer: RunAnswer) -> tuple[PictureBoxes, ...]:
    pictures = []
    for n in range(len(item.images)):
        boxes = [p for p in (answer.proposals[n] if n < len(answer.proposals) else ()) if p.kind == "box"]
        scores = tuple(float(p.score) for p in boxes if p.score is not None)
        pictures.append(PictureBoxes(tuple(p.coords for p in boxes), tuple(p.label for p in boxes),  # type: ignore[misc]  # box coords are 4-tuples
                                     scores if len(scores) == len(boxes) and boxes else None))
    return tuple(pictures)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) \
        else None


def cases_for(store: DatasetStore, evaluation: Evaluation, run_id: int,
              item_ids: Sequence[int] | None = None) -> tuple[list[Item], list[EvalCase]]:
    """The items still there (of ``item_ids``, default the evaluation's, in that order) and their cases."""
    wanted = list(item_ids if item_ids is not None else evaluation.items)
    present = {item.id: item for item in store.items(evaluation.dataset_id) if item.id in set(wanted)}
    answers = store.run_answers(run_id, wanted)
    items, cases = [], []
    for item_id in wanted:
        item = present.get(item_id)
        if item is None:
            continue
        answer = answers.get(item_id)
        stats = answer.stats if answer is not None else {}
        given = None if answer is None or answer.failed else _answer(item, answer)
        items.append(item)
        cases.append(EvalCase(str(item.id), _truth(item), given, outside=int(stats.get("outside") or 0),
                              truncated=bool(stats.get("truncated")),
                              prompt_tokens=_number(stats.get("prompt_tokens")),  # type: ignore[arg-type]  # stats: JSON
                              output_tokens=_number(stats.get("output_tokens")),  # type: ignore[arg-type]  # stats: JSON
                              seconds=_number(stats.get("seconds"))))
    return items, cases


def scored_run(store: DatasetStore, evaluation: Evaluation, run_id: int,
               item_ids: Sequence[int] | None = None) -> tuple[list[Item], ScoredCases]:
    items, cases = cases_for(store, evaluation, run_id, item_ids)
    return items, score_cases(cases)


def measure_run(store: DatasetStore, evaluation: Evaluation, run_id: int) -> dict[str, Any]:
    """Every metric of the run on the evaluation's items (see :mod:`grounding.evaluation.metrics`)."""
    _, scored = scored_run(store, evaluation, run_id)
    return compute_metrics(scored)


@dataclass(frozen=True)
class ItemOutcome:
    """One item as the error browser lists it: how well the run did, and why not."""

    item_id: int
    quality: float | None
    """Summed best IoU of the truth boxes over max(truth, answer) boxes (1 = perfect; None: no answer)."""
    lowest_iou: float | None
    missed: int
    extra: int
    truth: int
    answered: int
    error: str
    file: str

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def item_outcomes(store: DatasetStore, evaluation: Evaluation, run_id: int, *, limit: int | None = 50) -> list[ItemOutcome]:
    """The run's items worst first: those without an answer, then by quality (lowest IoU, missed and extra boxes
    break ties)."""
    items, scored = scored_run(store, evaluation, run_id)
    answers = store.run_answers(run_id, [item.id for item in items])
    rows = []
    for n, item in enumerate(items):
        answered = bool(scored.item_answered[n])
        quality = float(scored.item_quality[n]) if answered else None
        lowest = float(scored.item_lowest_iou[n]) if answered and not math.isnan(scored.item_lowest_iou[n]) else None
        answer = answers.get(item.id)
        rows.append(ItemOutcome(item.id, quality, lowest, int(scored.item_missed[n]), int(scored.item_extra[n]),
                                int(scored.item_truth[n]), int(scored.item_answer[n]),
                                answer.error if answer is not None else "no answer yet",
                                item.images[0].original_name if item.images else ""))
    rows.sort(key=lambda r: (r.quality is not None, r.quality or 0.0, -(r.missed + r.extra),
                             r.lowest_iou if r.lowest_iou is not None else 0.0, r.item_id))
    return rows if limit is None else rows[:limit]

"""One-to-one matching of two sets of labelled boxes by IoU, label by label.

Used to compare answers: the same images in another order, tiles against a single pass.
Within each label, pairs are chosen by the Hungarian method (``scipy.optimize.linear_sum_assignment``)
to maximise the summed IoU; pairs whose IoU is not above ``min_iou`` are not matches. IoU is
supervision's ``box_iou_batch``.

>>> a = [(0, 0, 10, 10), (20, 20, 30, 30)]
>>> b = [(20, 20, 30, 30), (0, 0, 10, 5)]
>>> [(m.a, m.b, round(m.iou, 2)) for m in match_boxes(a, ["cat", "cat"], b, ["cat", "cat"])]
[(0, 1, 0.5), (1, 0, 1.0)]
>>> agreement(a, ["cat", "cat"], b, ["cat", "dog"])
0.5
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from grounding.errors import GroundingError

__all__ = ["BoxMatch", "iou_matrix", "match_boxes", "agreement", "compare_answers"]

Box = Sequence[float]


@dataclass(frozen=True)
class BoxMatch:
    """Box ``a`` of the first set matched to box ``b`` of the second (indices), and their IoU."""

    a: int
    b: int
    iou: float


def _array(boxes: Sequence[Box]) -> np.ndarray:
    array = np.asarray([tuple(float(v) for v in box) for box in boxes], dtype=np.float64).reshape(-1, 4)
    if not np.all(np.isfinite(array)):
        raise GroundingError("box coordinates must be finite numbers")
    return np.concatenate([np.minimum(array[:, :2], array[:, 2:]), np.maximum(array[:, :2], array[:, 2:])], axis=1)


def iou_matrix(boxes_a: Sequence[Box], boxes_b: Sequence[Box]) -> np.ndarray:
    """IoU of every box of ``boxes_a`` (rows) with every box of ``boxes_b`` (columns), xyxy.

    >>> iou_matrix([(0, 0, 2, 2)], [(1, 0, 3, 2), (5, 5, 6, 6)]).round(3).tolist()
    [[0.333, 0.0]]
    """
    import supervision as sv

    a, b = _array(boxes_a), _array(boxes_b)
    if not len(a) or not len(b):
        return np.zeros((len(a), len(b)))
    return np.nan_to_num(sv.box_iou_batch(a, b).astype(np.float64))


def match_boxes(
    boxes_a: Sequence[Box], labels_a: Sequence[str], boxes_b: Sequence[Box], labels_b: Sequence[str],
    *, min_iou: float = 0.0, by_label: bool = True,
) -> list[BoxMatch]:
    """The best one-to-one pairs with the same label (any label when ``by_label`` is False),
    sorted by ``a``; a pair needs an IoU above ``min_iou``."""
    from scipy.optimize import linear_sum_assignment

    if len(boxes_a) != len(labels_a) or len(boxes_b) != len(labels_b):
        raise GroundingError("give one label per box")
    if not 0.0 <= min_iou < 1.0:
        raise GroundingError(f"min_iou must be in [0, 1), got {min_iou}")
    ious = iou_matrix(boxes_a, boxes_b)
    groups = sorted(set(labels_a) & set(labels_b)) if by_label else [None]
    matches: list[BoxMatch] = []
    for label in groups:
        rows = [i for i, value in enumerate(labels_a) if label is None or value == label]
        cols = [j for j, value in enumerate(labels_b) if label is None or value == label]
        if not rows or not cols:
            continue
        sub = ious[np.ix_(rows, cols)]
        sub = np.where(sub > min_iou, sub, 0.0)  # pairs at or under min_iou are no candidates
        for r, c in zip(*linear_sum_assignment(sub, maximize=True)):
            if sub[r, c] > min_iou:
                matches.append(BoxMatch(rows[r], cols[c], float(sub[r, c])))
    return sorted(matches, key=lambda m: m.a)


def agreement(
    boxes_a: Sequence[Box], labels_a: Sequence[str], boxes_b: Sequence[Box], labels_b: Sequence[str],
    *, min_iou: float = 0.0,
) -> float:
    """Summed IoU of the matched pairs over the larger count: 1.0 for the same boxes, 0.0 for
    nothing in common; an unmatched box counts as IoU 0. Two empty sets agree (1.0).

    >>> agreement([], [], [], []), agreement([(0, 0, 1, 1)], ["a"], [], [])
    (1.0, 0.0)
    """
    larger = max(len(boxes_a), len(boxes_b))
    if larger == 0:
        return 1.0
    return sum(m.iou for m in match_boxes(boxes_a, labels_a, boxes_b, labels_b, min_iou=min_iou)) / larger


def compare_answers(
    boxes_a: Sequence[Box], labels_a: Sequence[str], boxes_b: Sequence[Box], labels_b: Sequence[str],
    *, min_iou: float = 0.3,
) -> dict[str, Any]:
    """Two answers on the same image side by side: matched pairs (IoU above ``min_iou``, same
    label), the boxes only one of them has, and the mean IoU of the pairs (None without pairs).

    >>> compare_answers([(0, 0, 10, 10), (50, 50, 60, 60)], ["a", "a"], [(0, 0, 10, 5)], ["a"])
    {'matched': [{'a': 0, 'b': 0, 'iou': 0.5}], 'only_a': [1], 'only_b': [], 'mean_iou': 0.5}
    """
    pairs = match_boxes(boxes_a, labels_a, boxes_b, labels_b, min_iou=min_iou)
    in_a, in_b = {m.a for m in pairs}, {m.b for m in pairs}
    return {
        "matched": [{"a": m.a, "b": m.b, "iou": m.iou} for m in pairs],
        "only_a": [i for i in range(len(boxes_a)) if i not in in_a],
        "only_b": [j for j in range(len(boxes_b)) if j not in in_b],
        "mean_iou": sum(m.iou for m in pairs) / len(pairs) if pairs else None,
    }

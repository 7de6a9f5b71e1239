"""The metrics of one model setup over scored items, overall and per label, as plain JSON-ready numbers.

``weights`` (one per item, how many times it counts) lets the bootstrap recompute every metric on
a resample without matching again; ``None`` counts each item once. Items without an answer
(``errors``) are left out of every quality metric.

Referring (one target per question; see :mod:`grounding.evaluation.scoring` for what a target is):

- ``acc50`` / ``acc75``: share of targets whose top box has IoU ≥ 0.5 / 0.75 with the truth;
- ``miou``: mean IoU of the top box (0 when there is none);
- ``center_acc``: share of targets whose top box's centre lies inside the truth box.

Detection (all boxes):

- ``map50_95``, ``map50``, ``map75``: COCO average precision (101 recall points, maxDets 100) averaged
  over the labels the truth has — pycocotools' ``COCOeval`` ``stats[0..2]`` on the same boxes and scores;
- ``ar100``: COCO average recall with at most 100 boxes per picture and label (``stats[8]``);
- ``precision``, ``recall``, ``f1``: at IoU 0.5 over all boxes (matched boxes / answer boxes, matched /
  truth boxes, their harmonic mean).

Failures: ``parse_failures`` (answered items with truth boxes where no box could be read),
``duplicates`` (answer boxes repeating a higher-ranked box of their label, IoU ≥ 0.9), ``outside``
(boxes the model placed beyond the image), ``none_accuracy`` (share of items whose accepted answer is
empty that the model also left empty; None without such items), ``truncated`` (answers cut by the token
limit), ``unknown_labels`` (answer boxes whose label no truth box has).

Cost (means over answered items that report them): ``output_tokens``, ``prompt_tokens``,
``seconds_per_item``.

>>> from grounding.evaluation.cases import EvalCase, PictureBoxes
>>> from grounding.evaluation.scoring import score_cases
>>> truth = (PictureBoxes(((0, 0, 10, 10),), ("cat",)),)
>>> found = EvalCase("1", truth, (PictureBoxes(((0, 0, 10, 8),), ("cat",)),), output_tokens=12)
>>> empty = EvalCase("2", (PictureBoxes(),), (PictureBoxes(),))
>>> m = compute_metrics(score_cases([found, empty]))
>>> m["acc50"], m["acc75"], round(m["map50"], 9), m["none_accuracy"], m["output_tokens"]
(1.0, 1.0, 1.0, 1.0, 12.0)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from grounding.evaluation.scoring import ScoredCases

__all__ = ["COUNT_KEYS", "METRIC_KEYS", "RECALL_POINTS", "average_precision", "compute_metrics"]

RECALL_POINTS = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)
"""COCO's 101 recall thresholds, built as COCOeval builds them."""

METRIC_KEYS: tuple[str, ...] = (
    "acc50", "acc75", "miou", "center_acc",
    "map50_95", "map50", "map75", "ar100", "precision", "recall", "f1",
    "parse_failures", "duplicates", "outside", "none_accuracy", "truncated", "unknown_labels",
    "output_tokens", "prompt_tokens", "seconds_per_item",
)
"""Every metric a cell reports, in the order tables show them."""
_INDEX = {0.5: 0, 0.75: 5}


def _ratio(num: float, den: float) -> float | None:
    return float(num / den) if den > 0 else None


def average_precision(tp: np.ndarray, weights: np.ndarray, truth: float) -> tuple[np.ndarray, np.ndarray]:
    """COCOeval's accumulate for one label: (AP per threshold, recall per threshold).

    ``tp`` is (boxes, thresholds) in ranking order, ``weights`` how many times each box counts,
    ``truth`` the (weighted) number of truth boxes (> 0).

    >>> tp = np.array([[True], [False], [True]])
    >>> ap, recall = average_precision(tp, np.ones(3), 2.0)
    >>> round(float(ap[0]), 4), float(recall[0])
    (0.835, 1.0)
    """
    keep = weights > 0
    tp, weights = tp[keep], weights[keep]
    thresholds = tp.shape[1]
    if not len(tp):
        return np.zeros(thresholds), np.zeros(thresholds)
    w = weights[:, None]
    tps = np.cumsum(w * tp, axis=0)
    fps = np.cumsum(w * ~tp, axis=0)
    recall = tps / truth
    precision = tps / (fps + tps + np.spacing(1))
    precision = np.maximum.accumulate(precision[::-1], axis=0)[::-1]  # the envelope, right to left
    ap = np.zeros(thresholds)
    for t in range(thresholds):
        index = np.searchsorted(recall[:, t], RECALL_POINTS, side="left")
        q = np.where(index < len(recall), precision[np.minimum(index, len(recall) - 1), t], 0.0)
        ap[t] = q.mean()
    return ap, recall[-1]


def _detection(scored: ScoredCases, weights: np.ndarray, label: int | None) -> dict[str, float | None]:
    """AP/AR over the labels the truth has (or one label), from the ranked boxes."""
    labels = range(scored.truth_labels) if label is None else [label]
    truth_w = weights[scored.gt_item]
    box_w = weights[scored.dt_item]
    aps, recalls = [], []
    for k in labels:
        truth = float(truth_w[scored.gt_label == k].sum())
        if truth <= 0:
            continue  # COCOeval skips a label without truth boxes
        rows = (scored.dt_label == k) & scored.dt_top
        ap, recall = average_precision(scored.dt_tp[rows], box_w[rows], truth)
        aps.append(ap)
        recalls.append(recall)
    if not aps:
        return {"map50_95": None, "map50": None, "map75": None, "ar100": None}
    ap_array, recall_array = np.array(aps), np.array(recalls)
    return {"map50_95": float(ap_array.mean()), "map50": float(ap_array[:, _INDEX[0.5]].mean()),
            "map75": float(ap_array[:, _INDEX[0.75]].mean()), "ar100": float(recall_array.mean())}


def _counts(scored: ScoredCases, weights: np.ndarray, label: int | None) -> dict[str, float | None]:
    gt = np.ones(len(scored.gt_label), bool) if label is None else scored.gt_label == label
    dt = np.ones(len(scored.dt_label), bool) if label is None else scored.dt_label == label
    truth = float(weights[scored.gt_item][gt].sum())
    given = float(weights[scored.dt_item][dt].sum())
    matched = float((weights[scored.dt_item] * scored.dt_tp[:, 0])[dt].sum()) if len(scored.dt_tp) else 0.0
    precision, recall = _ratio(matched, given), _ratio(matched, truth)
    f1 = None
    if precision is not None and recall is not None:
        f1 = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    ref = np.ones(len(scored.ref_label), bool) if label is None else scored.ref_label == label
    ref_w = weights[scored.ref_item][ref]
    targets = float(ref_w.sum())
    ious = scored.ref_iou[ref]
    return {
        "acc50": _ratio(float((ref_w * (ious >= 0.5)).sum()), targets),
        "acc75": _ratio(float((ref_w * (ious >= 0.75)).sum()), targets),
        "miou": _ratio(float((ref_w * ious).sum()), targets),
        "center_acc": _ratio(float((ref_w * scored.ref_center[ref]).sum()), targets),
        "precision": precision, "recall": recall, "f1": f1,
        "truth_boxes": truth, "answer_boxes": given, "targets": targets,
    }


def _mean(values: np.ndarray, weights: np.ndarray) -> float | None:
    known = ~np.isnan(values) & (weights > 0)
    total = float(weights[known].sum())
    return float((values[known] * weights[known]).sum() / total) if total > 0 else None


def compute_metrics(scored: ScoredCases, weights: np.ndarray | None = None, *,
                    per_label: bool = True) -> dict[str, Any]:
    """Every metric of :data:`METRIC_KEYS` (None where it does not apply), the counts behind them and,
    with ``per_label``, the same per truth label under ``per_label``."""
    w = np.ones(scored.count) if weights is None else np.asarray(weights, dtype=np.float64)
    answered = w * scored.item_answered
    out: dict[str, Any] = {
        "items": float(w.sum()),
        "answered": float(answered.sum()),
        "errors": float((w * ~scored.item_answered).sum()),
        "ordering": scored.ordering,
    }
    out |= _detection(scored, answered, None)
    out |= _counts(scored, answered, None)
    has_truth = scored.item_truth > 0
    negatives = answered * ~has_truth
    unknown = scored.dt_label >= scored.truth_labels
    out |= {
        "parse_failures": float((answered * (has_truth & (scored.item_answer == 0))).sum()),
        "duplicates": float((answered * scored.item_duplicates).sum()),
        "outside": float((answered * scored.item_outside).sum()),
        "negatives": float(negatives.sum()),
        "none_accuracy": _ratio(float((negatives * (scored.item_answer == 0)).sum()), float(negatives.sum())),
        "truncated": float((answered * scored.item_truncated).sum()),
        "unknown_labels": float((answered[scored.dt_item] * unknown).sum()),
        "output_tokens": _mean(scored.item_output_tokens, answered),
        "prompt_tokens": _mean(scored.item_prompt_tokens, answered),
        "seconds_per_item": _mean(scored.item_seconds, answered),
    }
    if per_label:
        out["per_label"] = {
            scored.labels[k]: {**_detection(scored, answered, k), **_counts(scored, answered, k)}
            for k in range(scored.truth_labels)
        }
    return _clean(out)


COUNT_KEYS = frozenset({"items", "answered", "errors", "parse_failures", "duplicates", "outside", "negatives",
                        "truncated", "unknown_labels", "truth_boxes", "answer_boxes", "targets"})
"""Metrics that count items or boxes (whole numbers when every item counts a whole number of times)."""


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    """Counts as ints, NaN as None, nested dicts alike (plain JSON)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            value = _clean(value)
        elif isinstance(value, float) and math.isnan(value):
            value = None
        elif key in COUNT_KEYS and isinstance(value, float) and value.is_integer():
            value = int(value)
        out[key] = value
    return out

"""Every item scored once: matches at COCO's ten IoU thresholds, referring targets, failures, costs.

:func:`score_cases` turns :class:`~grounding.evaluation.cases.EvalCase` records into flat numpy
arrays (:class:`ScoredCases`), from which :func:`grounding.evaluation.metrics.compute_metrics`
computes any metric over any multiset of items (the bootstrap reweights items without matching
again).

Matching is COCOeval's, so that ``map50_95`` equals pycocotools on the same boxes and scores:

- per picture and label, an answer's boxes are taken highest score first (ties: the order the model
  wrote them); at each IoU threshold ``t`` in 0.50, 0.55 … 0.95 a box takes the not yet matched
  truth box of its label with the highest IoU ≥ ``t`` (on equal IoU the later truth box, as COCOeval's
  loop does); only the first 100 boxes per picture and label count for AP and AR100 (``maxDets=100``);
- **ordering**: when every box of every answer has a score, boxes are ranked by it ("score");
  otherwise the k-th box of an answer gets the score 1/k ("proposal order": the first boxes of all
  answers rank above every second box, and so on), and that same score is what COCOeval is given.

Labels are compared with :func:`~grounding.evaluation.cases.label_key` (case and spacing do not
matter). Referring targets are the (item, picture, label) triples with exactly one truth box; their
"top box" is the highest-ranked answer box of that label on that picture, or, for an item with a
single truth box, the top box of the whole answer whatever its label.

>>> from grounding.evaluation.cases import EvalCase, PictureBoxes
>>> truth = (PictureBoxes(((0, 0, 10, 10), (20, 20, 30, 30)), ("cat", "cat")),)
>>> answer = (PictureBoxes(((0, 0, 10, 5), (20, 20, 30, 30), (50, 50, 60, 60)), ("cat", "cat", "dog")),)
>>> scored = score_cases([EvalCase("a", truth, answer)])
>>> scored.dt_tp[:, 0].tolist(), scored.item_missed.tolist(), scored.item_extra.tolist()
([True, True, False], [0], [1])
>>> round(float(scored.item_quality[0]), 3), scored.ordering
(0.5, 'proposal order')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from grounding.evaluation.cases import EvalCase, PictureBoxes, label_key

__all__ = ["DUPLICATE_IOU", "IOU_THRESHOLDS", "MAX_DETECTIONS", "ScoredCases", "box_iou", "ranking_scores",
           "score_cases"]

IOU_THRESHOLDS = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)
"""COCO's thresholds, built as COCOeval builds them (so 0.75 is the very same float)."""
MAX_DETECTIONS = 100
"""Boxes per picture and label that count for AP and AR (COCOeval's ``maxDets[-1]``)."""
DUPLICATE_IOU = 0.9
"""An answer box overlapping a higher-ranked box of the same label at least this much is a duplicate."""


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box of ``a`` (rows) with every box of ``b`` (columns), xyxy; 0 for empty boxes.

    >>> box_iou(np.array([[0., 0, 2, 2]]), np.array([[1., 0, 3, 2], [5, 5, 6, 6]])).round(3).tolist()
    [[0.333, 0.0]]
    """
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    if not len(a) or not len(b):
        return np.zeros((len(a), len(b)))
    wh = np.clip(np.minimum(a[:, None, 2:], b[None, :, 2:]) - np.maximum(a[:, None, :2], b[None, :, :2]), 0, None)
    inter = wh[..., 0] * wh[..., 1]
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


@dataclass(frozen=True)
class ScoredCases:
    """The scored items as parallel arrays (``item_*`` one per item, ``gt_*`` per truth box, ``dt_*``
    per answer box in COCO's global order, ``ref_*`` per referring target)."""

    keys: tuple[str, ...]
    labels: tuple[str, ...]
    """Truth labels by id (the first spelling seen); answer labels no truth uses get ids after them."""
    truth_labels: int
    """How many of ``labels`` occur in the truth (ids 0 .. truth_labels - 1)."""
    ordering: str
    """``score`` or ``proposal order`` (see the module docstring)."""
    item_answered: np.ndarray
    item_truth: np.ndarray
    item_answer: np.ndarray
    item_duplicates: np.ndarray
    item_outside: np.ndarray
    item_truncated: np.ndarray
    item_prompt_tokens: np.ndarray
    """float, NaN when unknown (also for the output tokens and seconds)."""
    item_output_tokens: np.ndarray
    item_seconds: np.ndarray
    item_quality: np.ndarray
    """Summed best IoU of the truth boxes over max(truth, answer) boxes; for a negative 1 when the answer is
    empty, else 0. The error browser shows the lowest first."""
    item_lowest_iou: np.ndarray
    """Lowest best IoU of a truth box (NaN for negatives)."""
    item_missed: np.ndarray
    """Truth boxes no answer box matched at IoU 0.5."""
    item_extra: np.ndarray
    """Answer boxes matching no truth box at IoU 0.5."""
    gt_item: np.ndarray
    gt_label: np.ndarray
    gt_best_iou: np.ndarray
    """Best IoU of each truth box with an answer box of its label on its picture (0 without one)."""
    dt_item: np.ndarray
    dt_label: np.ndarray
    dt_score: np.ndarray
    dt_top: np.ndarray
    """Among the first 100 of its picture and label (counted for AP and AR100)."""
    dt_tp: np.ndarray
    """(boxes, thresholds) matched at each IoU threshold."""
    ref_item: np.ndarray
    ref_label: np.ndarray
    ref_iou: np.ndarray
    ref_center: np.ndarray

    @property
    def count(self) -> int:
        return len(self.keys)


class _Labels:
    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.names: list[str] = []

    def id(self, label: str) -> int:
        key = label_key(label)
        if key not in self.ids:
            self.ids[key] = len(self.names)
            self.names.append(label.strip() or key)
        return self.ids[key]


def _uses_scores(cases: Sequence[EvalCase]) -> bool:
    pictures = [p for case in cases if case.answer is not None for p in case.answer if len(p)]
    return bool(pictures) and all(p.scores is not None for p in pictures)


def ranking_scores(cases: Sequence[EvalCase]) -> list[list[np.ndarray]]:
    """Per case and picture, the score each answer box is ranked by (empty lists for unanswered cases).

    >>> from grounding.evaluation.cases import EvalCase, PictureBoxes
    >>> two = PictureBoxes(((0, 0, 1, 1), (0, 0, 2, 2)), ("a", "a"))
    >>> [s.tolist() for s in ranking_scores([EvalCase("x", (PictureBoxes(),), (two,))])[0]]
    [[1.0, 0.5]]
    """
    by_score = _uses_scores(cases)
    return [_answer_scores(case.answer, by_score) if case.answer is not None else [] for case in cases]


def _answer_scores(answer: Sequence[PictureBoxes], by_score: bool) -> list[np.ndarray]:
    """Per picture, the score each box is ranked by (its own, or 1/k for the k-th box of the answer)."""
    out, rank = [], 0
    for picture in answer:
        n = len(picture)
        if by_score and picture.scores is not None:
            out.append(np.asarray(picture.scores, dtype=np.float64))
        else:
            out.append(1.0 / np.arange(rank + 1, rank + n + 1, dtype=np.float64))
        rank += n
    return out


def _match(ious: np.ndarray, same: np.ndarray, gt_count: int) -> np.ndarray:
    """COCOeval's greedy matching of sorted answer boxes (rows) to truth boxes: (boxes, thresholds) flags."""
    thresholds = np.minimum(IOU_THRESHOLDS, 1 - 1e-10)
    t_count = len(thresholds)
    tp = np.zeros((ious.shape[0], t_count), dtype=bool)
    if gt_count == 0:
        return tp
    taken = np.zeros((t_count, gt_count), dtype=bool)
    rows = np.arange(t_count)
    candidates = np.where(same, ious, -1.0)
    for d in range(ious.shape[0]):
        values = np.where(taken, -1.0, candidates[d][None, :])
        best = gt_count - 1 - np.argmax(values[:, ::-1], axis=1)  # the last of equal IoUs, as COCOeval's loop
        hit = values[rows, best] >= thresholds
        taken[rows[hit], best[hit]] = True
        tp[d] = hit
    return tp


def score_cases(cases: Sequence[EvalCase]) -> ScoredCases:
    """Match every item's answer against its truth (see the module docstring)."""
    labels = _Labels()
    for case in cases:  # truth labels first: ids 0 .. truth_labels - 1
        for picture in case.truth:
            for label in picture.labels:
                labels.id(label)
    truth_labels = len(labels.names)
    by_score = _uses_scores(cases)
    n = len(cases)
    item = {name: np.zeros(n, dtype=dtype) for name, dtype in (
        ("answered", bool), ("truth", np.int64), ("answer", np.int64), ("duplicates", np.int64),
        ("outside", np.int64), ("truncated", bool), ("missed", np.int64), ("extra", np.int64))}
    floats = {name: np.full(n, np.nan) for name in ("prompt_tokens", "output_tokens", "seconds", "quality",
                                                   "lowest_iou")}
    gt_item: list[int] = []
    gt_label: list[int] = []
    gt_best: list[float] = []
    dt_item: list[int] = []
    dt_label: list[int] = []
    dt_score: list[float] = []
    dt_top: list[bool] = []
    dt_tp: list[np.ndarray] = []
    ref_item: list[int] = []
    ref_label: list[int] = []
    ref_iou: list[float] = []
    ref_center: list[bool] = []
    for index, case in enumerate(cases):
        item["truth"][index] = case.truth_count
        answered = case.answer is not None
        item["answered"][index] = answered
        if not answered:
            for picture in case.truth:
                for label in picture.labels:
                    gt_item.append(index)
                    gt_label.append(labels.id(label))
                    gt_best.append(0.0)
            continue
        answer = case.answer
        assert answer is not None
        item["answer"][index] = case.answer_count
        item["outside"][index] = case.outside
        item["truncated"][index] = case.truncated
        for name in ("prompt_tokens", "output_tokens", "seconds"):
            value = getattr(case, name)
            floats[name][index] = np.nan if value is None else float(value)
        scores = _answer_scores(answer, by_score)
        item_best: list[float] = []
        matched_05 = 0
        first_any: tuple[int, np.ndarray, float] | None = None  # (picture, box, score) of the answer's top box
        single_truth = case.truth_count == 1
        per_picture: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        for p, (truth, given) in enumerate(zip(case.truth, answer)):
            g_boxes = np.asarray(truth.xyxy, dtype=np.float64).reshape(-1, 4)
            g_labels = np.asarray([labels.id(label) for label in truth.labels], dtype=np.int64)
            order = np.argsort(-scores[p], kind="mergesort")
            d_boxes = np.asarray(given.xyxy, dtype=np.float64).reshape(-1, 4)[order]
            d_labels = np.asarray([labels.id(label) for label in given.labels], dtype=np.int64)[order]
            d_scores = scores[p][order]
            per_picture.append((g_boxes, g_labels, d_boxes, d_labels, d_scores))
            if len(d_boxes) and (first_any is None or d_scores[0] > first_any[2]):
                first_any = (p, d_boxes[0], float(d_scores[0]))
        for p, (g_boxes, g_labels, d_boxes, d_labels, d_scores) in enumerate(per_picture):
            ious = box_iou(d_boxes, g_boxes)
            same = d_labels[:, None] == g_labels[None, :]
            tp = _match(ious, same, len(g_boxes))
            matched_05 += int(tp[:, 0].sum())
            best = np.where(same, ious, 0.0).max(axis=0) if len(d_boxes) else np.zeros(len(g_boxes))
            for label, value in zip(g_labels.tolist(), best.tolist()):
                gt_item.append(index)
                gt_label.append(label)
                gt_best.append(value)
            item_best.extend(best.tolist())
            seen: dict[int, int] = {}
            if len(d_boxes) > 1:
                self_iou = box_iou(d_boxes, d_boxes)
                same_d = d_labels[:, None] == d_labels[None, :]
                earlier = np.tril(np.ones_like(same_d), k=-1)
                item["duplicates"][index] += int(((self_iou >= DUPLICATE_IOU) & same_d & earlier).any(axis=1).sum())
            for d, label in enumerate(d_labels.tolist()):
                rank = seen.get(label, 0)
                seen[label] = rank + 1
                dt_item.append(index)
                dt_label.append(label)
                dt_score.append(float(d_scores[d]))
                dt_top.append(rank < MAX_DETECTIONS)
                dt_tp.append(tp[d])
            for label in np.unique(g_labels).tolist():
                rows = np.flatnonzero(g_labels == label)
                if len(rows) != 1:
                    continue
                truth_box = g_boxes[rows[0]]
                mine = np.flatnonzero(d_labels == label)
                top: np.ndarray | None = None
                if len(mine):
                    top = d_boxes[mine[0]]
                elif single_truth and first_any is not None:
                    top = first_any[1] if first_any[0] == p else None
                ref_item.append(index)
                ref_label.append(label)
                if top is None:
                    ref_iou.append(0.0)
                    ref_center.append(False)
                else:
                    ref_iou.append(float(box_iou(top[None, :], truth_box[None, :])[0, 0]))
                    cx, cy = (top[0] + top[2]) / 2, (top[1] + top[3]) / 2
                    ref_center.append(bool(truth_box[0] <= cx <= truth_box[2] and truth_box[1] <= cy <= truth_box[3]))
        truth_count, answer_count = case.truth_count, case.answer_count
        item["missed"][index] = truth_count - matched_05
        item["extra"][index] = answer_count - matched_05
        if truth_count == 0:
            floats["quality"][index] = 1.0 if answer_count == 0 else 0.0
        else:
            floats["quality"][index] = sum(item_best) / max(truth_count, answer_count)
            floats["lowest_iou"][index] = min(item_best)
    dt_score_array = np.asarray(dt_score, dtype=np.float64)
    order = np.argsort(-dt_score_array, kind="mergesort")  # COCOeval's global order: items, then ranks
    tp_array = np.asarray(dt_tp, dtype=bool).reshape(-1, len(IOU_THRESHOLDS))
    return ScoredCases(
        keys=tuple(case.key for case in cases), labels=tuple(labels.names), truth_labels=truth_labels,
        ordering="score" if by_score else "proposal order",
        item_answered=item["answered"], item_truth=item["truth"], item_answer=item["answer"],
        item_duplicates=item["duplicates"], item_outside=item["outside"], item_truncated=item["truncated"],
        item_prompt_tokens=floats["prompt_tokens"], item_output_tokens=floats["output_tokens"],
        item_seconds=floats["seconds"], item_quality=floats["quality"], item_lowest_iou=floats["lowest_iou"],
        item_missed=item["missed"], item_extra=item["extra"],
        gt_item=np.asarray(gt_item, dtype=np.int64), gt_label=np.asarray(gt_label, dtype=np.int64),
        gt_best_iou=np.asarray(gt_best, dtype=np.float64),
        dt_item=np.asarray(dt_item, dtype=np.int64)[order], dt_label=np.asarray(dt_label, dtype=np.int64)[order],
        dt_score=dt_score_array[order], dt_top=np.asarray(dt_top, dtype=bool)[order], dt_tp=tp_array[order],
        ref_item=np.asarray(ref_item, dtype=np.int64), ref_label=np.asarray(ref_label, dtype=np.int64),
        ref_iou=np.asarray(ref_iou, dtype=np.float64), ref_center=np.asarray(ref_center, dtype=bool),
    )

"""Calibration: the probability that a proposed box survives review, fitted on the dataset's own reviews.

A box **survives review** when the accepted item keeps a box of the same label with IoU >= 0.9 (kept
as it was, or barely moved); a box deleted, moved further or relabelled did not. Once a dataset has
:data:`MIN_REVIEWED_ITEMS` reviewed items whose proposals carry signals, :func:`fit` fits a logistic
regression (L2-penalised, Newton's method in numpy) from the signals (:func:`features`) to that
outcome. It reports how good the fit is on boxes it did not see: reviewed items are split in
:data:`FOLDS` groups, each predicted by a fit on the others (so no item's boxes are in both halves),
and AUROC and expected calibration error (ECE, 10 equal-width bins) are computed on those held-out
predictions, next to the AUROC of the raw signal alone. Then it fits on every reviewed box and
that model scores every proposal (:meth:`Calibration.score`).

Before there is enough history the raw score (:func:`grounding.confidence.raw_score`) orders the
boxes, and the pages say so.

>>> import random
>>> rng = random.Random(0)
>>> rows = [ReviewedBox(item, {"logprob_min": lp, "logprobs": True}, rng.random() < math.exp(lp))
...         for item in range(40) for lp in (-0.01, -0.5, -2.0, -4.0)]
>>> calibration = fit(rows)
>>> calibration.items, calibration.auroc > 0.7, calibration.score({"logprob_min": -4.0, "logprobs": True}) < 0.2
(40, True, True)
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from grounding.confidence import raw_score

__all__ = ["FEATURES", "FOLDS", "MIN_REVIEWED_ITEMS", "SURVIVAL_IOU", "Calibration", "ReviewedBox", "auroc",
           "expected_calibration_error", "features", "fit", "fit_logistic"]

MIN_REVIEWED_ITEMS = 30
"""Reviewed items (with scored proposals) needed before fitting; before that the raw signal orders."""
SURVIVAL_IOU = 0.9
"""A proposal survives review when an accepted box of its label overlaps it this much."""
FOLDS = 5
"""Held-out groups of reviewed items for the reported AUROC and ECE."""
PENALTY = 1.0
"""L2 penalty on the standardised coefficients (the intercept is free)."""

FEATURES: tuple[str, ...] = (
    "logprob_min", "logprob_mean", "log_error", "no_logprobs", "overlap", "duplicate", "border", "log_area",
    "last_cut", "loop", "truncated", "unknown_label", "agreement", "no_agreement",
)
"""What the regression sees of a box's signals (missing log-probabilities or agreement: 0 and an indicator)."""


def features(signals: Mapping[str, Any]) -> list[float]:
    """The feature vector of one box's signals, in :data:`FEATURES` order.

    >>> features({"logprob_min": -1.5, "logprob_mean": -0.5, "error_px": 3.0, "area": 0.01, "logprobs": True})[:4]
    [-1.5, -0.5, 1.3862943611198906, 0.0]
    """
    has_logprobs = signals.get("logprob_min") is not None
    agreement = signals.get("agreement")
    return [
        max(-30.0, float(signals["logprob_min"])) if has_logprobs else 0.0,
        max(-30.0, float(signals.get("logprob_mean") or 0.0)) if has_logprobs else 0.0,
        math.log1p(max(0.0, float(signals.get("error_px") or 0.0))) if has_logprobs else 0.0,
        0.0 if has_logprobs else 1.0,
        float(signals.get("overlap") or 0.0),
        float(bool(signals.get("duplicate"))),
        float(bool(signals.get("border"))),
        math.log(max(float(signals.get("area") or 0.0), 1e-6)),
        float(bool(signals.get("last_cut"))),
        float(bool(signals.get("loop"))),
        float(bool(signals.get("truncated"))),
        float(bool(signals.get("unknown_label"))),
        float(agreement) if agreement is not None else 0.0,
        0.0 if agreement is not None else 1.0,
    ]


@dataclass(frozen=True)
class ReviewedBox:
    """A proposal of a reviewed item: its item (for held-out groups), its signals, whether it survived."""

    item: int
    signals: Mapping[str, Any]
    survived: bool


def auroc(labels: Sequence[bool], scores: Sequence[float]) -> float | None:
    """Area under the ROC curve (the Mann-Whitney statistic, ties counted half); None without both classes.

    >>> auroc([True, False, True, False], [0.9, 0.1, 0.4, 0.4])
    0.875
    """
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=np.float64)
    positives, negatives = int(y.sum()), int((~y).sum())
    if not positives or not negatives:
        return None
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), dtype=np.float64)
    sorted_scores = s[order]
    start = 0
    while start < len(s):  # average ranks over ties
        end = start
        while end + 1 < len(s) and sorted_scores[end + 1] == sorted_scores[start]:
            end += 1
        ranks[order[start:end + 1]] = (start + end) / 2 + 1
        start = end + 1
    return float((ranks[y].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def expected_calibration_error(labels: Sequence[bool], probabilities: Sequence[float], bins: int = 10) -> float | None:
    """Sum over 10 equal-width probability bins of (share of boxes in the bin) x |observed rate - mean predicted|.

    >>> expected_calibration_error([True, False, True, True], [0.9, 0.1, 0.8, 0.7])
    0.175
    """
    y = np.asarray(labels, dtype=np.float64)
    p = np.asarray(probabilities, dtype=np.float64)
    if not len(p):
        return None
    index = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        inside = index == b
        if inside.any():
            total += inside.sum() / len(p) * abs(y[inside].mean() - p[inside].mean())
    return float(total)


def fit_logistic(x: np.ndarray, y: np.ndarray, penalty: float = PENALTY, iterations: int = 100) -> tuple[np.ndarray, float]:
    """Coefficients and intercept minimising the logistic loss + ``penalty``/2 ||w||^2 (Newton's method)."""
    n, d = x.shape
    design = np.hstack([np.ones((n, 1)), x])
    weights = np.zeros(d + 1)
    ridge = np.eye(d + 1) * penalty
    ridge[0, 0] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ weights, -35, 35)))
        gradient = design.T @ (p - y) + ridge @ weights
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + ridge + np.eye(d + 1) * 1e-9
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return weights[1:], float(weights[0])


@dataclass(frozen=True)
class Calibration:
    """A fitted model (standardisation, coefficients, intercept) and how it did on held-out reviewed items."""

    coef: tuple[float, ...]
    intercept: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    items: int
    boxes: int
    survived: int
    auroc: float | None = None
    ece: float | None = None
    raw_auroc: float | None = None
    features: tuple[str, ...] = FEATURES
    fitted_at: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def score(self, signals: Mapping[str, Any]) -> float:
        """P(the box survives review) for one box's signals."""
        x = (np.asarray(features(signals)) - np.asarray(self.mean)) / np.asarray(self.scale)
        z = float(np.dot(self.coef, x) + self.intercept)
        return round(1.0 / (1.0 + math.exp(-max(-35.0, min(35.0, z)))), 6)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return {**{k: (list(v) if isinstance(v, tuple) else v) for k, v in data.items()}, "extra": dict(self.extra)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Calibration | None:
        """From a dataset's settings (None when missing, or fitted on other features by another version)."""
        if not isinstance(data, Mapping) or tuple(data.get("features") or ()) != FEATURES:
            return None
        try:
            return cls(tuple(data["coef"]), float(data["intercept"]), tuple(data["mean"]), tuple(data["scale"]),
                       int(data["items"]), int(data["boxes"]), int(data["survived"]), data.get("auroc"),
                       data.get("ece"), data.get("raw_auroc"), FEATURES, str(data.get("fitted_at") or ""),
                       dict(data.get("extra") or {}))
        except (KeyError, TypeError, ValueError):
            return None

    def summary(self) -> str:
        """One line for the pages and the CLI."""
        def shown(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.2f}"

        return (f"calibrated on {self.items} reviewed items ({self.boxes} boxes, {self.survived} kept): held-out "
                f"AUROC {shown(self.auroc)}, ECE {shown(self.ece)} (raw signal alone: AUROC {shown(self.raw_auroc)})")


def _fold(item: int) -> int:
    return zlib.crc32(str(item).encode()) % FOLDS


def _fit_arrays(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    if y.min() == y.max():  # one outcome only: the smoothed base rate, no slope
        rate = (y.sum() + 1) / (len(y) + 2)
        return np.zeros(x.shape[1]), math.log(rate / (1 - rate)), mean, scale
    coef, intercept = fit_logistic((x - mean) / scale, y)
    return coef, intercept, mean, scale


def fit(rows: Sequence[ReviewedBox], *, fitted_at: str = "") -> Calibration:
    """Fit on every reviewed box, with AUROC/ECE from held-out groups of items (see the module's docstring)."""
    if not rows:
        raise ValueError("no reviewed boxes to calibrate on")
    x = np.asarray([features(r.signals) for r in rows], dtype=np.float64)
    y = np.asarray([r.survived for r in rows], dtype=np.float64)
    folds = np.asarray([_fold(r.item) for r in rows])
    held_out = np.zeros(len(rows))
    for fold in range(FOLDS):
        test = folds == fold
        if not test.any():
            continue
        train = ~test
        if not train.any():
            held_out[test] = 0.5
            continue
        coef, intercept, mean, scale = _fit_arrays(x[train], y[train])
        z = ((x[test] - mean) / scale) @ coef + intercept
        held_out[test] = 1.0 / (1.0 + np.exp(-np.clip(z, -35, 35)))
    coef, intercept, mean, scale = _fit_arrays(x, y)
    labels = [r.survived for r in rows]
    return Calibration(
        tuple(float(v) for v in coef), float(intercept), tuple(float(v) for v in mean), tuple(float(v) for v in scale),
        items=len({r.item for r in rows}), boxes=len(rows), survived=int(y.sum()),
        auroc=auroc(labels, held_out.tolist()), ece=expected_calibration_error(labels, held_out.tolist()),
        raw_auroc=auroc(labels, [raw_score(r.signals) for r in rows]), fitted_at=fitted_at)

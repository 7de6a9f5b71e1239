"""Two setups on the same items: each metric's difference with a paired bootstrap interval, and the
items that got worse.

The bootstrap draws the items with replacement (the same draw for both setups, so the pairing is
kept), recomputes every metric of both on the draw with item weights
(:func:`~grounding.evaluation.metrics.compute_metrics`), and takes the 2.5th and 97.5th percentiles
of the differences ``b - a``. Draws where a metric does not apply to one side (no referring target,
no negative item in the draw) are left out of that metric's interval. The generator is seeded, so an
interval is the same every time it is computed on the same data.

>>> from grounding.evaluation.cases import EvalCase, PictureBoxes
>>> from grounding.evaluation.scoring import score_cases
>>> truth = (PictureBoxes(((0, 0, 10, 10),), ("cat",)),)
>>> hit, miss = (PictureBoxes(((0, 0, 10, 10),), ("cat",)),), (PictureBoxes(((50, 50, 60, 60),), ("cat",)),)
>>> a = score_cases([EvalCase(str(i), truth, hit) for i in range(4)])
>>> b = score_cases([EvalCase(str(i), truth, hit if i < 2 else miss) for i in range(4)])
>>> d = paired_bootstrap(a, b, resamples=200)["acc50"]
>>> d.a, d.b, d.difference, d.low <= d.difference <= d.high
(1.0, 0.5, -0.5, True)
>>> [row.key for row in worse_items(a, b)]
['2', '3']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from grounding.errors import GroundingError
from grounding.evaluation.metrics import METRIC_KEYS, compute_metrics
from grounding.evaluation.scoring import ScoredCases

__all__ = ["Difference", "ItemChange", "paired_bootstrap", "worse_items"]


@dataclass(frozen=True)
class Difference:
    """One metric of both setups on the same items, ``b - a``, and its bootstrap interval (None when the
    metric does not apply)."""

    metric: str
    a: float | None
    b: float | None
    difference: float | None
    low: float | None
    high: float | None

    def as_dict(self) -> dict[str, float | str | None]:
        return {"metric": self.metric, "a": self.a, "b": self.b, "difference": self.difference,
                "low": self.low, "high": self.high}


@dataclass(frozen=True)
class ItemChange:
    """An item whose quality (see :attr:`ScoredCases.item_quality`) dropped from ``a`` to ``b``."""

    key: str
    a: float
    b: float


def _check(a: ScoredCases, b: ScoredCases) -> None:
    if a.keys != b.keys:
        raise GroundingError("both setups must be scored on the same items in the same order")


def paired_bootstrap(a: ScoredCases, b: ScoredCases, *, metrics: Sequence[str] = METRIC_KEYS,
                     resamples: int = 1000, confidence: float = 0.95, seed: int = 0) -> dict[str, Difference]:
    """Per metric: a, b, b - a on every item, and the paired bootstrap interval of b - a."""
    _check(a, b)
    if resamples < 1 or not 0 < confidence < 1:
        raise GroundingError("give at least one resample and a confidence between 0 and 1")
    whole_a = compute_metrics(a, per_label=False)
    whole_b = compute_metrics(b, per_label=False)
    rng = np.random.default_rng(seed)
    n = a.count
    draws: dict[str, list[float]] = {m: [] for m in metrics}
    for _ in range(resamples if n else 0):
        weights = np.bincount(rng.integers(0, n, n), minlength=n).astype(np.float64)
        ma = compute_metrics(a, weights, per_label=False)
        mb = compute_metrics(b, weights, per_label=False)
        for m in metrics:
            if isinstance(ma.get(m), (int, float)) and isinstance(mb.get(m), (int, float)):
                draws[m].append(float(mb[m]) - float(ma[m]))
    tail = (1 - confidence) / 2 * 100
    out = {}
    for m in metrics:
        va, vb = whole_a.get(m), whole_b.get(m)
        diff = float(vb) - float(va) if isinstance(va, (int, float)) and isinstance(vb, (int, float)) else None
        low = high = None
        if draws[m] and diff is not None:
            low, high = (float(v) for v in np.percentile(draws[m], [tail, 100 - tail]))
        out[m] = Difference(m, _number(va), _number(vb), diff, low, high)
    return out


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None


def worse_items(a: ScoredCases, b: ScoredCases, *, tolerance: float = 1e-9) -> list[ItemChange]:
    """Items both setups answered whose quality is lower in ``b``, the largest drop first."""
    _check(a, b)
    both = a.item_answered & b.item_answered
    drop = np.where(both, a.item_quality - b.item_quality, 0.0)
    order = np.argsort(-drop, kind="mergesort")
    return [ItemChange(a.keys[i], float(a.item_quality[i]), float(b.item_quality[i]))
            for i in order if drop[i] > tolerance]

"""IoU histograms per label as one picture (Pillow only): how close each truth box's best answer came.

One row per label: ten bars for IoU 0–0.1 … 0.9–1.0 (the last one includes 1.0), each as tall as
the share of that label's truth boxes in it, coloured from red (missed) to green, with the count
above and the label on the left. Input: label -> best IoUs (e.g. from
:func:`iou_by_label`).

>>> from grounding.evaluation.cases import EvalCase, PictureBoxes
>>> from grounding.evaluation.scoring import score_cases
>>> truth = (PictureBoxes(((0, 0, 10, 10), (20, 20, 30, 30)), ("cat", "dog")),)
>>> scored = score_cases([EvalCase("1", truth, (PictureBoxes(((0, 0, 10, 10),), ("cat",)),))])
>>> iou_by_label(scored)
{'cat': [1.0], 'dog': [0.0]}
>>> render_iou_histograms(iou_by_label(scored)).size
(404, 130)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from PIL import Image, ImageDraw

from grounding.evaluation.scoring import ScoredCases
from grounding.probe_plot import _font, agreement_colour

__all__ = ["BINS", "histogram", "iou_by_label", "render_iou_histograms"]

BINS = 10
ROW_H, BAR_W, LABEL_W, MARGIN = 52, 26, 120, 12


def iou_by_label(scored: ScoredCases, *, answered_only: bool = True) -> dict[str, list[float]]:
    """Best IoU of every truth box, grouped by label (items without an answer left out by default)."""
    keep = scored.item_answered[scored.gt_item] if answered_only else np.ones(len(scored.gt_item), bool)
    out: dict[str, list[float]] = {}
    for k in range(scored.truth_labels):
        values = scored.gt_best_iou[(scored.gt_label == k) & keep]
        if len(values):
            out[scored.labels[k]] = [round(float(v), 6) for v in values]
    return out


def histogram(values: Sequence[float]) -> list[int]:
    """Counts in ten IoU bins (the last includes 1.0).

    >>> histogram([0.0, 0.05, 0.55, 1.0])
    [2, 0, 0, 0, 0, 1, 0, 0, 0, 1]
    """
    counts, _ = np.histogram(np.clip(np.asarray(values, dtype=np.float64), 0, 1), bins=BINS, range=(0.0, 1.0))
    return [int(c) for c in counts]


def render_iou_histograms(values: Mapping[str, Sequence[float]], *, title: str = "") -> Image.Image:
    """The rows as an RGB picture (an empty mapping gives a picture saying there are no truth boxes)."""
    font, small = _font(13), _font(10)
    rows = list(values.items())
    top = 22 if title else 4
    width = LABEL_W + BINS * BAR_W + 2 * MARGIN
    height = top + max(1, len(rows)) * ROW_H + 22
    picture = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(picture)
    if title:
        draw.text((MARGIN, 4), title, fill="black", font=font)
    if not rows:
        draw.text((MARGIN, top + 10), "no truth boxes to measure", fill="black", font=font)
    for r, (label, ious) in enumerate(rows):
        counts = histogram(ious)
        most = max(counts) or 1
        y0 = top + r * ROW_H
        name = label if len(label) <= 16 else label[:15] + "…"
        draw.text((MARGIN, y0 + ROW_H / 2), f"{name} ({len(ious)})", fill="black", font=font, anchor="lm")
        for b, count in enumerate(counts):
            x0 = LABEL_W + MARGIN + b * BAR_W
            bar = round((ROW_H - 18) * count / most)
            base = y0 + ROW_H - 4
            if bar:
                draw.rectangle((x0 + 2, base - bar, x0 + BAR_W - 3, base), fill=agreement_colour((b + 0.5) / BINS))
            if count:
                draw.text((x0 + BAR_W / 2, base - bar - 2), str(count), fill="black", font=small, anchor="mb")
        draw.line((LABEL_W + MARGIN, y0 + ROW_H - 4, LABEL_W + MARGIN + BINS * BAR_W, y0 + ROW_H - 4), fill="grey")
    for b in (0, 5, 10):
        x = LABEL_W + MARGIN + b * BAR_W
        draw.text((x, height - 12), f"{b / BINS:.1f}", fill="black", font=small, anchor="mm")
    return picture

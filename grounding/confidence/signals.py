"""Every signal of every detection of one answer, and the raw score ordered on before calibration.

:func:`box_signals` joins the token signals (lowest and mean log-probability of a box's coordinate
digits, expected coordinate error in original pixels; :mod:`~grounding.confidence.digits`) and the
structure signals (:mod:`~grounding.confidence.structure`) into one plain dict per detection, the
form stored with each proposal. Expected errors are converted to original pixels with the picture's
geometry: an x error times original width / model width, a y error times original height / model
height (the model's width is 1000 for the 0-1000 families).

:func:`raw_score` maps the signals into 0-1 before a dataset has enough reviews to calibrate them:
the probability of the least likely coordinate token, times the agreement IoU when it was measured,
halved for each structure flag (duplicate, loop, last box of a cut answer, label outside the label
set). It orders boxes; it is not a probability that the box survives review.

>>> from grounding import PixelLimits, process_size
>>> from grounding.parse import parse_grounding
>>> from grounding.confidence.tokens import TokenLogprob
>>> image = process_size((2576, 1904), "qwen2.5-vl", PixelLimits(3136, 1288 * 952))   # the model saw 1288 x 952
>>> text = '[{"bbox_2d": [10, 20, 300, 400], "label": "cup"}]'
>>> tokens = [TokenLogprob(c, -0.01) for c in text[:14]] + [TokenLogprob("1", -2.0, (("1", -2.0), ("2", -0.2)))] + [
...     TokenLogprob(c, -0.01) for c in text[15:]]
>>> s = box_signals(text, parse_grounding(text, "qwen2.5-vl", image).detections, [image], tokens=tokens)[0]
>>> s["logprob_min"], round(s["error_max_px"], 1), s["border"], round(raw_score(s), 3)   # x1 = 10 may be 20: 2 x 10.1 px
(-2.0, 20.3, False, 0.135)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from grounding.confidence.digits import number_signals
from grounding.confidence.spans import coordinate_spans
from grounding.confidence.structure import structure_signals
from grounding.confidence.tokens import TokenLogprob, token_spans
from grounding.geometry import ProcessedImage
from grounding.parse.result import Detection

__all__ = ["FLAGS", "box_signals", "raw_score"]

FLAGS = ("duplicate", "loop", "last_cut", "unknown_label")
"""Structure flags that halve the raw score."""


def box_signals(text: str, detections: Sequence[Detection], images: Sequence[ProcessedImage], *,
                tokens: Sequence[TokenLogprob] | None = None, finish_reason: str = "stop") -> list[dict[str, Any]]:
    """One dict of signals per detection (JSON-ready): ``logprobs`` (whether token log-probabilities came
    with the answer) and, when they did and its digits were found, ``logprob_min``, ``logprob_mean``,
    ``error_px`` (mean expected error of its coordinates, original pixels), ``error_max_px``; then the
    structure signals."""
    truncated = finish_reason == "length"
    out = structure_signals(detections, images, text=text, truncated=truncated)
    with_tokens = bool(tokens)
    for signals in out:
        signals["logprobs"] = with_tokens
    if not tokens:
        return out
    placed = token_spans(text, tokens)
    spans = coordinate_spans(text, detections)
    for detection, signals, found in zip(detections, out, spans):
        if found is None:
            continue
        numbers = number_signals(text, found, tokens, placed)
        if any(n is None for n in numbers):
            continue
        picture = images[min(max(detection.image, 1), len(images)) - 1]
        (ow, oh), (mw, mh) = picture.original_wh, picture.model_wh
        scales = [ow / mw, oh / mh] * (len(numbers) // 2)
        errors = [n.error * scale for n, scale in zip(numbers, scales)]  # type: ignore[union-attr]  # None excluded above
        indices = sorted({t for n in numbers for t in n.tokens})  # type: ignore[union-attr]  # None excluded above
        logprobs = [tokens[t].logprob for t in indices]
        signals.update(logprob_min=round(min(logprobs), 6), logprob_mean=round(sum(logprobs) / len(logprobs), 6),
                       error_px=round(sum(errors) / len(errors), 4), error_max_px=round(max(errors), 4),
                       digit_tokens=len(indices))
    return out


def raw_score(signals: Mapping[str, Any]) -> float:
    """The signals mapped into 0-1 for ordering (not calibrated): see the module's docstring."""
    score = math.exp(min(0.0, float(signals["logprob_min"]))) if signals.get("logprob_min") is not None else 1.0
    if signals.get("agreement") is not None:
        score *= float(signals["agreement"])
    for flag in FLAGS:
        if signals.get(flag):
            score *= 0.5
    return round(score, 6)

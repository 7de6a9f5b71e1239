"""What the shape of an answer says about its boxes: overlaps and duplicates, boxes on the border, a repeated
output loop, a truncated answer.

These need no log-probabilities, so every backend has them. They are signals, not verdicts: a box
touching the border is often right (the object is cut by the frame); calibration on the dataset's
reviews (:mod:`workbench.confidence.calibration`) learns how much each one matters.

>>> from grounding import process_size
>>> from grounding.parse import parse_grounding
>>> image = process_size((640, 480), "qwen2.5-vl")
>>> text = '[{"bbox_2d": [10, 10, 100, 100], "label": "cup"}, {"bbox_2d": [12, 10, 100, 100], "label": "cup"}]'
>>> found = structure_signals(parse_grounding(text, "qwen2.5-vl", image).detections, [image], text=text)
>>> [(s["duplicate"], round(s["overlap"], 2)) for s in found]
[(False, 0.98), (True, 0.98)]
>>> repeating_tail('[{"a": 1}, ' + '{"label": "cup", "bbox_2d": [1, 2, 3, 4]}, ' * 6)
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from grounding.box_match import iou_matrix
from grounding.geometry import ProcessedImage
from grounding.parse.result import Detection

__all__ = ["BORDER_SHARE", "DUPLICATE_IOU", "LOOP_REPEATS", "repeating_tail", "structure_signals"]

DUPLICATE_IOU = 0.9
"""A box overlapping an earlier box of the same label this much is a duplicate."""
BORDER_SHARE = 0.005
"""A box edge within this share of the image side from the border touches it."""
LOOP_REPEATS = 3
"""An answer with this many duplicates, or whose end repeats one piece of text this many times, loops."""
_MIN_PERIOD, _MAX_PERIOD = 8, 300


def repeating_tail(text: str, repeats: int = LOOP_REPEATS + 1) -> bool:
    """Whether ``text`` ends with one piece (8 to 300 characters) written ``repeats`` times in a row."""
    tail = text.rstrip()[-_MAX_PERIOD * repeats:]
    for period in range(_MIN_PERIOD, min(_MAX_PERIOD, len(tail) // repeats) + 1):
        unit = tail[-period:]
        if tail.endswith(unit * repeats):
            return True
    return False


def structure_signals(detections: Sequence[Detection], images: Sequence[ProcessedImage], *, text: str = "",
                      truncated: bool = False) -> list[dict[str, Any]]:
    """Per detection: ``overlap`` (the largest IoU with another box of its label on its image),
    ``duplicate`` (IoU >= 0.9 with an earlier one), ``border`` (it touches or leaves the image),
    ``area`` (its share of the image), ``last_cut`` (the last one of a truncated answer), and the
    answer's ``loop`` and ``truncated``."""
    out: list[dict[str, Any]] = [{} for _ in detections]
    duplicates = 0
    by_image: dict[tuple[int, str], list[int]] = {}
    for index, d in enumerate(detections):
        if d.kind == "box":
            by_image.setdefault((d.image, d.label), []).append(index)
    for indices in by_image.values():
        ious = iou_matrix([detections[i].original for i in indices], [detections[i].original for i in indices])
        for row, index in enumerate(indices):
            others = [float(ious[row, col]) for col in range(len(indices)) if col != row]
            earlier = [float(ious[row, col]) for col in range(row)]
            out[index]["overlap"] = round(max(others, default=0.0), 4)
            out[index]["duplicate"] = max(earlier, default=0.0) >= DUPLICATE_IOU
            duplicates += out[index]["duplicate"]
    loop = duplicates >= LOOP_REPEATS or (bool(text) and repeating_tail(text, LOOP_REPEATS if truncated
                                                                         else LOOP_REPEATS + 1))
    for index, d in enumerate(detections):
        signals = out[index]
        w, h = images[min(max(d.image, 1), len(images)) - 1].original_wh
        if d.kind == "box":
            x1, y1, x2, y2 = d.original
            margin_x, margin_y = BORDER_SHARE * w, BORDER_SHARE * h
            signals["border"] = bool(d.outside or x1 <= margin_x or y1 <= margin_y or x2 >= w - margin_x
                                     or y2 >= h - margin_y)
            signals["area"] = round(max(0.0, min(x2, w) - max(x1, 0)) * max(0.0, min(y2, h) - max(y1, 0)) / (w * h), 6)
        else:
            signals.update(overlap=0.0, duplicate=False, border=bool(d.outside), area=0.0)
        signals["last_cut"] = truncated and index == len(detections) - 1
        signals["loop"] = loop
        signals["truncated"] = truncated
    return out

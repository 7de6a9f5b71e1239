"""Where each detection's coordinates are written in the answer: character spans of its numbers.

The parser reads many styles (JSON, ``<|box_start|>`` tokens, ``<points x1=..>``, plain lines) and
hands back detections in the order written, with the coordinates as written (box corners ordered).
Rather than thread offsets through every style, this module finds them again: it lists the numbers
of the answer (the parser's own number grammar, skipping digits that are part of a name such as
``bbox_2d``, ``x1`` or ``img10``, and the ``<think>`` drafts the parser skips too) and, detection by
detection in order, takes the first run of consecutive numbers after the previous detection's that
equals its coordinates (in the written corner order, which may be x2 before x1). So several boxes
and labels on one line, labels holding numbers, and boxes repeated with the same values each map
to their own digits.

>>> from grounding.parse import Detection
>>> text = '[{"bbox_2d": [10, 20, 30, 40], "label": "car 2"}, {"bbox_2d": [2, 40, 30, 10], "label": "car 3"}]'
>>> found = [Detection("box", "car 2", 1, (10.0, 20.0, 30.0, 40.0), (10.0, 20.0, 30.0, 40.0), False),
...          Detection("box", "car 3", 1, (2.0, 10.0, 30.0, 40.0), (2.0, 10.0, 30.0, 40.0), False)]
>>> spans = coordinate_spans(text, found)
>>> [text[a:b] for a, b in spans[0]], [text[a:b] for a, b in spans[1]]   # model order x1, y1, x2, y2
(['10', '20', '30', '40'], ['2', '10', '30', '40'])
>>> spans[1][1][0] > spans[1][3][0]     # y1 = 10 was written last
True
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Sequence

from grounding.parse.numbers import NUMBER
from grounding.parse.regions import answer_text
from grounding.parse.result import Detection

__all__ = ["Span", "coordinate_spans", "number_spans"]

Span = tuple[int, int]

_NUMBER_IN_TEXT = re.compile(rf"(?<![\w.]){NUMBER}")
"""A number not glued to a name before it (``bbox_2d``, ``x1``, ``img10`` hold no coordinates)."""

# written order -> model order for a box: (x1, y1, x2, y2), x swapped, y swapped, both swapped
_BOX_ORDERS: tuple[tuple[int, int, int, int], ...] = ((0, 1, 2, 3), (2, 1, 0, 3), (0, 3, 2, 1), (2, 3, 0, 1))


def number_spans(text: str) -> list[tuple[int, int, float]]:
    """``(start, end, value)`` of every finite number in the part of ``text`` the parser reads."""
    region = answer_text(text)[0]
    out = []
    for match in _NUMBER_IN_TEXT.finditer(region):
        value = float(match.group())
        if math.isfinite(value):
            out.append((match.start(), match.end(), value))
    return out


def coordinate_spans(text: str, detections: Sequence[Detection]) -> list[tuple[Span, ...] | None]:
    """For each detection, the spans of its coordinates in model order (None where they are not found:
    quads, coordinates written as words, a detection the parser built from numbers that are not
    consecutive in the text)."""
    numbers = number_spans(text)
    values = [value for _, _, value in numbers]
    where: dict[float, list[int]] = {}
    for index, value in enumerate(values):
        where.setdefault(value, []).append(index)
    cursor = 0
    out: list[tuple[Span, ...] | None] = []
    for detection in detections:
        found = _locate(detection, values, where, cursor)
        if found is None:
            out.append(None)
            continue
        start, order = found
        written = [(numbers[start + k][0], numbers[start + k][1]) for k in range(len(order))]
        spans: list[Span] = [(0, 0)] * len(order)
        for k, model_index in enumerate(order):
            spans[model_index] = written[k]
        out.append(tuple(spans))
        cursor = start + len(order)
    return out


def _locate(detection: Detection, values: list[float], where: dict[float, list[int]],
            cursor: int) -> tuple[int, tuple[int, ...]] | None:
    """The first index at or after ``cursor`` where the detection's coordinates are written, and in what order."""
    if "quad" in detection.attributes:
        return None
    model = detection.model
    if detection.kind == "box" and len(model) == 4:
        orders: tuple[tuple[int, ...], ...] = _BOX_ORDERS
    elif detection.kind == "point" and len(model) == 2:
        orders = ((0, 1),)
    else:
        return None
    best: tuple[int, tuple[int, ...]] | None = None
    for order in orders:
        written = [model[i] for i in order]
        if order is not orders[0] and written == [model[i] for i in orders[0]]:
            continue  # equal values: the same reading
        starts = where.get(written[0], [])
        for start in starts[bisect.bisect_left(starts, cursor):]:
            if best is not None and start >= best[0]:
                break
            end = start + len(written)
            if end <= len(values) and values[start:end] == written:
                best = (start, order)
                break
    return best

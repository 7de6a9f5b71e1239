"""The fast path: an answer that is one JSON list (or object) of flat objects, as most outputs are.

It reads the value exactly as the JSON style does (:func:`~grounding.parse.json_style.read_value`:
``json`` for a complete value, item by item for one cut off by the token limit) and turns each
object into a detection without the general machinery. It answers only when the general path
would find the same: nothing that another style reads around or inside the value (no ``<``, no
``=``, no ``(`` or line starting with a number outside it), every object flat (scalars, and one
coordinate key holding 4 or 2 finite numbers), no image keys. Otherwise it returns ``None`` and
:func:`~grounding.parse.dispatch.parse_grounding` runs every style. ``tests/grounding/test_parse_fast.py``
checks on the style table, the corpus, seeded outputs and fuzzed ones that both paths agree.

>>> fast_json('```json\\n[{"bbox_2d": [1, 2, 3, 4], "label": "cat"}]\\n```').detections
[('box', 'cat', (1.0, 2.0, 3.0, 4.0), {})]
>>> fast_json('Here: [{"bbox_2d": [1, 2, 3, 4], "label": "cat"}] (1 cat)') is None    # "(" after it
True
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from grounding.parse.json_style import read_value
from grounding.parse.objects import BOX_KEYS, IMAGE_KEYS, POINT_KEYS, label_of

__all__ = ["FastResult", "fast_json"]

_OPEN = re.compile(r"[\[{]")
# What another style could read outside the value: a bracket (more JSON), a parenthesis (bare pairs),
# "<" (tags) or "=" (action calls), or a line that starts like "x1,y1,x2,y2 label".
_RISK_BEFORE = re.compile(r"[(<=]|^[ \t]*[-+.\d*•]", re.MULTILINE)
_RISK_AFTER = re.compile(r"[\[{(<=]|^[ \t]*[-+.\d*•]", re.MULTILINE)
_RISK_IN_TAIL = _RISK_BEFORE  # after a cut: the unfinished object is left as it is
# the value's span is blanked, so what follows it on its last line starts a line for the plain style
_LINE_HEAD = re.compile(r"[ \t]*[-+.\d*•]")
_BOX = frozenset(BOX_KEYS)
_COORDINATES = frozenset(BOX_KEYS + POINT_KEYS)
_STOP_KEYS = IMAGE_KEYS | {"arguments"}


@dataclass
class FastResult:
    """``(kind, label, model coords, attributes)`` per detection, and the JSON style's warnings."""

    detections: list[tuple[str, str, tuple[float, ...], dict[str, Any]]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def fast_json(text: str, coordinate_keys: Sequence[str] = (), max_detections: int = 5_000) -> FastResult | None:
    """The detections of a plain JSON answer, or ``None`` when the general path must read ``text``."""
    if "<" in text or "=" in text:
        return None
    opener = _OPEN.search(text)
    if opener is None or _RISK_BEFORE.search(text, 0, opener.start()):
        return None
    read = read_value(text, opener.start())
    chunk = read.chunk
    if read.partial or read.how is not None and read.how != "cut-json":
        return None
    if chunk.truncated:
        if chunk.cut is None or _RISK_IN_TAIL.search(text, chunk.cut) or _LINE_HEAD.match(text, chunk.cut):
            return None
    elif _RISK_AFTER.search(text, chunk.end) or _LINE_HEAD.match(text, chunk.end):
        return None
    value = read.value
    items = value if type(value) is list else [value] if type(value) is dict else None
    if not items or len(items) > max_detections:
        return None
    extra = frozenset(coordinate_keys) - _COORDINATES
    found = FastResult()
    for item in items:
        detection = _flat_object(item, extra)
        if detection is None:
            return None
        found.detections.append(detection)
    if chunk.truncated:
        found.warnings.append(f"the output stops inside a JSON value: kept {len(items)} complete object(s)")
    return found


def _flat_object(item: Any, extra: frozenset[str]) -> tuple[str, str, tuple[float, ...], dict[str, Any]] | None:
    if type(item) is not dict:
        return None
    key = None
    for name, value in item.items():
        if name in _COORDINATES or name in extra:
            if key is not None:
                return None
            key = name
        elif type(value) is list or type(value) is dict or name in _STOP_KEYS:
            return None
    if key is None:
        return None
    coords = item[key]
    if type(coords) is not list:
        return None
    try:
        numbers = tuple([float(v) if type(v) is int or type(v) is float else _not_a_number() for v in coords])
    except (OverflowError, ValueError):
        return None
    for number in numbers:
        if number - number != 0:  # inf or nan: the general path says why it is skipped
            return None
    if len(numbers) == 4:
        kind = "box"
    elif len(numbers) == 2 and key not in _BOX:
        kind = "point"
    else:
        return None
    if len(item) == 2 and "label" in item:
        attributes: dict[str, Any] = {}
    else:
        attributes = {k: v for k, v in item.items() if k != key and k != "label"}
    return kind, label_of(item), numbers, attributes


def _not_a_number() -> float:
    raise ValueError("not a JSON number")

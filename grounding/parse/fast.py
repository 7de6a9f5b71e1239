"""The fast path: an answer that is one JSON list (or object) of flat objects, as most outputs are.

It reads the value as the JSON style does (``json`` for a complete value, item by item for one cut
off by the token limit or closed after a trailing comma; see
:func:`~grounding.parse.json_style.read_plain_json`) and turns each object into a detection
without the general machinery. It answers only when the general path would find the same: nothing
that another style reads around or inside the value (no ``<``, no ``=``, no ``(`` or line starting
with a number outside it), no repeated keys, every object flat (scalars, and one coordinate key
holding 4 or 2 finite numbers), no image keys. Otherwise it returns ``None`` and
:func:`~grounding.parse.dispatch.parse_grounding` runs every style. ``tests/grounding/parse/test_fast.py``
checks on the style table, the corpus, seeded outputs and fuzzed ones that both paths agree.

>>> fast_json('```json\\n[{"bbox_2d": [1, 2, 3, 4], "label": "cat"}]\\n```').entries
[('box', 'cat', (1.0, 2.0, 3.0, 4.0), {})]
>>> fast_json('Here: [{"bbox_2d": [1, 2, 3, 4], "label": "cat"}] (1 cat)') is None    # "(" after it
True
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from grounding.parse.json_style import read_plain_json, read_value, swap_quotes
from grounding.parse.objects import BOX_KEYS, IMAGE_KEYS, POINT_KEYS, label_of

__all__ = ["FastResult", "fast_json"]

Entry = tuple[str, str, tuple[float, ...], dict[str, Any]]
"""``(kind, label, model coordinates, attributes)``."""

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
_QUOTES = frozenset("\"'“‘「『`")
_NUMBER_TYPES = frozenset((int, float))


@dataclass
class FastResult:
    """One entry per detection, and the JSON style's warnings."""

    entries: list[Entry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _value(text: str) -> tuple[Any, Any] | None:
    """The JSON value of a plain answer and how it was read, if nothing else in the text needs reading."""
    if "<" in text or "=" in text:
        return None
    opener = _OPEN.search(text)
    if opener is None or _RISK_BEFORE.search(text, 0, opener.start()):
        return None
    swapped = swap_quotes(text)
    read = read_plain_json(text, opener.start(), swapped)
    if read is None or read.partial:
        return None
    chunk = read.chunk
    if chunk.truncated:
        if chunk.cut is None or _RISK_IN_TAIL.search(text, chunk.cut) or _LINE_HEAD.match(text, chunk.cut):
            return None
    elif _RISK_AFTER.search(text, chunk.end) or _LINE_HEAD.match(text, chunk.end):
        return None
    return read.value, (read, swapped)


def fast_json(text: str, coordinate_keys: Sequence[str] = (), max_detections: int = 5_000) -> FastResult | None:
    """The detections of a plain JSON answer, or ``None`` when the general path must read ``text``."""
    found = _value(text)
    if found is None:
        return None
    value, (read, swapped) = found
    items = value if type(value) is list else [value] if type(value) is dict else None
    if not items or len(items) > max_detections:
        return None
    extra = frozenset(coordinate_keys) - _COORDINATES
    entries: list[Entry] = []
    append, numeric, quotes = entries.append, _NUMBER_TYPES, _QUOTES
    keys = 0
    for item in items:
        # the usual object, {"bbox_2d": [x1, y1, x2, y2], "label": "cat"}, inline; any other shape in _flat_object
        if type(item) is dict and len(item) == 2 and "bbox_2d" in item and "label" in item:
            coords, label = item["bbox_2d"], item["label"]
            if type(coords) is list and len(coords) == 4 and type(label) is str:
                a, b, c, d = coords
                if type(a) in numeric and type(b) in numeric and type(c) in numeric and type(d) in numeric:
                    clean = label.strip()
                    if clean and clean[0] not in quotes:
                        try:
                            box = (float(a), float(b), float(c), float(d))
                        except OverflowError:
                            return None
                        total = box[0] + box[1] + box[2] + box[3]
                        if total - total == 0:
                            append(("box", clean, box, {}))
                            keys += 2
                            continue
        entry = _flat_object(item, extra)
        if entry is None:
            return None
        append(entry)
        keys += len(item)
    chunk = read.chunk
    if text.count(":", chunk.start, chunk.cut if chunk.truncated else chunk.end) != keys:
        # a colon inside a string, or a repeated key that json kept once: read again splitting repeated keys
        again = read_value(text, chunk.start, swapped=swapped)
        if again.how != read.how or not _same_objects(value, again.value):
            return None
    result = FastResult(entries)
    if chunk.truncated:
        result.warnings.append(f"the output stops inside a JSON value: kept {len(items)} complete object(s)")
    elif read.how == "python-literal":
        result.warnings.append("not strict JSON (single quotes or trailing commas): read as a Python literal")
    return result


def _same_objects(plain: Any, split: Any) -> bool:
    """``json``'s reading and the key-splitting one agree (no object repeated a key)."""
    if type(plain) is dict:
        return type(split) is dict
    return type(split) is list and len(split) == len(plain) and all(type(item) is dict for item in split)


def _flat_object(item: Any, extra: frozenset[str]) -> Entry | None:
    if type(item) is not dict:
        return None
    label: Any = None
    if len(item) == 2 and "label" in item:  # {"bbox_2d": [...], "label": "cat"}: most objects
        for key in item:
            if key != "label":
                break
        if key not in _COORDINATES and key not in extra:
            return None
        label = item["label"]
    else:
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
    if type(coords) is not list or not _NUMBER_TYPES.issuperset(map(type, coords)):
        return None
    try:
        if len(coords) == 4:
            kind = "box"
            numbers: tuple[float, ...] = (float(coords[0]), float(coords[1]), float(coords[2]), float(coords[3]))
            total = numbers[0] + numbers[1] + numbers[2] + numbers[3]
        elif len(coords) == 2 and key not in _BOX:
            kind = "point"
            numbers = (float(coords[0]), float(coords[1]))
            total = numbers[0] + numbers[1]
        else:
            return None
    except OverflowError:
        return None
    if total - total != 0:  # inf or nan (or a sum that overflows): the general path says what to do
        return None
    if type(label) is str and label and label[0] not in _QUOTES and not label[0].isspace() and not label[-1].isspace():
        attributes: dict[str, Any] = {}  # already clean: what clean_label would return; no other key
    else:
        label = label_of(item)
        attributes = {k: v for k, v in item.items() if k != key and k != "label"}
    return kind, label, numbers, attributes

"""One JSON object -> boxes and points: which keys hold coordinates, the label and the image.

Keys seen in real outputs: ``bbox_2d``/``bbox``/``bboxes`` (boxes), ``point_2d``/``point``
(points), ``coordinate``/``coordinate2`` (agent tool calls), flat ``x1``/``y1``/``x2``/``y2``;
labels under ``label``, ``name_en``, ``name``, ``text_content``, ``object``, nested
``names: {"en": ...}`` or a tool call's ``action``. Every other key is kept as an attribute.

>>> found = object_detections({"bbox_2d": [50, 10, 20, 40], "name_en": "Rice", "name_zh": "米饭"})
>>> [(d.kind, d.label, d.coords, d.attributes) for d in found.detections]
[('box', 'Rice', (50.0, 10.0, 20.0, 40.0), {'name_en': 'Rice', 'name_zh': '米饭'})]
>>> object_detections({"point_2d": ["925", 618], "label": "spot", "image": 2}).detections[0].image_hint
2
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from grounding.parse.raw import Found, RawDetection, as_number

__all__ = ["BOX_KEYS", "POINT_KEYS", "LABEL_KEYS", "object_detections", "has_coordinates", "clean_label", "image_hint"]

BOX_KEYS = ("bbox_2d", "bbox", "bboxes", "box", "boxes", "bbox_xyxy", "xyxy")
POINT_KEYS = ("point_2d", "point", "points", "coordinate", "coordinate2", "coordinates", "coords")
LABEL_KEYS = (
    "label", "name_en", "name", "text_content", "text", "object", "category", "class", "class_name",
    "names", "description", "caption", "name_zh", "action", "ref", "alt",
)
FLAT_BOX_KEYS = (("x1", "y1", "x2", "y2"), ("xmin", "ymin", "xmax", "ymax"), ("x_min", "y_min", "x_max", "y_max"))
FLAT_POINT_KEYS = ("x", "y")
ONE_BASED_IMAGE_KEYS = ("image", "picture", "image_id", "img_id", "picture_id", "image_number")
ZERO_BASED_IMAGE_KEYS = ("img_idx", "image_idx", "image_index", "img_index", "picture_index")

_COORDINATE_KEYS = frozenset(BOX_KEYS + POINT_KEYS)
_FLAT_FIRST_KEYS = frozenset(names[0] for names in (*FLAT_BOX_KEYS, FLAT_POINT_KEYS))
_IMAGE_KEYS = frozenset(ONE_BASED_IMAGE_KEYS + ZERO_BASED_IMAGE_KEYS)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_QUOTES = ("\"\"", "''", "“”", "‘’", "「」", "『』", "``")


def clean_label(value: Any) -> str:
    """A label as text: whitespace and one pair of surrounding quotes removed.

    >>> clean_label(' "击掌" '), clean_label({"zh": "米饭", "en": "Rice"}), clean_label(3)
    ('击掌', 'Rice', '3')
    """
    if isinstance(value, Mapping):
        for key in ("en", "english", "name_en", "label", "name"):
            if isinstance(value.get(key), str):
                return clean_label(value[key])
        strings = [v for v in value.values() if isinstance(v, str)]
        return clean_label(strings[0]) if strings else ""
    if isinstance(value, (list, tuple)):
        strings = [clean_label(v) for v in value if isinstance(v, (str, int, float, Mapping))]
        return ", ".join(s for s in strings if s)
    if value is None:
        return ""
    text = str(value).strip()
    for pair in _QUOTES:
        if len(text) >= 2 and text[0] == pair[0] and text[-1] == pair[1]:
            return text[1:-1].strip()
    return text


def _coordinate_groups(value: Any) -> list[tuple[float, ...]] | None:
    """Coordinate tuples in a value: ``[x1, y1, x2, y2]``, ``[[...], [...]]``, ``"x1 y1 x2 y2"``, ``{x, y}``.

    ``None`` when the value does not look like coordinates at all.
    """
    if isinstance(value, str):
        numbers = [float(n) for n in _NUMBER.findall(value)]
        return [tuple(numbers)] if numbers else None
    if isinstance(value, Mapping):
        for names in (*FLAT_BOX_KEYS, FLAT_POINT_KEYS):
            if all(name in value for name in names):
                numbers = [as_number(value[name]) for name in names]
                return [tuple(numbers)] if all(n is not None for n in numbers) else None  # type: ignore[arg-type]
        return None
    if isinstance(value, (list, tuple)):
        if not value:
            return []
        numbers = [as_number(v) for v in value]
        if all(n is not None for n in numbers):
            return [tuple(numbers)]  # type: ignore[arg-type]
        groups: list[tuple[float, ...]] = []
        for item in value:
            if isinstance(item, (list, tuple, Mapping, str)):
                inner = _coordinate_groups(item)
                if inner:
                    groups.extend(inner)
        return groups or None
    return None


def image_hint(obj: Mapping[str, Any]) -> tuple[int | None, str | None]:
    """1-based picture number from an ``image``-style key (``img_idx``-style keys count from 0)."""
    if _IMAGE_KEYS.isdisjoint(obj):
        return None, None
    for keys, base in ((ONE_BASED_IMAGE_KEYS, 1), (ZERO_BASED_IMAGE_KEYS, 0)):
        for key in keys:
            if key not in obj:
                continue
            value = obj[key]
            number = as_number(value)
            if number is None and isinstance(value, str):
                digits = _NUMBER.findall(value)
                number = as_number(digits[0]) if digits else None
            if number is None or not number.is_integer():
                return None, f"ignored {key}={value!r}: not a picture number"
            return int(number) + (1 - base), None
    return None, None


def has_coordinates(obj: Mapping[str, Any]) -> bool:
    if not _COORDINATE_KEYS.isdisjoint(obj):
        return True
    return not _FLAT_FIRST_KEYS.isdisjoint(obj) and any(
        all(name in obj for name in names) for names in (*FLAT_BOX_KEYS, FLAT_POINT_KEYS)
    )


def _label(obj: Mapping[str, Any]) -> str:
    for key in LABEL_KEYS:
        if key in obj:
            label = clean_label(obj[key])
            if label:
                return label
    return ""


def object_detections(obj: Mapping[str, Any], *, offset: int = 0) -> Found:
    """Every box and point one object holds (none if it has no coordinate key)."""
    found = Found()
    label = _label(obj)
    hint, problem = image_hint(obj)
    if problem:
        found.warnings.append(problem)
    used: set[str] = set()
    candidates: list[tuple[str, str, Any]] = [(key, "box", obj[key]) for key in BOX_KEYS if key in obj]
    candidates += [(key, "point", obj[key]) for key in POINT_KEYS if key in obj]
    if not candidates:
        for names in (*FLAT_BOX_KEYS, FLAT_POINT_KEYS):
            if all(name in obj for name in names):
                candidates.append((names[0], "box" if len(names) == 4 else "point", {n: obj[n] for n in names}))
                used.update(names)
                break
    for key, kind, value in candidates:
        groups = _coordinate_groups(value)
        if groups is None:
            if not isinstance(value, (Mapping, list, tuple)) or value:
                found.warnings.append(f"{key}={_short(value)} holds no coordinates")
            used.add(key)
            continue
        used.add(key)
        for coords in groups:
            if len(coords) == 4:
                found.detections.append(RawDetection("box", label, coords, offset, image_hint=hint))
            elif len(coords) == 2:
                if kind == "box":
                    found.warnings.append(f"{key} holds a point {list(coords)}: kept as a point")
                found.detections.append(RawDetection("point", label, coords, offset, image_hint=hint))
            else:
                found.warnings.append(f"{key}={_short(list(coords))} has {len(coords)} numbers, not 4 or 2: skipped")
    attributes = {k: v for k, v in obj.items() if k not in used and k != "label"}
    for detection in found.detections:
        detection.attributes = dict(attributes)
    return found


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."

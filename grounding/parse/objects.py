"""One JSON object -> boxes and points: which keys hold coordinates, the label and the image.

Keys seen in real outputs: ``bbox_2d``/``bbox``/``bboxes`` (boxes), ``point_2d``/``point``
(points), ``coordinate``/``coordinate2`` (agent tool calls), flat ``x1``/``y1``/``x2``/``y2``;
labels under ``label``, ``name_en``, ``name``, ``text_content``, ``object``, ``object_name``, nested
``names: {"en": ...}`` or a tool call's ``action``. Every other key is kept as an attribute.
Keys the user's own prompt defined (``"result": [x, y]``) are named by the caller
(``coordinate_keys``): 4 numbers there are a box, 2 a point.

>>> found = object_detections({"bbox_2d": [50, 10, 20, 40], "name_en": "Rice", "name_zh": "米饭"})
>>> [(d.kind, d.label, d.coords, d.attributes) for d in found.detections]
[('box', 'Rice', (50.0, 10.0, 20.0, 40.0), {'name_en': 'Rice', 'name_zh': '米饭'})]
>>> object_detections({"point_2d": ["925", 618], "label": "spot", "image": 2}).detections[0].image_hint
2
>>> object_detections({"result": [12, 34]}, coordinate_keys=("result",)).detections[0].coords
(12.0, 34.0)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from grounding.parse.numbers import numbers_in
from grounding.parse.raw import Found, ImageName, RawDetection, as_number

__all__ = [
    "BOX_KEYS", "CORNER_KEYS", "FRACTION", "POINT_KEYS", "LABEL_KEYS", "IMAGE_KEYS", "object_detections",
    "has_coordinates", "clean_label", "image_hint", "is_fraction", "label_of",
]

BOX_KEYS = ("bbox_2d", "bbox", "bboxes", "box", "boxes", "bbox_xyxy", "xyxy")
POINT_KEYS = ("point_2d", "point", "points", "coordinate", "coordinate2", "coordinates", "coords",
              "start_coordinate", "end_coordinate", "start_point", "end_point", "start_box", "end_box")
"""Point keys; 4 numbers under one are a box. The ``start_``/``end_`` ones are the two ends of a drag or swipe."""
LABEL_KEYS = (
    "label", "name_en", "name", "text_content", "text", "object", "object_name", "category", "class", "class_name",
    "names", "description", "caption", "name_zh", "action", "ref", "alt",
)
FLAT_BOX_KEYS = (("x1", "y1", "x2", "y2"), ("xmin", "ymin", "xmax", "ymax"), ("x_min", "y_min", "x_max", "y_max"),
                 ("x0", "y0", "x1", "y1"), ("left", "top", "right", "bottom"))
"""Named corners, in any order in the object (read by name, x first)."""
CORNER_KEYS = (("top_left", "bottom_right"), ("topleft", "bottomright"), ("top-left", "bottom-right"))
"""Two named corner points, ``{"top_left": [x1, y1], "bottom_right": [x2, y2]}``."""
FRACTION = "fractions"
"""Attribute set (to ``True``) on a detection whose named-key coordinates were 0-1 fractions of the image: the
parser turns them into the family's own coordinates."""
FLAT_POINT_KEYS = ("x", "y")
ONE_BASED_IMAGE_KEYS = ("image", "picture", "image_id", "img_id", "picture_id", "image_number")
ZERO_BASED_IMAGE_KEYS = ("img_idx", "image_idx", "image_index", "img_index", "picture_index")
IMAGE_KEYS = frozenset(ONE_BASED_IMAGE_KEYS + ZERO_BASED_IMAGE_KEYS)

_COORDINATE_KEYS = frozenset(BOX_KEYS + POINT_KEYS)
_BOX_KEYS = frozenset(BOX_KEYS)
_KEY_RANK = {key: rank for rank, key in enumerate(BOX_KEYS + POINT_KEYS)}
_FLAT_FIRST_KEYS = frozenset([names[0] for names in (*FLAT_BOX_KEYS, FLAT_POINT_KEYS)]
                              + [names[0] for names in CORNER_KEYS])
_QUOTES = {"\"": "\"", "'": "'", "“": "”", "‘": "’", "「": "」", "『": "』", "`": "`"}


def clean_label(value: Any) -> str:
    """A label as text: whitespace and one pair of surrounding quotes removed.

    >>> clean_label(' "击掌" '), clean_label({"zh": "米饭", "en": "Rice"}), clean_label(3)
    ('击掌', 'Rice', '3')
    """
    if type(value) is not str:
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
        value = str(value)
    text = str(value).strip()
    if len(text) >= 2 and _QUOTES.get(text[0]) == text[-1]:
        return text[1:-1].strip()
    return text


def label_of(obj: Mapping[str, Any]) -> str:
    """The first non-empty label under one of :data:`LABEL_KEYS` ("" when there is none)."""
    for key in LABEL_KEYS:
        if key in obj:
            label = clean_label(obj[key])
            if label:
                return label
    return ""


def _coordinate_groups(value: Any) -> list[tuple[float, ...]] | None:
    """Coordinate tuples in a value: ``[x1, y1, x2, y2]``, ``[[...], [...]]``, ``"x1 y1 x2 y2"``, ``{x, y}``.

    ``None`` when the value does not look like coordinates at all.
    """
    if isinstance(value, str):
        numbers = numbers_in(value)
        return [tuple(numbers)] if numbers else None
    if isinstance(value, Mapping):
        for names in (*FLAT_BOX_KEYS, FLAT_POINT_KEYS):
            if all(name in value for name in names):
                found = [as_number(value[name]) for name in names]
                numbers = [n for n in found if n is not None]
                return [tuple(numbers)] if len(numbers) == len(found) else None
        return None
    if isinstance(value, (list, tuple)):
        if not value:
            return []
        found = [as_number(v) for v in value]
        numbers = [n for n in found if n is not None]
        if len(numbers) == len(found):
            return [tuple(numbers)]
        groups: list[tuple[float, ...]] = []
        for item in value:
            if isinstance(item, (list, tuple, Mapping, str)):
                inner = _coordinate_groups(item)
                if inner:
                    groups.extend(inner)
        return groups or None
    return None


def image_hint(obj: Mapping[str, Any]) -> tuple[int | ImageName | None, str | None]:
    """The picture an ``image``-style key names: a 1-based number (``img_idx``-style keys count from 0),
    or the words written there (:class:`ImageName`: an image ID, "Picture 2"), and a problem if unreadable."""
    if IMAGE_KEYS.isdisjoint(obj):
        return None, None
    for keys, base in ((ONE_BASED_IMAGE_KEYS, 1), (ZERO_BASED_IMAGE_KEYS, 0)):
        for key in keys:
            if key not in obj:
                continue
            value = obj[key]
            number = as_number(value)
            if number is None and isinstance(value, str) and value.strip():
                return ImageName(value.strip()[:200], zero_based=base == 0), None
            if number is None or not number.is_integer():
                return None, f"ignored {key}={_short(value)}: not a picture number"
            return int(number) + (1 - base), None
    return None, None


def has_coordinates(obj: Mapping[str, Any], coordinate_keys: Sequence[str] = ()) -> bool:
    if not _COORDINATE_KEYS.isdisjoint(obj):
        return True
    if coordinate_keys and any(key in obj for key in coordinate_keys):
        return True
    return not _FLAT_FIRST_KEYS.isdisjoint(obj) and any(
        all(name in obj for name in names) for names in (*FLAT_BOX_KEYS, FLAT_POINT_KEYS, *CORNER_KEYS)
    )


def is_fraction(numbers: Sequence[float]) -> bool:
    """Named-key values that are 0-1 fractions of the image: all within [0, 1], at least one not whole.

    >>> is_fraction([0.1, 0.2, 0.5, 0.9]), is_fraction([0, 0, 1, 1]), is_fraction([12, 20.5, 30, 40])
    (True, False, False)
    """
    return all(0.0 <= n <= 1.0 for n in numbers) and any(not float(n).is_integer() for n in numbers)


def _named_corners(obj: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[float, ...]] | None:
    """``{"top_left": [x1, y1], "bottom_right": [x2, y2]}`` as the keys used and the box."""
    for names in CORNER_KEYS:
        if all(name in obj for name in names):
            first, second = (_coordinate_groups(obj[name]) for name in names)
            if first and second and len(first[0]) == 2 and len(second[0]) == 2:
                return names, first[0] + second[0]
    return None


def object_detections(obj: Mapping[str, Any], *, offset: int = 0, coordinate_keys: Sequence[str] = ()) -> Found:
    """Every box and point one object holds (none if it has no coordinate key)."""
    found = Found()
    label = label_of(obj)
    hint, problem = image_hint(obj)
    if problem:
        found.warnings.append(problem)
    used: set[str] = set()
    present = sorted((key for key in obj if key in _COORDINATE_KEYS), key=_KEY_RANK.__getitem__)
    candidates: list[tuple[str, str, Any]] = [(key, "box" if key in _BOX_KEYS else "point", obj[key]) for key in present]
    candidates += [(key, "any", obj[key]) for key in coordinate_keys if key in obj and key not in _COORDINATE_KEYS]
    fractions = False
    if not candidates:
        for names in (*FLAT_BOX_KEYS, FLAT_POINT_KEYS):
            if all(name in obj for name in names):
                values = [as_number(obj[name]) for name in names]
                fractions = None not in values and is_fraction(values)  # type: ignore[arg-type]  # None excluded on the same line
                candidates.append((names[0], "box" if len(names) == 4 else "point", {n: obj[n] for n in names}))
                used.update(names)
                break
        else:
            corners = _named_corners(obj)
            if corners is not None:
                corner_names, box = corners
                fractions = is_fraction(box)
                candidates.append((corner_names[0], "box", [list(box)]))
                used.update(corner_names)
    for key, kind, value in candidates:
        groups = _coordinate_groups(value)
        used.add(key)
        if groups is None:
            if not isinstance(value, (Mapping, list, tuple)) or value:
                found.warnings.append(f"{key}={_short(value)} holds no coordinates")
            continue
        for coords in groups:
            if len(coords) == 4:
                found.detections.append(RawDetection("box", label, coords, offset, image_hint=hint))
            elif len(coords) == 2:
                if kind == "box":
                    found.warnings.append(f"{key} holds a point {list(coords)}: kept as a point")
                found.detections.append(RawDetection("point", label, coords, offset, image_hint=hint))
            else:
                found.warnings.append(f"{key}={_short(list(coords))} has {len(coords)} numbers, not 4 or 2: skipped")
    if found.detections:
        attributes = {k: v for k, v in obj.items() if k not in used and k != "label"}
        copies = found.detections
        if len(copies) > 1 and attributes and _weight(attributes, _SHARED_BUDGET) * (len(copies) - 1) > _SHARED_BUDGET:
            copies = copies[:1]  # one object, thousands of boxes, big extra keys: no output blow-up
            found.warnings.append(f"an object with {len(found.detections)} boxes has large extra keys: "
                                  "kept them on its first detection only")
        for detection in copies:
            detection.attributes = dict(attributes)
        if fractions:
            for detection in found.detections:
                detection.attributes[FRACTION] = True
    return found


_SHARED_BUDGET = 100_000


def _weight(value: Any, budget: int) -> int:
    """About how many characters ``value`` takes as JSON, counting no further than ``budget``."""
    stack, total = [value], 0
    while stack and total <= budget:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item) + 2
        elif isinstance(item, Mapping):
            total += 2 * len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            total += len(item) + 1
            stack.extend(item)
        else:
            total += 8
    return total


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value) if not isinstance(value, str) or len(value) < 4 * limit else repr(value[: 2 * limit])
    return text if len(text) <= limit else text[: limit - 3] + "..."

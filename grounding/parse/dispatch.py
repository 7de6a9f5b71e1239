"""``parse_grounding``: every output style, then geometry, for one or several images.

A well-formed JSON answer (most outputs) takes :mod:`~grounding.parse.fast`; anything else runs
every style in turn (:func:`find_all`). Both hand their detections to one :class:`_Builder`, so
conversion, labels and warnings have one home.

Resources are bounded: the text is read up to :data:`MAX_OUTPUT_CHARS` characters, at most
:data:`MAX_DETECTIONS` detections and :data:`MAX_WARNINGS` warnings come back, labels are cut at
:data:`MAX_LABEL_CHARS`; each limit that bites adds a warning. Time is linear in the text.

>>> from grounding.geometry import process_size
>>> image = process_size((640, 480), "qwen2.5-vl")                  # the model saw 644 x 476
>>> result = parse_grounding('```json\\n[{"bbox_2d": [322, 238, 644, 476], "label": "cat"}]\\n```',
...                          "qwen2.5-vl", image)
>>> result.detections[0].original, result.warnings
((320.0, 240.0, 640.0, 480.0), ())
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from grounding.errors import GroundingError
from grounding.families import CoordinateConvention, ModelFamily
from grounding.geometry import ProcessedImage
from grounding.parse.actions import action_detections
from grounding.parse.copied import PLACEHOLDERS, copied_label
from grounding.parse.empty import is_explicit_empty
from grounding.parse.fast import fast_json
from grounding.parse.json_style import json_detections
from grounding.parse.markup import html_bbox_detections, point_tag_detections
from grounding.parse.objects import FRACTION
from grounding.parse.pictures import (
    Mentions,
    picture_at,
    picture_mentions,
    resolve_name,
)
from grounding.parse.plain import plain_line_detections
from grounding.parse.prose import prose_detections
from grounding.parse.raw import Found, ImageName, RawDetection
from grounding.parse.regions import answer_text, blank, final_answer_at, split_reasoning
from grounding.parse.result import COPIED_LABEL, LABEL_MISSING, Detection, Note, ParseResult
from grounding.parse.tokens import bare_pair_detections, token_detections

__all__ = [
    "INTERNAL_ERROR", "MAX_DETECTIONS", "MAX_LABEL_CHARS", "MAX_OUTPUT_CHARS", "MAX_WARNINGS", "find_all",
    "parse_grounding",
]

MAX_OUTPUT_CHARS = 131_072
"""Longest text read (about 35k tokens: more than a grounding answer cut off by a 32k ``max_new_tokens``);
the rest is cut off with a warning."""
MAX_DETECTIONS = 5_000
"""Most detections returned for one output; the rest are dropped with a warning."""
MAX_WARNINGS = 100
"""Most warnings returned; the last one then says how many more there were."""
MAX_LABEL_CHARS = 300
"""Longest label kept; a longer one is cut (with "…") and a warning."""

INTERNAL_ERROR = "parser error (please report it with the output)"

_STYLES = (action_detections, token_detections, point_tag_detections, html_bbox_detections, json_detections,
           plain_line_detections, bare_pair_detections)


@lru_cache(maxsize=64)
def _family(name: str) -> ModelFamily:
    return ModelFamily.from_name(name)


def _images(images: ProcessedImage | Sequence[ProcessedImage], family: ModelFamily) -> tuple[ProcessedImage, ...]:
    pictures = (images,) if isinstance(images, ProcessedImage) else tuple(images)
    if not pictures:
        raise GroundingError("parse_grounding needs the geometry of at least one image")
    for number, image in enumerate(pictures, start=1):
        if not isinstance(image, ProcessedImage):
            raise TypeError(f"image {number} is a {type(image).__name__}, not a ProcessedImage")
        if image.family is not family and (image.family.name != family.name
                                           or image.family.coordinates is not family.coordinates):
            raise GroundingError(f"image {number} was sized for {image.family.name} ({image.family.coordinates.value}), "
                                 f"but the family is {family.name} ({family.coordinates.value})")
    return pictures


def _names(values: Sequence[str] | str, what: str) -> tuple[str, ...]:
    if not values:
        return ()
    if isinstance(values, str):
        values = (values,)
    names = tuple(values)
    for value in names:
        if not isinstance(value, str) or not value.strip():
            raise GroundingError(f"{what} must be non-empty strings, got {value!r}")
    return tuple(value.strip() for value in names)


def coordinate_keys(values: Sequence[str] | str) -> tuple[str, ...]:
    """Extra JSON keys that hold coordinates, from a list or a comma-separated text (duplicates dropped).

    >>> coordinate_keys("position, loc,position")
    ('position', 'loc')
    >>> coordinate_keys(())
    ()
    """
    if isinstance(values, str):
        values = [part for part in values.split(",") if part.strip()]
    return tuple(dict.fromkeys(_names(values, "coordinate_keys")))


def _limit(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise GroundingError(f"{what} must be a positive whole number, got {value!r}")
    return value


def find_all(text: str, coordinate_keys: Sequence[str] = ()) -> tuple[Found, str]:
    """Run each style on what the previous ones left (their spans blanked); also return that prose.

    Coordinates written in sentences (:mod:`~grounding.parse.prose`) are read only when no structured style
    found anything: a structured answer is the final one, and places mentioned in words around it are drafts.
    After a "Final answer:" line, detections before it are drafts too.
    """
    region, warnings = answer_text(text)
    found = Found(warnings=list(warnings))
    for style in _STYLES:
        part = _run(style, region, coordinate_keys, found)
        found.extend(part)
        if part.spans:
            region = blank(region, part.spans)
    if not found.detections:
        part = _run(prose_detections, region, coordinate_keys, found)
        found.extend(part)
        if part.spans:
            region = blank(region, part.spans)
    found.detections.sort(key=lambda d: d.offset)  # stable: keeps each style's own order
    marker = final_answer_at(text) if found.detections else None
    if marker is not None and found.detections[-1].offset >= marker and found.detections[0].offset < marker:
        drafts = sum(d.offset < marker for d in found.detections)
        found.detections = [d for d in found.detections if d.offset >= marker]
        found.warnings.append(f"read the final answer only: {drafts} draft detection(s) in the reasoning before it "
                              "were left out")
    return found, region


NOTHING_FOUND = "no boxes or points found in the output"
"""The warning for an answer with nothing readable in it (an explicit empty answer gets no warning)."""


def _run(style: Any, region: str, coordinate_keys: Sequence[str], found: Found) -> Found:
    try:
        return style(region, coordinate_keys) if style is json_detections else style(region)
    except Exception as exc:
        found.warnings.append(f"{INTERNAL_ERROR} in {style.__name__}: {type(exc).__name__}: {exc}")
        return Found()


_ESCAPES = (("\\\"", "\""), ("\\'", "'"), ("\\n", "\n"), ("\\t", "\t"))


def unescaped(text: str) -> str | None:
    """``text`` copied from a log or a Python repr (``{\\"bbox_2d\\": ...}``, ``\\n``) with its escapes undone,
    or None when it has none (the parser then reads this text instead, offsets and all).

    >>> unescaped("click(start_box=\\\\'(1,2)\\\\')"), unescaped("[1, 2]")
    ("click(start_box='(1,2)')", None)
    """
    if "\\" not in text:
        return None
    out = text
    for escape, plain in _ESCAPES:
        out = out.replace(escape, plain)
    return out if out != text else None


OUTSIDE_WARNING = "detection(s) reach beyond their image"
"""The words of the warning for detections beyond their image (callers that clamp say so in their own words)."""


class _Builder:
    """Turns what the styles found into :class:`Detection` objects: geometry, labels, counts for warnings."""

    def __init__(self, pictures: tuple[ProcessedImage, ...], prompt: str = "") -> None:
        self.prompt = prompt
        self.copied = 0
        self._copied_labels: dict[str, bool] = {}
        self.scales = [(p.original_wh[0], p.original_wh[1], *p.model_wh) for p in pictures]
        self.relative = [p.family.coordinates.x_first is CoordinateConvention.RELATIVE_1000 for p in pictures]
        self.y_first = [p.family.coordinates.y_first for p in pictures]
        self.family = pictures[0].family.name if pictures else ""
        self.assumed = bool(pictures) and not pictures[0].family.convention_known
        self._convention = pictures[0].family.coordinates.value if pictures else ""
        self.detections: list[Detection] = []
        self.warnings: list[str] = []
        self.swapped = self.unlabelled = self.outside = self.long_labels = self.over_1000 = 0

    def _copied(self, label: str) -> bool:
        """:func:`~grounding.parse.copied.copied_label` (the caller asks once per distinct label)."""
        if not label or not (len(label) >= 24 or label[0] in "<{[." or label.lower() in PLACEHOLDERS):
            return False
        return copied_label(label, self.prompt)

    def add(self, kind: str, label: str, coords: tuple[float, ...], attributes: dict[str, Any], number: int) -> None:
        self.add_many(((kind, label, coords, attributes),), number)

    def add_many(self, entries: Iterable[tuple[str, str, tuple[float, ...], dict[str, Any]]], number: int) -> None:
        """``(kind, label, model coords, attributes)`` entries on picture ``number`` (one loop: the hot path)."""
        ow, oh, mw, mh = self.scales[number - 1]
        isfinite, append, new = math.isfinite, self.detections.append, Detection
        y_first = self.y_first[number - 1]
        copied_labels = self._copied_labels
        for kind, label, coords, attributes in entries:
            if y_first:  # [y1, x1, y2, x2] as written: read x first from here on (``model`` is x first too)
                coords = tuple(coords[i + 1 - 2 * (i % 2)] for i in range(len(coords)))
            if attributes and FRACTION in attributes:  # 0-1 fractions under named keys: the family's own space
                coords = tuple(v * (mw if i % 2 == 0 else mh) for i, v in enumerate(coords))
            copied = copied_labels.get(label)
            if copied is None:
                copied = copied_labels[label] = self._copied(label)
            if copied:
                attributes = {**attributes, COPIED_LABEL: label}
                label = ""
                self.copied += 1
            if kind == "box":
                a, b, c, d = coords
                x1, x2 = (c if c < a else a), (c if c > a else a)  # min() and max(), ties included
                y1, y2 = (d if d < b else b), (d if d > b else b)
                model: tuple[float, ...] = (x1, y1, x2, y2)
                original: tuple[float, ...] = (x1 * ow / mw, y1 * oh / mh, x2 * ow / mw, y2 * oh / mh)
                total = original[0] + original[1] + original[2] + original[3]  # inf or nan if any is (or if huge)
                if not isfinite(total) and not (isfinite(original[0]) and isfinite(original[1])
                                                and isfinite(original[2]) and isfinite(original[3])):
                    self.warnings.append(f"'{label[:MAX_LABEL_CHARS]}' has coordinates too large to convert: skipped")
                    continue
                if c < a or d < b:
                    self.swapped += 1
                outside = not (x1 >= 0 and x2 <= mw and y1 >= 0 and y2 <= mh)
            else:
                x, y = coords
                model = (x, y)
                original = (x * ow / mw, y * oh / mh)
                if not (isfinite(original[0]) and isfinite(original[1])):
                    self.warnings.append(f"'{label[:MAX_LABEL_CHARS]}' has coordinates too large to convert: skipped")
                    continue
                outside = not (0 <= x <= mw and 0 <= y <= mh)
            if not label:
                attributes[LABEL_MISSING] = True
                self.unlabelled += 1
            elif len(label) > MAX_LABEL_CHARS:
                label = label[:MAX_LABEL_CHARS] + "…"
                self.long_labels += 1
            if "quad" in attributes:
                attributes["quad_original"] = [[qx * ow / mw, qy * oh / mh] for qx, qy in attributes["quad"]]
            if outside:
                self.outside += 1
                if self.relative[number - 1] and max(model) > 1000:
                    self.over_1000 += 1
            append(new(kind, label, number, model, original, outside, attributes))  # type: ignore[arg-type]  # the family's detection type, made by the caller

    def result(self, warnings: list[str], reasoning: str = "") -> ParseResult:
        warnings = warnings + self.warnings
        if self.swapped:
            warnings.append(f"{self.swapped} box(es) had x1 > x2 or y1 > y2: corners reordered")
        if self.copied:
            warnings.append(f"{self.copied} label(s) copied the question or a template placeholder: set aside (attribute "
                            f"{COPIED_LABEL}), so the detection(s) count as unlabelled")
        if self.unlabelled:
            warnings.append(f"{self.unlabelled} detection(s) have no label: kept with the attribute "
                            f"{LABEL_MISSING}=true (name them, e.g. after the prompt's target)")
        if self.long_labels:
            warnings.append(f"{self.long_labels} label(s) longer than {MAX_LABEL_CHARS} characters were cut")
        if self.outside:
            warnings.append(Note(f"{self.outside} {OUTSIDE_WARNING} (partly or wholly): kept as written, clamp to draw",
                                 "outside"))
        if self.over_1000:
            warnings.append(f"{self.over_1000} of them have values above 1000, where {self.family} writes 0-1000 "
                            "relative coordinates: the output may come from a model that writes pixels (Qwen2.5-VL); "
                            "check the family")
        if not self.detections:
            warnings.append(NOTHING_FOUND)
        elif self.assumed:
            warnings.append(f"{self.family}'s coordinate convention is not documented: read as "
                            f"{self._convention}, assumed; check it with `workbench probe-convention`")
        unique = list(dict.fromkeys(warnings))
        if len(unique) > MAX_WARNINGS:
            unique = unique[:MAX_WARNINGS - 1] + [f"... and {len(unique) - MAX_WARNINGS + 1} more warnings"]
        return ParseResult(tuple(self.detections), tuple(unique), reasoning=reasoning)


def _picture(raw: RawDetection, mentions: Mentions, count: int, target: int | None, image_ids: tuple[str, ...],
             warnings: list[str]) -> int | None:
    """The 1-based picture of one detection, or ``None`` when it names an image that is not in the request."""
    hint = raw.image_hint
    label = raw.label[:60]
    if isinstance(hint, ImageName):
        hint, problem = resolve_name(hint, image_ids)
        if hint is None:
            if target is not None or count == 1:
                fallback = target or 1
                warnings.append(f"'{label}' {problem}: put on picture {fallback}")
                return fallback
            warnings.append(f"'{label}' {problem}: skipped {raw.kind} {list(raw.coords)} (not put on another image)")
            return None
    if hint is not None:
        if 1 <= hint <= count:
            if target is not None and hint != target:
                warnings.append(f"'{label}' says picture {hint}, the target is {target}: used {hint}")
            return hint
        fallback = target or 1
        warnings.append(f"'{label}' names picture {hint}, but there are {count}: put on picture {fallback}")
        return fallback
    if target is not None:
        return target
    if count > 1:
        mentioned = picture_at(mentions, raw.offset)
        if mentioned is not None and 1 <= mentioned <= count:
            return mentioned
    return 1


def parse_grounding(
    text: str,
    family: ModelFamily | str,
    images: ProcessedImage | Sequence[ProcessedImage],
    *,
    target_image: int | None = None,
    image_ids: Sequence[str] = (),
    coordinate_keys: Sequence[str] = (),
    max_chars: int = MAX_OUTPUT_CHARS,
    max_detections: int = MAX_DETECTIONS,
    prompt: str = "",
) -> ParseResult:
    """Boxes and points in a Qwen-VL output, on the original images; never raises on model text.

    ``images`` is the geometry of each image in the request, in order ("Picture 1", ...), and
    ``image_ids`` their IDs when the prompt named them so (``"image": "img10"`` is then the picture
    whose ID is img10; an ID not in the list is a warning, never another picture). A detection goes
    to the picture its own ``image``/``img_idx`` key names, else ``target_image``, else the picture
    last mentioned before it, else picture 1. ``coordinate_keys`` names extra JSON keys that hold
    coordinates (``("result",)`` for ``"result": [x, y]``). ``prompt``, when given, is the question the
    answer is for: a label that copies it is set aside (as is a template placeholder such as
    ``"object name/description"``), leaving the detection unlabelled. Reasoning before the answer
    (``<think>``, a lone ``</think>``, prose before "Final answer:") is returned in ``reasoning`` and its
    coordinates are not read when an answer follows. Raises ``ValueError``/``TypeError`` only
    for bad arguments (unknown family, no images, a target out of range, IDs not one per image,
    text not a str).
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    family = family if isinstance(family, ModelFamily) else _family(family)
    pictures = _images(images, family)
    if target_image is not None and not 1 <= target_image <= len(pictures):
        raise GroundingError(f"target_image {target_image} is not between 1 and {len(pictures)}")
    ids = _names(image_ids, "image_ids")
    if ids and len(ids) != len(pictures):
        raise GroundingError(f"image_ids has {len(ids)} IDs for {len(pictures)} images")
    if len(set(ids)) != len(ids):
        raise GroundingError(f"image_ids must be unique, got {list(ids)}")
    keys = _names(coordinate_keys, "coordinate_keys")
    max_chars, max_detections = _limit(max_chars, "max_chars"), _limit(max_detections, "max_detections")

    warnings: list[str] = []
    if len(text) > max_chars:
        warnings.append(f"the output has {len(text):,} characters: read the first {max_chars:,} only")
        text = text[:max_chars]
    if not isinstance(prompt, str):
        raise TypeError(f"prompt must be a str, got {type(prompt).__name__}")
    builder = _Builder(pictures, prompt)
    if len(pictures) == 1 or target_image is not None:
        fast = fast_json(text, keys, max_detections)
        if fast is not None:
            builder.add_many(fast.entries, target_image or 1)
            return _said_none(builder.result(warnings + fast.warnings, split_reasoning(text)), text)

    found, prose = find_all(text, keys)
    if not found.detections and (plain := unescaped(text)) is not None:
        again, again_prose = find_all(plain, keys)
        if again.detections:
            found, prose, text = again, again_prose, plain
            found.warnings.append("read the output with its escapes undone (text copied from a log or a Python repr)")
    warnings += found.warnings
    raws = found.detections
    if len(raws) > max_detections:
        warnings.append(f"the output holds {len(raws):,} detections: kept the first {max_detections:,}")
        raws = raws[:max_detections]
    mentions = picture_mentions(prose, ids) if len(pictures) > 1 and target_image is None else Mentions()
    for raw in raws:
        number = _picture(raw, mentions, len(pictures), target_image, ids, warnings)
        if number is not None:
            builder.add(raw.kind, raw.label, raw.coords, raw.attributes, number)
    if len(pictures) > 1 and target_image is None and not mentions and any(r.image_hint is None for r in raws):
        warnings.append("several images but no image key or 'Picture N' for some detections: put on picture 1")
    return _said_none(builder.result(warnings, split_reasoning(text)), text)


def _said_none(result: ParseResult, text: str) -> ParseResult:
    """An answer with nothing in it that says so (``[]``, "none") is an explicit empty answer, not a failure."""
    if result.detections or not is_explicit_empty(text):
        return result
    return ParseResult((), tuple(w for w in result.warnings if w != NOTHING_FOUND), empty=True,
                       reasoning=result.reasoning)

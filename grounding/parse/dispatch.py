"""``parse_grounding``: every output style, then geometry, for one or several images.

>>> from grounding.geometry import process_size
>>> image = process_size((640, 480), "qwen2.5-vl")                  # the model saw 644 x 476
>>> result = parse_grounding('```json\\n[{"bbox_2d": [322, 238, 644, 476], "label": "cat"}]\\n```',
...                          "qwen2.5-vl", image)
>>> result.detections[0].original, result.warnings
((320.0, 240.0, 640.0, 480.0), ())
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from grounding.coords import is_outside, order_corners, to_original
from grounding.families import ModelFamily
from grounding.geometry import ProcessedImage
from grounding.parse.json_style import json_detections
from grounding.parse.markup import html_bbox_detections, point_tag_detections
from grounding.parse.pictures import picture_at, picture_mentions
from grounding.parse.plain import plain_line_detections
from grounding.parse.raw import Found, RawDetection
from grounding.parse.regions import answer_text, blank
from grounding.parse.result import Detection, ParseResult
from grounding.parse.tokens import bare_pair_detections, token_detections

__all__ = ["INTERNAL_ERROR", "parse_grounding"]

INTERNAL_ERROR = "parser error (please report it with the output)"

_STYLES = (token_detections, point_tag_detections, html_bbox_detections, json_detections,
           plain_line_detections, bare_pair_detections)


def _images(images: ProcessedImage | Sequence[ProcessedImage], family: ModelFamily) -> tuple[ProcessedImage, ...]:
    pictures = (images,) if isinstance(images, ProcessedImage) else tuple(images)
    if not pictures:
        raise ValueError("parse_grounding needs the geometry of at least one image")
    for number, image in enumerate(pictures, start=1):
        if not isinstance(image, ProcessedImage):
            raise TypeError(f"image {number} is a {type(image).__name__}, not a ProcessedImage")
        if image.family != family:
            raise ValueError(f"image {number} was sized for {image.family.name}, but the family is {family.name}")
    return pictures


def _find_all(text: str) -> tuple[Found, str]:
    """Run each style on what the previous ones left (their spans blanked); also return that prose."""
    region, warnings = answer_text(text)
    found = Found(warnings=list(warnings))
    for style in _STYLES:
        try:
            part = style(region)
        except Exception as exc:  # noqa: BLE001 - last guard of "model text never raises"; fuzz tests look for it
            found.warnings.append(f"{INTERNAL_ERROR} in {style.__name__}: {type(exc).__name__}: {exc}")
            continue
        found.extend(part)
        region = blank(region, part.spans)
    found.detections.sort(key=lambda d: d.offset)  # stable: keeps each style's own order
    return found, region


def _picture(raw: RawDetection, mentions: list[tuple[int, int]], count: int, target: int | None,
             warnings: list[str]) -> int:
    if raw.image_hint is not None:
        if 1 <= raw.image_hint <= count:
            if target is not None and raw.image_hint != target:
                warnings.append(f"'{raw.label}' says picture {raw.image_hint}, the target is {target}: used {raw.image_hint}")
            return raw.image_hint
        fallback = target or 1
        warnings.append(f"'{raw.label}' names picture {raw.image_hint}, but there are {count}: put on picture {fallback}")
        return fallback
    if target is not None:
        return target
    if count > 1:
        mentioned = picture_at(mentions, raw.offset)
        if mentioned is not None and 1 <= mentioned <= count:
            return mentioned
    return 1


def _locate(raw: RawDetection, image: ProcessedImage, number: int) -> Detection | None:
    if not all(math.isfinite(v) for v in raw.coords):  # "1e999", or 400 digits in a regex-read box
        return None
    model = order_corners(raw.coords) if raw.kind == "box" else tuple(raw.coords)
    original = to_original(model, image)
    if not all(math.isfinite(v) for v in original):
        return None
    return Detection(raw.kind, raw.label, number, model, original,  # type: ignore[arg-type]
                     is_outside(model, image.model_wh), raw.attributes)


def parse_grounding(
    text: str,
    family: ModelFamily | str,
    images: ProcessedImage | Sequence[ProcessedImage],
    *,
    target_image: int | None = None,
) -> ParseResult:
    """Boxes and points in a Qwen-VL output, on the original images; never raises on model text.

    ``images`` is the geometry of each image in the request, in order ("Picture 1", ...).
    A detection goes to the picture its own ``image``/``img_idx`` key names, else ``target_image``,
    else the picture last mentioned before it, else picture 1. Raises ``ValueError``/``TypeError``
    only for bad arguments (unknown family, no images, a target out of range, text not a str).
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    family = ModelFamily.from_name(family)
    pictures = _images(images, family)
    if target_image is not None and not 1 <= target_image <= len(pictures):
        raise ValueError(f"target_image {target_image} is not between 1 and {len(pictures)}")

    found, prose = _find_all(text)
    warnings = list(found.warnings)
    mentions = picture_mentions(prose) if len(pictures) > 1 else []
    detections: list[Detection] = []
    swapped = unlabelled = outside = 0
    for raw in found.detections:
        number = _picture(raw, mentions, len(pictures), target_image, warnings)
        detection = _locate(raw, pictures[number - 1], number)
        if detection is None:
            warnings.append(f"'{raw.label}' has coordinates too large to convert: skipped")
            continue
        swapped += raw.kind == "box" and detection.model != tuple(raw.coords)
        unlabelled += detection.label == ""
        outside += detection.outside
        detections.append(detection)
    if swapped:
        warnings.append(f"{swapped} box(es) had x1 > x2 or y1 > y2: corners reordered")
    if unlabelled:
        warnings.append(f"{unlabelled} detection(s) have no label")
    if outside:
        warnings.append(f"{outside} detection(s) lie partly outside their image: kept as written, clamp to draw")
    if len(pictures) > 1 and target_image is None and not mentions and any(r.image_hint is None for r in found.detections):
        warnings.append("several images but no image key or 'Picture N' for some detections: put on picture 1")
    if not detections:
        warnings.append("no boxes or points found in the output")
    return ParseResult(tuple(detections), tuple(dict.fromkeys(warnings)))

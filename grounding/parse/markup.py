"""Coordinates in XML/HTML attributes: ``<points x1=".." y1=".." alt="..">`` and ``data-bbox="x1 y1 x2 y2"``.

>>> found = point_tag_detections('<points x1="10" y1="20" x2="30" y2="40" alt="cups">cups</points>')
>>> [(d.label, d.coords) for d in found.detections]
[('cups', (10.0, 20.0)), ('cups', (30.0, 40.0))]
>>> d = html_bbox_detections('<p class="title" data-bbox="310 94 658 132">Qwen2.5</p>').detections[0]
>>> d.label, d.coords, d.attributes
('p.title', (310.0, 94.0, 658.0, 132.0), {'text_content': 'Qwen2.5'})
"""

from __future__ import annotations

import html
import re

from grounding.parse.numbers import numbers_in
from grounding.parse.objects import clean_label
from grounding.parse.raw import Found, RawDetection, as_number

__all__ = ["point_tag_detections", "html_bbox_detections"]

# (?<![\w:-]): a name starts only at a name boundary (else a long word is rescanned from each letter)
_ATTRIBUTE = re.compile(r"""(?<![\w:-])([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_XY = re.compile(r"[xy]\d*")
_POINT_TAG = re.compile(r"<(points?)\b([^<>]*)>(?:([^<]*)</\1\s*>)?", re.IGNORECASE)  # [^<]: linear
# quoted values stay inside the tag ([^"<>]): an unclosed quote must not run to the end of the text
_HTML_BBOX = re.compile(r"<([A-Za-z][\w-]*)\b([^<>]*?\bdata-bbox\s*=\s*(?:\"[^\"<>]*\"|'[^'<>]*')[^<>]*)>([^<]*)")


def _attributes(source: str) -> dict[str, str]:
    return {m.group(1).lower(): html.unescape(m.group(2) if m.group(2) is not None else m.group(3))
            for m in _ATTRIBUTE.finditer(source)}


def point_tag_detections(text: str) -> Found:
    """Points from ``<points x1 y1 x2 y2 ... alt>phrase</points>`` and ``<point x y alt>``."""
    found = Found()
    if "<" not in text:
        return found
    for match in _POINT_TAG.finditer(text):
        attributes = _attributes(match.group(2))
        label = clean_label(html.unescape(match.group(3) or "")) or clean_label(attributes.get("alt", ""))
        pairs: list[tuple[float, float]] = []
        if "x" in attributes and "y" in attributes:
            pairs.append((attributes["x"], attributes["y"]))  # type: ignore[arg-type]  # text, read as numbers below
        index = 1
        while f"x{index}" in attributes and f"y{index}" in attributes:
            pairs.append((attributes[f"x{index}"], attributes[f"y{index}"]))  # type: ignore[arg-type]  # text, read as numbers below
            index += 1
        if not pairs:
            continue
        found.spans.append(match.span())
        extra = {k: v for k, v in attributes.items() if not _XY.fullmatch(k)}
        for x, y in pairs:
            point = (as_number(x), as_number(y))
            if None in point:
                found.warnings.append(f"a <{match.group(1)}> tag has a coordinate that is not a number: skipped")
                continue
            found.detections.append(RawDetection("point", label, point, match.start(), dict(extra)))  # type: ignore[arg-type]  # None excluded above
    return found


def html_bbox_detections(text: str) -> Found:
    """Boxes from HTML elements with ``data-bbox="x1 y1 x2 y2"``; label ``tag.class``, text kept."""
    found = Found()
    if "data-bbox" not in text:
        return found
    for match in _HTML_BBOX.finditer(text):
        tag, attributes = match.group(1).lower(), _attributes(match.group(2))
        numbers = numbers_in(attributes.get("data-bbox", ""))
        found.spans.append(match.span())
        if len(numbers) != 4:
            found.warnings.append(f"<{tag} data-bbox=...> holds {len(numbers)} numbers, not 4: skipped")
            continue
        classes = attributes.get("class", "").split()
        label = tag + (f".{classes[0]}" if classes else "")
        extra = {k: v for k, v in attributes.items() if k not in ("data-bbox", "class")}
        content = " ".join(html.unescape(match.group(3)).split())
        if content:
            extra["text_content"] = content
        found.detections.append(RawDetection("box", label, tuple(numbers), match.start(), extra))
    return found

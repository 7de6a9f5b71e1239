"""Coordinates written in sentences, not in a format: read only when nothing structured was found.

Models that are not asked for JSON (or that think aloud) write places in words:

- a bare list ending a sentence: ``The red square is at [64, 48, 320, 240].``
- a point and a box in one sentence: ``It is located at (192, 144), with a bounding box of (64, 48, 320, 240).``
  (the box is the answer; the point is its centre, left out);
- two corner lines: ``- Top-left corner: (64, 48)`` then ``- Bottom-right corner: (320, 240)``;
- named values: ``x_max: 320, x_min: 64, y_min: 48, y_max: 240`` (any order; 0-1 fractions are read as such).

Numbers in prose that are not places stay numbers: a parenthesised pair or quadruple counts only after a
word that speaks of a place ("at", "box", "located", "coordinates", "point", "corner", …) and not after one that
speaks of a size ("size", "resolution", "dimensions", …); a bracketed list of four counts anywhere in a sentence,
two only after a place word; negative values never. Counts ("3 cats"), years ("in 2019"), sizes ("1920x1080") and
list numbering ("1. ") have no brackets and are never read. The label is the sentence's subject where it has one
("The red square is located at …" gives "red square"), else none (the caller names it after the target).

Every pattern is matched line by line with bounded repeats: time is linear in the text.

>>> [(d.kind, d.label, d.coords) for d in prose_detections("The red square is at [64, 48, 320, 240].").detections]
[('box', 'red square', (64.0, 48.0, 320.0, 240.0))]
>>> prose_detections("There are 3 cats; the photo (1920, 1080) is from 2019.").detections
[]
"""

from __future__ import annotations

import re

from grounding.parse.numbers import NUMBER
from grounding.parse.objects import FRACTION, clean_label, is_fraction
from grounding.parse.raw import Found, RawDetection
from grounding.parse.regions import blank

__all__ = ["prose_detections"]

_N = rf"\s{{0,3}}({NUMBER})\s{{0,3}}"
_GROUP = re.compile(rf"([\[(]){_N},{_N}(?:,{_N},{_N})?([\])])")
_PLACE = re.compile(r"(?:\b(?:at|box|bbox|bounding|located|location|position|positioned|coordinates?|point|"
                    r"centered|centred|center|centre|corner|region|spans?|from|to|between|click|tap|found|"
                    r"lies|sits?)\b)[^.!?;\n\d]{0,24}\Z", re.IGNORECASE)
_SIZE = re.compile(r"\b(?:size|sizes|resolution|dimensions?|width|height|aspect|ratio|version|years?|rgb|colou?r|"
                   r"scale|shape|range|counts?|number|total|score|percent|age|price)\b[^.!?;\n\d]{0,16}\Z",
                   re.IGNORECASE)
_SUBJECT = re.compile(r"^[\s>*#\-•\d.)]*(?:the|a|an)?\s*(?P<label>[^.!?;:\n()\[\]{}]{1,60}?)\s+"
                      r"(?:is|are|appears?|sits?|lies|can be (?:found|seen)|was|has been)\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?;\n]")
_JSONISH = re.compile(r"(?:[\"']\s{0,3}:|[\[,{])\s{0,3}\Z")
_CORNER = re.compile(
    rf"^[ \t]*(?:[-*•]|\d{{1,3}}[.)])?[ \t]*(?:\*\*)?(?P<v>top|upper|bottom|lower)[ \t_-]?(?P<h>left|right)"
    rf"(?:[ \t_-]?(?:corner|point|vertex))?(?:\*\*)?[ \t]*[:：=]?[ \t]*(?:\*\*)?[ \t]*[\[(]{_N},{_N}[\])]",
    re.IGNORECASE | re.MULTILINE)
_KEYED = re.compile(rf"(?<![\w\"'])(?P<key>x_?min|y_?min|x_?max|y_?max|x[12]|y[12]|left|top|right|bottom)"
                    rf"[\"']?\s{{0,3}}[:=]\s{{0,3}}(?P<value>{NUMBER})", re.IGNORECASE)
_KEY_SETS = (("xmin", "ymin", "xmax", "ymax"), ("x1", "y1", "x2", "y2"), ("left", "top", "right", "bottom"))
_HEADING = re.compile(r"^[\s>*#\-•]*(?:\d{1,3}[.)]\s*)?(?:\*\*)?(?P<label>[^:*\n]{1,60}?)(?:\*\*)?\s*:?\s*$")


def _sentence_start(text: str, position: int) -> int:
    """Where the sentence holding ``position`` starts (after the last . ! ? ; or newline, 200 characters at most)."""
    window_start = max(0, position - 200)
    start = window_start
    for match in _SENTENCE_END.finditer(text, window_start, position):
        start = match.end()
    return start


_NOT_A_SUBJECT = frozenset(("it", "this", "that", "box", "bbox", "the box", "bounding box", "object", "target",
                            "coordinates", "location", "position", "answer", "result", "point"))


def _subject(text: str, start: int, end: int) -> str:
    match = _SUBJECT.match(text, start, end)
    label = clean_label(match.group("label")) if match else ""
    return "" if label.lower() in _NOT_A_SUBJECT else label


def _groups(text: str, found: Found) -> None:
    """Bracketed and parenthesised numbers in sentences: boxes, and points where no box shares the sentence."""
    points: dict[int, list[RawDetection]] = {}
    boxed: set[int] = set()
    for match in _GROUP.finditer(text):
        opener, closer = match.group(1), match.group(6)
        if (opener == "[") != (closer == "]"):
            continue
        numbers = [float(v) for v in match.groups()[1:5] if v is not None]
        if any(n < 0 for n in numbers):
            continue
        sentence = _sentence_start(text, match.start())
        if _JSONISH.search(text, max(0, match.start() - 8), match.start()):
            continue  # a value inside JSON (a key's, a nested list's): the JSON style's to read or to drop
        before = text[max(sentence, match.start() - 60):match.start()]
        if _SIZE.search(before):
            continue
        place = _PLACE.search(before) is not None
        if not place and not (opener == "[" and len(numbers) == 4):
            continue
        label = _subject(text, sentence, match.start())
        kind = "box" if len(numbers) == 4 else "point"
        detection = RawDetection(kind, label, tuple(numbers), match.start())
        found.spans.append(match.span())
        if kind == "box":
            found.detections.append(detection)
            boxed.add(sentence)
        else:
            points.setdefault(sentence, []).append(detection)
    for sentence, sentence_points in points.items():
        if sentence not in boxed:  # "located at (x, y), with a bounding box of (...)": the point is its centre
            found.detections.extend(sentence_points)


def _heading_before(text: str, line_start: int) -> str:
    """The label a list of corner lines sits under: the nearest line above that is not itself a corner line."""
    end = line_start - 1
    for _ in range(3):
        if end <= 0:
            return ""
        start = text.rfind("\n", 0, end) + 1
        line = text[start:end]
        if line.strip() and not _CORNER.match(line):
            match = _HEADING.match(line)
            return clean_label(match.group("label")) if match else ""
        end = start - 1
    return ""


def _corners(text: str, found: Found) -> None:
    """``Top-left corner: (x1, y1)`` followed within two lines by the opposite corner: one box."""
    pending: dict[str, tuple[re.Match[str], str]] = {}
    for match in _CORNER.finditer(text):
        vertical = "top" if match.group("v").lower() in ("top", "upper") else "bottom"
        corner = f"{vertical}-{match.group('h').lower()}"
        opposite = {"top-left": "bottom-right", "bottom-right": "top-left", "top-right": "bottom-left",
                    "bottom-left": "top-right"}[corner]
        other = pending.pop(opposite, None)
        if other is not None and text.count("\n", other[0].end(), match.start()) <= 2:
            first, _ = other
            x1, y1 = float(first.group(3)), float(first.group(4))
            x2, y2 = float(match.group(3)), float(match.group(4))
            label = _heading_before(text, text.rfind("\n", 0, first.start()) + 1)
            found.detections.append(RawDetection("box", label, (x1, y1, x2, y2), first.start(),
                                                 {"corners": [other[1], corner]}))
            found.spans += [first.span(), match.span()]
            pending.clear()
        else:
            pending = {corner: (match, corner)}


def _keyed(text: str, found: Found) -> None:
    """Runs of ``key: value`` pairs (any order, 80 characters apart at most) that name four corners."""
    run: dict[str, tuple[float, int, int]] = {}
    last_end = -1

    def flush() -> None:
        for names in _KEY_SETS:
            if all(name in run for name in names):
                numbers = [run[name][0] for name in names]
                start = min(run[name][1] for name in names)
                attributes = {FRACTION: True} if is_fraction(numbers) else {}
                label = _subject(text, _sentence_start(text, start), start)
                found.detections.append(RawDetection("box", label, tuple(numbers), start, attributes))
                found.spans += [(run[name][1], run[name][2]) for name in names]
                return

    for match in _KEYED.finditer(text):
        if last_end >= 0 and match.start() - last_end > 80:
            flush()
            run = {}
        key = match.group("key").lower().replace("_", "")
        if key in run:  # a repeated key starts the next object
            flush()
            run = {}
        run[key] = (float(match.group("value")), match.start(), match.end())
        last_end = match.end()
    flush()


def prose_detections(text: str) -> Found:
    """Boxes and points written in sentences (see the module's docstring)."""
    found = Found()
    if "(" in text or "[" in text:
        _corners(text, found)
        _groups(blank(text, found.spans) if found.spans else text, found)
    if ":" in text or "=" in text:
        _keyed(blank(text, found.spans) if found.spans else text, found)
    found.detections.sort(key=lambda d: d.offset)
    if found.detections:
        found.warnings.append("read coordinates written in prose (no structured answer): check the boxes")
    return found

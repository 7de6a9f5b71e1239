"""Plain-text lines ``x1,y1,x2,y2 label`` (the cookbook's plain-text detection prompt).

A leading ``-``/``*`` followed by a blank, or ``•``, is a list bullet; ``-10,...`` is a negative number.
A line of prose that happens to start with four numbers is not a box: ``2019, 2020, 2021, 2022 were good
years`` (the "label" goes on as a sentence: it starts with a verb or a joining word).

>>> [(d.label, d.coords) for d in plain_line_detections("43,378,996,957 cakes\\nno box here").detections]
[('cakes', (43.0, 378.0, 996.0, 957.0))]
>>> [d.coords for d in plain_line_detections("- -5,1e2,30,40 a").detections]
[(-5.0, 100.0, 30.0, 40.0)]
"""

from __future__ import annotations

import re

from grounding.parse.numbers import NUMBER
from grounding.parse.objects import clean_label
from grounding.parse.raw import Found, RawDetection

__all__ = ["plain_line_detections"]

_N = rf"({NUMBER})"
_SEP = r"[ \t]*,[ \t]*"
_BULLET = r"(?:[-*][ \t]+|•[ \t]*)?"
# matched line by line: no two adjacent quantifiers over the same characters, a greedy label
_LINE = re.compile(rf"[ \t]*{_BULLET}{_N}{_SEP}{_N}{_SEP}{_N}{_SEP}{_N}(?:[ \t:]+([^\n]*))?")
_STARTS = frozenset("0123456789+-.*•")
# what goes on a sentence, never a label: "were good years", "and 30 percent", "respectively"
_SENTENCE = re.compile(r"%|(?:were|was|are|is|and|or|to|of|in|percent|per|respectively|times|years?|have|had|"
                       r"will|would)\b", re.IGNORECASE)


def plain_line_detections(text: str) -> Found:
    """One box per line that starts with four comma-separated numbers."""
    found = Found()
    position = 0
    for line in text.split("\n"):
        head = line.lstrip(" \t")[:1]
        if head and head in _STARTS:
            match = _LINE.fullmatch(line)
            if match is not None and not _SENTENCE.match(match.group(5) or ""):
                coords = tuple(float(v) for v in match.groups()[:4])
                found.detections.append(RawDetection("box", clean_label(match.group(5) or ""), coords, position))
                found.spans.append((position, position + len(line)))
        position += len(line) + 1
    return found

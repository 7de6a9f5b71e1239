"""Plain-text lines ``x1,y1,x2,y2 label`` (the cookbook's plain-text detection prompt).

>>> [(d.label, d.coords) for d in plain_line_detections("43,378,996,957 cakes\\nno box here").detections]
[('cakes', (43.0, 378.0, 996.0, 957.0))]
"""

from __future__ import annotations

import re

from grounding.parse.objects import clean_label
from grounding.parse.raw import Found, RawDetection

__all__ = ["plain_line_detections"]

_N = r"(-?\d+(?:\.\d+)?)"
_SEP = r"[ \t]*,[ \t]*"
# No two adjacent quantifiers over the same characters and a greedy label: linear even on the long
# blank stretches left where other styles consumed text.
_LINE = re.compile(rf"^[ \t]*(?:[-*•][ \t]*)?{_N}{_SEP}{_N}{_SEP}{_N}{_SEP}{_N}(?:[ \t:]+([^\n]*))?$", re.MULTILINE)


def plain_line_detections(text: str) -> Found:
    """One box per line that starts with four comma-separated numbers."""
    found = Found()
    for match in _LINE.finditer(text):
        coords = tuple(float(v) for v in match.groups()[:4])
        found.detections.append(RawDetection("box", clean_label(match.group(5) or ""), coords, match.start()))
        found.spans.append(match.span())
    return found

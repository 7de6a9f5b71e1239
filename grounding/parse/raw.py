"""The parser's intermediate record: what one output style found, before any geometry.

>>> RawDetection("point", "click", (935.0, 406.0), offset=12).kind
'point'
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RawDetection", "Found", "as_number"]


@dataclass
class RawDetection:
    """A box ``(x1, y1, x2, y2)`` or point ``(x, y)`` in model coordinates, as written.

    ``offset`` is where it starts in the text (for ordering and "Picture N" references);
    ``image_hint`` is a 1-based picture number the output itself gave, if any.
    """

    kind: str
    label: str
    coords: tuple[float, ...]
    offset: int = 0
    attributes: dict[str, Any] = field(default_factory=dict)
    image_hint: int | None = None


@dataclass
class Found:
    """Detections and warnings from one output style, and the text spans it consumed."""

    detections: list[RawDetection] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)

    def extend(self, other: Found) -> None:
        self.detections.extend(other.detections)
        self.warnings.extend(other.warnings)
        self.spans.extend(other.spans)


def as_number(value: Any) -> float | None:
    """A finite coordinate from a JSON number or a numeric string; ``None`` otherwise.

    >>> as_number(" 12.5 "), as_number(True), as_number("nan"), as_number(7)
    (12.5, None, None, 7.0)
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:
            return None
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None

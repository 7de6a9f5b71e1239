"""The parser's intermediate record: what one output style found, before any geometry.

>>> RawDetection("point", "click", (935.0, 406.0), offset=12).kind
'point'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from grounding.parse.numbers import as_number

__all__ = ["RawDetection", "Found", "ImageName", "as_number"]


class ImageName(NamedTuple):
    """An image the output names in words (``"img10"``, ``"Picture 2"``), resolved against the request's IDs.

    ``zero_based`` says the key counts from 0 (``img_idx``): it matters only for a bare number read from
    the text when no image IDs are known.
    """

    text: str
    zero_based: bool = False


@dataclass(slots=True)
class RawDetection:
    """A box ``(x1, y1, x2, y2)`` or point ``(x, y)`` in model coordinates, as written.

    ``offset`` is where it starts in the text (for ordering and "Picture N" references);
    ``image_hint`` is what the output itself said about the picture: a 1-based number, or the
    words it wrote (:class:`ImageName`, e.g. the image ID ``"img10"``) when that is not a number.
    """

    kind: str
    label: str
    coords: tuple[float, ...]
    offset: int = 0
    attributes: dict[str, Any] = field(default_factory=dict)
    image_hint: int | ImageName | None = None


@dataclass(slots=True)
class Found:
    """Detections and warnings from one output style, and the text spans it consumed."""

    detections: list[RawDetection] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)

    def extend(self, other: Found) -> None:
        self.detections.extend(other.detections)
        self.warnings.extend(other.warnings)
        self.spans.extend(other.spans)

"""Display copies: a smaller picture for the browser, with coordinates scaled back to the original.

Browsers get a copy whose long side is at most ``max_side`` pixels; boxes drawn or edited on it are
mapped back to original (EXIF-transposed) pixels here, and nowhere else.

>>> scale = DisplayScale.fit((4032, 3024), max_side=2016)
>>> scale.display_wh
(2016, 1512)
>>> scale.to_original((100, 50, 200, 150))
(200.0, 100.0, 400.0, 300.0)
>>> scale.to_display((200, 100, 400, 300))
(100.0, 50.0, 200.0, 150.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from grounding.coords import Coords, clamp_to
from grounding.errors import GroundingError

__all__ = ["DisplayScale"]


@dataclass(frozen=True)
class DisplayScale:
    """Original size and the display copy's size; scales are per axis (rounding makes them differ slightly)."""

    original_wh: tuple[int, int]
    display_wh: tuple[int, int]

    @classmethod
    def fit(cls, original_wh: tuple[int, int], max_side: int) -> DisplayScale:
        """Largest copy with both sides <= ``max_side`` keeping the aspect ratio; never enlarges."""
        w, h = original_wh
        if w <= 0 or h <= 0 or max_side <= 0:
            raise GroundingError(f"sizes must be positive, got {original_wh} and max_side {max_side}")
        factor = min(1.0, max_side / max(w, h))
        return cls(original_wh, (max(1, round(w * factor)), max(1, round(h * factor))))

    @property
    def is_identity(self) -> bool:
        return self.original_wh == self.display_wh

    def _factors(self, inverse: bool) -> tuple[float, float]:
        (ow, oh), (dw, dh) = self.original_wh, self.display_wh
        return (dw / ow, dh / oh) if inverse else (ow / dw, oh / dh)

    def to_original(self, coords: Sequence[float], *, clamp: bool = False) -> Coords:
        """Display-copy pixels -> original pixels."""
        sx, sy = self._factors(inverse=False)
        out = tuple(float(v) * (sx if i % 2 == 0 else sy) for i, v in enumerate(coords))
        return clamp_to(out, self.original_wh) if clamp else out

    def to_display(self, coords: Sequence[float]) -> Coords:
        """Original pixels -> display-copy pixels."""
        sx, sy = self._factors(inverse=True)
        return tuple(float(v) * (sx if i % 2 == 0 else sy) for i, v in enumerate(coords))

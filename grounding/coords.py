"""Boxes and points between the model's coordinate space and the original image.

Model space is the resized image in absolute pixels (Qwen2.5-VL) or 0-1000 relative
(Qwen2-VL, Qwen3-VL): :attr:`ProcessedImage.model_wh`. Original space is the original image
after EXIF orientation, in pixels. Everything is float in and float out; round only where a
format needs integers (:func:`round_half_up`).

>>> from grounding.geometry import process_size
>>> image = process_size((640, 480), "qwen2.5-vl")          # seen as 644 x 476
>>> to_original((322, 238, 644, 476), image)
(320.0, 240.0, 640.0, 480.0)
>>> [round_half_up(v) for v in to_model((146, 137, 615, 415), process_size((640, 428), "qwen2-vl"))]
[228, 320, 961, 970]
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from grounding.errors import GroundingError
from grounding.geometry import ProcessedImage

__all__ = [
    "Coords",
    "to_original",
    "to_model",
    "order_corners",
    "swap_xy",
    "clamp_to",
    "is_outside",
    "round_half_up",
]

Coords = tuple[float, ...]
"""``(x1, y1, x2, y2)`` for a box, ``(x, y)`` for a point."""


def _as_coords(values: Sequence[float]) -> Coords:
    if len(values) not in (2, 4):
        raise GroundingError(f"expected a point (x, y) or a box (x1, y1, x2, y2), got {len(values)} values")
    coords = tuple(float(v) for v in values)
    if not all(math.isfinite(v) for v in coords):
        raise GroundingError(f"coordinates must be finite numbers, got {list(values)}")
    return coords


def order_corners(box: Sequence[float]) -> Coords:
    """Box with x1 <= x2 and y1 <= y2 (models sometimes write the corners the other way round).

    >>> order_corners((50, 10, 20, 40))
    (20.0, 10.0, 50.0, 40.0)
    """
    x1, y1, x2, y2 = _as_coords(box)
    return (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))


def _scale(coords: Coords, to_wh: tuple[float, float], from_wh: tuple[float, float]) -> Coords:
    """``v * to / from`` per axis: multiplying first keeps exact halves exact (330 * 168 / 480 == 115.5,
    while 330 * (168 / 480) == 115.49999999999999 would round down)."""
    return tuple(v * to_wh[i % 2] / from_wh[i % 2] for i, v in enumerate(coords))


def clamp_to(coords: Sequence[float], extent_wh: tuple[float, float]) -> Coords:
    """Clamp a box or point into ``[0, W] x [0, H]``.

    >>> clamp_to((-5, 10, 700, 300), (640, 480))
    (0.0, 10.0, 640.0, 300.0)
    """
    w, h = extent_wh
    return tuple(min(max(v, 0.0), float(w if i % 2 == 0 else h)) for i, v in enumerate(_as_coords(coords)))


def is_outside(coords: Sequence[float], extent_wh: tuple[float, float]) -> bool:
    """True when any coordinate lies beyond ``[0, W] x [0, H]``."""
    return _as_coords(coords) != clamp_to(coords, extent_wh)


def swap_xy(coords: Sequence[float]) -> Coords:
    """``(y, x)`` pairs as ``(x, y)`` and back (for conventions that write y first).

    >>> swap_xy((10, 20, 30, 40))
    (20.0, 10.0, 40.0, 30.0)
    """
    values = _as_coords(coords)
    return tuple(values[i + 1 - 2 * (i % 2)] for i in range(len(values)))


def to_original(coords: Sequence[float], image: ProcessedImage, *, clamp: bool = False) -> Coords:
    """Model-space box or point -> original-image pixels (corners ordered for boxes; y-first input read as such)."""
    values = _as_coords(coords)
    if image.family.coordinates.y_first:
        values = swap_xy(values)
    if len(values) == 4:
        values = order_corners(values)
    out = _scale(values, image.original_wh, image.model_wh)
    return clamp_to(out, image.original_wh) if clamp else out


def to_model(coords: Sequence[float], image: ProcessedImage, *, clamp: bool = False) -> Coords:
    """Original-image box or point -> the model's coordinates (for region prompts and exports; y first where
    the convention writes y first)."""
    values = _as_coords(coords)
    if len(values) == 4:
        values = order_corners(values)
    out = _scale(values, image.model_wh, image.original_wh)
    out = clamp_to(out, image.model_wh) if clamp else out
    return swap_xy(out) if image.family.coordinates.y_first else out


def round_half_up(value: float) -> int:
    """Round .5 away from zero for positives (Python's ``round`` rounds halves to even).

    >>> round_half_up(2.5), round(2.5)
    (3, 2)
    """
    return math.floor(value + 0.5)

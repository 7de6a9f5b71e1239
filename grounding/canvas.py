"""Several images merged into one canvas, and detections on the canvas split back to their sources.

The canvas puts the images side by side (``h``), one above the other (``v``) or in a ``grid``,
with ``gap`` pixels between them; with ``match_size`` they first get a common height (``h``),
width (``v``) or cell (``grid``), keeping each aspect ratio, at the size that keeps their total
area (so the model spends about as many visual tokens as on the separate images). The whole
canvas is then scaled down (never up) so its area fits ``max_pixels``. Each source's placement (offset and placed size) is
kept exactly; scales are per axis, placed size over source size, as rounding to whole pixels
makes them differ slightly.

A detection on the canvas goes to the source it overlaps most (a point: the source it lies on,
once clamped to the canvas), is clipped to that source and mapped to its original pixels. A box that crossed into another
source or left its own is flagged: ``clipped`` (and ``seam`` when it crossed into another source)
in its attributes, with its canvas box. Boxes and points on no source (in a gap or the padding)
are dropped with a warning.

>>> layout = plan_canvas([(640, 480), (300, 500)], "h")
>>> layout.canvas_wh, [p.offset_xy for p in layout.placements], [p.placed_wh for p in layout.placements]
((940, 486), [(0, 0), (648, 0)], [(648, 486), (292, 486)])
>>> layout = plan_canvas([(640, 480), (300, 500)], "h", match_size=False)
>>> layout.canvas_wh, layout.placements[1].to_source((640, 0, 940, 500))
((940, 500), (0.0, 0.0, 300.0, 500.0))
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from grounding.coords import Coords, clamp_to
from grounding.errors import GroundingError
from grounding.geometry import MAX_ASPECT_RATIO, GeometryError, ProcessedImage
from grounding.parse.result import Detection

__all__ = ["CanvasKind", "Placement", "CanvasLayout", "plan_canvas", "compose_canvas", "split_detections", "snap_for"]


class CanvasKind(str, Enum):
    """How the images are arranged."""

    HORIZONTAL = "h"
    VERTICAL = "v"
    GRID = "grid"


@dataclass(frozen=True)
class Placement:
    """Where one source image lies on the canvas: offset and placed size, in canvas pixels."""

    source_wh: tuple[int, int]
    offset_xy: tuple[int, int]
    placed_wh: tuple[int, int]

    @property
    def rect(self) -> tuple[int, int, int, int]:
        """The placed image on the canvas, xyxy."""
        (x, y), (w, h) = self.offset_xy, self.placed_wh
        return (x, y, x + w, y + h)

    @property
    def scale_xy(self) -> tuple[float, float]:
        """Canvas pixels per source pixel, per axis."""
        return (self.placed_wh[0] / self.source_wh[0], self.placed_wh[1] / self.source_wh[1])

    def to_source(self, coords: Sequence[float]) -> Coords:
        """Canvas pixels -> this source's original pixels (``(v - offset) * source / placed``)."""
        return tuple(
            (float(v) - self.offset_xy[i % 2]) * self.source_wh[i % 2] / self.placed_wh[i % 2]
            for i, v in enumerate(coords)
        )

    def to_canvas(self, coords: Sequence[float]) -> Coords:
        """This source's original pixels -> canvas pixels."""
        return tuple(
            float(v) * self.placed_wh[i % 2] / self.source_wh[i % 2] + self.offset_xy[i % 2]
            for i, v in enumerate(coords)
        )

    def as_dict(self) -> dict[str, Any]:
        return {"original": list(self.source_wh), "offset": list(self.offset_xy), "placed": list(self.placed_wh),
                "scale": list(self.scale_xy)}


@dataclass(frozen=True)
class CanvasLayout:
    """The canvas size and each source's placement, in the sources' order."""

    kind: CanvasKind
    canvas_wh: tuple[int, int]
    placements: tuple[Placement, ...]
    gap: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (what ``layout.json`` holds, besides file names)."""
        return {"layout": self.kind.value, "canvas": list(self.canvas_wh), "gap": self.gap,
                "sources": [p.as_dict() for p in self.placements]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CanvasLayout:
        """Read :meth:`as_dict`'s form back (extra keys, such as file names, are ignored).

        >>> layout = plan_canvas([(64, 48), (30, 50)], "v", max_pixels=2000)
        >>> CanvasLayout.from_dict(layout.as_dict()) == layout
        True
        """
        try:
            placements = tuple(
                Placement(_wh(s["original"]), _wh(s["offset"], allow_zero=True), _wh(s["placed"])) for s in data["sources"]
            )
            layout = cls(CanvasKind(data["layout"]), _wh(data["canvas"]), placements, int(data.get("gap", 0)))
        except (KeyError, TypeError, ValueError) as exc:
            raise GeometryError(f"not a canvas layout ({type(exc).__name__}: {exc})") from None
        if not placements:
            raise GeometryError("a canvas layout needs at least one source")
        cw, ch = layout.canvas_wh
        for number, p in enumerate(placements, start=1):
            _x1, _y1, x2, y2 = p.rect
            if x2 > cw or y2 > ch:
                raise GeometryError(f"source {number} lies beyond the {cw}x{ch} canvas")
        return layout


def _wh(values: Any, *, allow_zero: bool = False) -> tuple[int, int]:
    w, h = (int(v) for v in values)
    if w != values[0] or h != values[1] or min(w, h) < (0 if allow_zero else 1):
        raise GroundingError(f"expected two {'non-negative' if allow_zero else 'positive'} whole numbers, got {values}")
    return (w, h)


def _base_sizes(sizes: list[tuple[int, int]], kind: CanvasKind, match_size: bool) -> list[tuple[float, float]]:
    """Sizes before the budget: the sources' own, or matched (common height, width or cell) and then
    scaled together so the images keep their total area (matching neither inflates nor shrinks the lot)."""
    if not match_size:
        return [(float(w), float(h)) for w, h in sizes]
    if kind is CanvasKind.HORIZONTAL:
        height = max(h for _, h in sizes)
        base = [(w * height / h, float(height)) for w, h in sizes]
    elif kind is CanvasKind.VERTICAL:
        width = max(w for w, _ in sizes)
        base = [(float(width), h * width / w) for w, h in sizes]
    else:
        cw, ch = max(w for w, _ in sizes), max(h for _, h in sizes)
        base = [(w * min(cw / w, ch / h), h * min(cw / w, ch / h)) for w, h in sizes]
    k = math.sqrt(sum(w * h for w, h in sizes) / sum(w * h for w, h in base))
    return [(w * k, h * k) for w, h in base]


def _arrange(placed: list[tuple[int, int]], kind: CanvasKind, gap: int, columns: int) -> tuple[tuple[int, int], list[tuple[int, int]]]:
    if kind is CanvasKind.HORIZONTAL:
        offsets, x = [], 0
        for w, _ in placed:
            offsets.append((x, 0))
            x += w + gap
        return (x - gap, max(h for _, h in placed)), offsets
    if kind is CanvasKind.VERTICAL:
        offsets, y = [], 0
        for _, h in placed:
            offsets.append((0, y))
            y += h + gap
        return (max(w for w, _ in placed), y - gap), offsets
    cell_w, cell_h = max(w for w, _ in placed), max(h for _, h in placed)
    rows = math.ceil(len(placed) / columns)
    offsets = [((k % columns) * (cell_w + gap), (k // columns) * (cell_h + gap)) for k in range(len(placed))]
    used_columns = min(columns, len(placed))
    return (used_columns * cell_w + (used_columns - 1) * gap, rows * cell_h + (rows - 1) * gap), offsets


def plan_canvas(
    sizes_wh: Sequence[tuple[int, int]],
    kind: CanvasKind | str = CanvasKind.HORIZONTAL,
    *,
    max_pixels: int | None = None,
    gap: int = 0,
    match_size: bool = True,
    columns: int | None = None,
) -> CanvasLayout:
    """Placements of images of ``sizes_wh`` on one canvas whose area is at most ``max_pixels``.

    ``columns`` applies to the grid (default: ``ceil(sqrt(n))``). Raises :class:`GeometryError`
    for bad sizes, a budget too small for one pixel per image, or a canvas whose aspect ratio
    the Qwen-VL processors refuse.

    >>> layout = plan_canvas([(1000, 1000)] * 4, "grid", max_pixels=250_000, gap=10)
    >>> layout.canvas_wh, layout.placements[3].offset_xy, layout.placements[3].placed_wh
    ((500, 500), (255, 255), (245, 245))
    """
    kind = CanvasKind(kind)
    sizes = [_wh(size) for size in sizes_wh]
    if not sizes:
        raise GeometryError("give at least one image for the canvas")
    if gap < 0:
        raise GeometryError(f"gap must not be negative, got {gap}")
    columns = columns or math.ceil(math.sqrt(len(sizes)))
    if columns < 1:
        raise GeometryError(f"columns must be at least 1, got {columns}")
    base = _base_sizes(sizes, kind, match_size)
    scale = 1.0
    for _ in range(200):
        placed = [(max(1, round(w * scale)), max(1, round(h * scale))) for w, h in base]
        canvas_wh, offsets = _arrange(placed, kind, gap, columns)
        area = canvas_wh[0] * canvas_wh[1]
        if max_pixels is None or area <= max_pixels:
            break
        if all(w == 1 and h == 1 for w, h in placed):
            raise GeometryError(f"max_pixels {max_pixels} is too small for {len(sizes)} images with gap {gap}")
        # area shrinks about with scale**2 (gaps do not scale): step down, then correct the rounding
        scale *= min(0.999, math.sqrt(max_pixels / area))
    else:  # pragma: no cover - the loop converges in a few steps
        raise GeometryError(f"could not fit the canvas into max_pixels {max_pixels}")
    ratio = max(canvas_wh) / min(canvas_wh)
    if ratio > MAX_ASPECT_RATIO:
        raise GeometryError(
            f"the {canvas_wh[0]}x{canvas_wh[1]} canvas has aspect ratio {ratio:.1f}, over {MAX_ASPECT_RATIO}: use a grid"
        )
    placements = tuple(Placement(size, offset, wh) for size, offset, wh in zip(sizes, offsets, placed))
    return CanvasLayout(kind, canvas_wh, placements, gap)


def compose_canvas(images: Sequence[Any], layout: CanvasLayout, *, fill: tuple[int, int, int] = (128, 128, 128)) -> Any:
    """The canvas as a PIL image: each (upright RGB) image resized to its placement and pasted.

    >>> from PIL import Image
    >>> layout = plan_canvas([(40, 30), (20, 30)], "h", gap=2)
    >>> compose_canvas([Image.new("RGB", (40, 30), "red"), Image.new("RGB", (20, 30), "blue")], layout).getpixel((41, 5))
    (128, 128, 128)
    """
    from PIL import Image

    from grounding.decode import rgb8

    if len(images) != len(layout.placements):
        raise GeometryError(f"{len(images)} images for a canvas of {len(layout.placements)}")
    canvas = Image.new("RGB", layout.canvas_wh, fill)
    for number, (image, placement) in enumerate(zip(images, layout.placements), start=1):
        if tuple(image.size) != placement.source_wh:
            raise GeometryError(f"image {number} is {image.size[0]}x{image.size[1]}, the layout says "
                                f"{placement.source_wh[0]}x{placement.source_wh[1]}")
        picture = rgb8(image)
        if placement.placed_wh != placement.source_wh:
            picture = picture.resize(placement.placed_wh, Image.Resampling.LANCZOS)
        canvas.paste(picture, placement.offset_xy)
    return canvas


def _overlap(box: Coords, rect: tuple[int, int, int, int]) -> float:
    w = min(box[2], rect[2]) - max(box[0], rect[0])
    h = min(box[3], rect[3]) - max(box[1], rect[1])
    return max(w, 0.0) * max(h, 0.0)


def _clip(coords: Coords, rect: tuple[int, int, int, int]) -> Coords:
    x0, y0 = rect[0], rect[1]
    moved = tuple(v - (x0 if i % 2 == 0 else y0) for i, v in enumerate(coords))
    clipped = clamp_to(moved, (rect[2] - x0, rect[3] - y0))
    return tuple(v + (x0 if i % 2 == 0 else y0) for i, v in enumerate(clipped))


def _source_of(detection: Detection, layout: CanvasLayout, snap: float) -> tuple[int | None, list[int]]:
    """Index of the source a detection belongs to, and every source a box touches."""
    coords = detection.original
    if detection.kind == "box":
        areas = [_overlap(coords, p.rect) for p in layout.placements]
        touched = [i for i, a in enumerate(areas) if a > 0]
        if touched:
            return max(touched, key=lambda i: (areas[i], -i)), touched
        coords = ((coords[0] + coords[2]) / 2, (coords[1] + coords[3]) / 2)  # a flat box: where its centre is
    x, y = clamp_to(coords, layout.canvas_wh)  # a point just beyond the canvas edge is on it
    distances = [math.hypot(max(r[0] - x, 0, x - r[2]), max(r[1] - y, 0, y - r[3])) for r in (p.rect for p in layout.placements)]
    nearest = min(range(len(distances)), key=lambda i: (distances[i], i))
    return (nearest, [nearest]) if distances[nearest] <= snap else (None, [])


def snap_for(geometry: ProcessedImage) -> float:
    """One model coordinate unit in canvas pixels (the larger axis): how far rounding can move a point.

    >>> from grounding.geometry import process_size
    >>> snap_for(process_size((2000, 500), "qwen3-vl"))
    2.0
    """
    (w, h), (mw, mh) = geometry.original_wh, geometry.model_wh
    return max(w / mw, h / mh)


def split_detections(
    detections: Sequence[Detection], layout: CanvasLayout, *, snap: float = 0.0
) -> tuple[tuple[Detection, ...], tuple[str, ...]]:
    """Canvas detections (``original`` in canvas pixels) -> detections on the sources.

    ``image`` becomes the source's 1-based position and ``original`` its own pixels; ``model``
    keeps what the model wrote for the canvas. Attributes gain ``canvas`` (the canvas coordinates),
    and ``clipped``/``seam`` for boxes cut to their source. A point (or a flat box) within ``snap``
    canvas pixels of an image goes to it: models write whole units, so give about one model unit
    in canvas pixels (:func:`snap_for`).

    >>> layout = plan_canvas([(100, 100), (100, 100)], "h")
    >>> box = Detection("box", "cat", 1, (90, 10, 120, 50), (90.0, 10.0, 120.0, 50.0), False)
    >>> (moved,), warnings = split_detections([box], layout)
    >>> moved.image, moved.original, moved.attributes["seam"]
    (2, (0.0, 10.0, 20.0, 50.0), True)
    """
    moved: list[Detection] = []
    warnings: list[str] = []
    dropped = 0
    for detection in detections:
        index, touched = _source_of(detection, layout, snap)
        if index is None:
            dropped += 1
            continue
        placement = layout.placements[index]
        clipped = _clip(tuple(detection.original), placement.rect)
        attributes = dict(detection.attributes) | {"canvas": list(detection.original)}
        was_clipped = detection.kind == "box" and clipped != tuple(detection.original)
        if was_clipped:
            attributes["clipped"] = True
            if len(touched) > 1:
                attributes["seam"] = True
        moved.append(dataclasses.replace(
            detection, image=index + 1, original=placement.to_source(clipped), attributes=attributes,
            outside=detection.outside or was_clipped,
        ))
    seams = sum(1 for d in moved if d.attributes.get("seam"))
    if seams:
        warnings.append(f"{seams} box(es) crossed a seam between images: clipped to the image they overlap most")
    cut = sum(1 for d in moved if d.attributes.get("clipped") and not d.attributes.get("seam"))
    if cut:
        warnings.append(f"{cut} box(es) left their image on the canvas: clipped to it")
    if dropped:
        warnings.append(f"{dropped} detection(s) lie on no image of the canvas (gap or padding): dropped")
    return tuple(moved), tuple(warnings)

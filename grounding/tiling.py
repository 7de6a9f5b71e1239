"""Large or extreme images as overlapping tiles that each fit a pixel budget, and the way back.

:func:`plan_tiles` chooses the fewest tiles (columns x rows) whose area fits ``max_pixels`` and
whose aspect ratio stays within ``max_aspect``, neighbours overlapping by at least ``overlap`` of
a tile; tiles are spread evenly from edge to edge. Each tile is grounded on its own; its
detections (in tile pixels) come back to the image with :func:`to_image`, then
:func:`merge_tiles` merges the duplicates that overlapping tiles found: boxes of the same label
from different tiles whose IoU reaches ``iou``, or whose intersection covers ``containment`` of
the smaller box, or, for a box cut by a tile's inner edge, that agree on the pixels both tiles
saw. A merged group becomes the union of its boxes when one of them is cut by a tile's inner
edge, else their mean. Boxes from the same tile are never merged: the model saw both.

:func:`crop_around` gives a crop around a box for re-grounding it alone (a crop is a :class:`Tile`);
:func:`pick_refined` keeps the crop's best box for it.

>>> plan = plan_tiles((4000, 1000), max_pixels=1_000_000, overlap=0.1)
>>> plan.grid, [t.offset_xy for t in plan.tiles], plan.tiles[0].size_wh
((5, 1), [(0, 0), (782, 0), (1565, 0), (2348, 0), (3130, 0)], (870, 1000))
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from grounding.coords import Coords
from grounding.geometry import GeometryError
from grounding.parse.result import Detection

__all__ = ["Tile", "TilePlan", "plan_tiles", "to_image", "merge_tiles", "crop_around", "pick_refined"]

EDGE_TOLERANCE = 2.0
"""A box within this many pixels of a tile's inner edge counts as cut by it."""


@dataclass(frozen=True)
class Tile:
    """A rectangle of the image: offset and size in image pixels."""

    index: int
    offset_xy: tuple[int, int]
    size_wh: tuple[int, int]

    @property
    def rect(self) -> tuple[int, int, int, int]:
        (x, y), (w, h) = self.offset_xy, self.size_wh
        return (x, y, x + w, y + h)

    def to_image(self, coords: Sequence[float]) -> Coords:
        """Tile pixels -> image pixels."""
        return tuple(float(v) + self.offset_xy[i % 2] for i, v in enumerate(coords))

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "offset": list(self.offset_xy), "size": list(self.size_wh)}


@dataclass(frozen=True)
class TilePlan:
    """The tiles of an image, row by row."""

    image_wh: tuple[int, int]
    grid: tuple[int, int]
    """(columns, rows)."""
    tiles: tuple[Tile, ...]

    def inner_edges(self, tile: Tile) -> list[tuple[int, float]]:
        """``(axis, coordinate)`` of the tile's edges that are not the image's (axis 0: x, 1: y)."""
        x1, y1, x2, y2 = tile.rect
        w, h = self.image_wh
        edges = [(0, float(x1)) if x1 > 0 else None, (1, float(y1)) if y1 > 0 else None,
                 (0, float(x2)) if x2 < w else None, (1, float(y2)) if y2 < h else None]
        return [edge for edge in edges if edge is not None]

    def as_dict(self) -> dict[str, Any]:
        return {"image": list(self.image_wh), "grid": list(self.grid), "tiles": [t.as_dict() for t in self.tiles]}


def _side(length: int, count: int, overlap: float) -> int:
    """Tile side for ``count`` tiles covering ``length``, neighbours sharing ``overlap`` of a tile."""
    return length if count == 1 else min(length, math.ceil(length / (count - (count - 1) * overlap)))


def _spread(length: int, count: int, overlap: float) -> tuple[int, list[int]]:
    """Tile side and offsets (spread evenly from one end to the other)."""
    side = _side(length, count, overlap)
    return side, [0] if count == 1 else [round(k * (length - side) / (count - 1)) for k in range(count)]


def _fewest(length: int, side: float, overlap: float) -> int:
    """The fewest tiles whose side (see :func:`_spread`) is at most ``side``, covering ``length``."""
    if side >= length:
        return 1
    if side < 1:
        return length + 1  # no tile count helps; the caller's budget check refuses it
    count = max(1, math.ceil((length / side - overlap) / (1 - overlap)))
    while _side(length, count, overlap) > side:
        count += 1
    return count


def plan_tiles(
    image_wh: tuple[int, int], *, max_pixels: int, overlap: float = 0.15, max_aspect: float = 4.0
) -> TilePlan:
    """Tiles that each fit ``max_pixels`` with an aspect ratio of at most ``max_aspect``: the fewest,
    weighed by the square root of their aspect ratio (square tiles suit the model best). An image
    that fits both is one tile.

    >>> plan_tiles((800, 600), max_pixels=1_000_000).grid
    (1, 1)
    >>> plan = plan_tiles((20000, 200), max_pixels=1_000_000, overlap=0.1)
    >>> plan.grid, plan.tiles[0].size_wh
    ((28, 1), (791, 200))
    """
    w, h = (int(v) for v in image_wh)
    if w <= 0 or h <= 0:
        raise GeometryError(f"image has zero size ({w}x{h})")
    if max_pixels < 1:
        raise GeometryError(f"max_pixels must be positive, got {max_pixels}")
    if not 0.0 <= overlap < 0.9:
        raise GeometryError(f"overlap is a fraction of a tile in [0, 0.9), got {overlap}")
    if max_aspect < 1.0:
        raise GeometryError(f"max_aspect must be at least 1, got {max_aspect}")
    # bounds on the counts: a tile is never narrower (shorter) than the tallest (widest) tile the
    # budget and the aspect limit allow, divided by that limit
    min_tw = max(1.0, min(h, math.sqrt(max_pixels * max_aspect)) / max_aspect)
    best: tuple[tuple[float, ...], int, int] | None = None
    for columns in range(1, math.ceil(w / min_tw / (1 - overlap)) + 2):
        tw = _side(w, columns, overlap)
        # fewest rows within the budget; fewest that keep tiles within the aspect limit; square tiles
        needed = {_fewest(h, max_pixels / tw, overlap), _fewest(h, tw * max_aspect, overlap), _fewest(h, tw, overlap)}
        for rows in sorted(needed):
            th = _side(h, rows, overlap)
            if tw * th > max_pixels:
                continue
            aspect = max(tw / th, th / tw)
            # fewest tiles, weighed by how elongated they are (square tiles suit the model best)
            key = (max(0.0, aspect - max_aspect), columns * rows * math.sqrt(aspect), abs(math.log(tw / th)))
            if best is None or key < best[0]:
                best = (key, columns, rows)
    if best is None:
        raise GeometryError(f"cannot tile {w}x{h} into tiles of at most {max_pixels} pixels")
    _, columns, rows = best
    tw, xs = _spread(w, columns, overlap)
    th, ys = _spread(h, rows, overlap)
    tiles = tuple(Tile(r * columns + c, (xs[c], ys[r]), (tw, th)) for r in range(rows) for c in range(columns))
    return TilePlan((w, h), (columns, rows), tiles)


def to_image(detections: Sequence[Detection], tile: Tile) -> tuple[Detection, ...]:
    """A tile's detections (``original`` in tile pixels) on the whole image, tagged ``tile``."""
    return tuple(
        dataclasses.replace(d, image=1, original=tile.to_image(d.original),
                            attributes=dict(d.attributes) | {"tile": tile.index})
        for d in detections
    )


def _cut(box: Coords, tile: Tile, plan: TilePlan) -> bool:
    for axis, edge in plan.inner_edges(tile):
        low, high = box[axis], box[axis + 2]
        if abs(low - edge) <= EDGE_TOLERANCE or abs(high - edge) <= EDGE_TOLERANCE:
            return True
    return False


def _area(box: np.ndarray) -> float:
    return float(max(box[2] - box[0], 0.0) * max(box[3] - box[1], 0.0))


def _zone_iou(a: np.ndarray, b: np.ndarray, zone: tuple[float, float, float, float]) -> float:
    """IoU of two boxes clipped to ``zone`` (the pixels two tiles share; both tiles saw them)."""
    lo, hi = np.array(zone[:2]), np.array(zone[2:])
    ca = np.concatenate([np.clip(a[:2], lo, hi), np.clip(a[2:], lo, hi)])
    cb = np.concatenate([np.clip(b[:2], lo, hi), np.clip(b[2:], lo, hi)])
    inter = _area(np.concatenate([np.maximum(ca[:2], cb[:2]), np.minimum(ca[2:], cb[2:])]))
    union = _area(ca) + _area(cb) - inter
    return inter / union if union > 0 else 0.0


def _groups(boxes: np.ndarray, tiles: list[Tile | None], cut: list[bool], iou: float, containment: float) -> list[list[int]]:
    """Groups of boxes (one label) that are the same object seen by different tiles.

    Two boxes from different tiles are the same object when their IoU reaches ``iou``, when one
    lies within the other (``containment`` of the smaller), or, when one is cut by a tile edge,
    when they agree (IoU ``iou``) on the pixels both tiles share. Pairs join best first, and a
    group never takes two boxes of one tile.
    """
    import supervision as sv

    if not len(boxes):
        return []
    ious = np.nan_to_num(sv.box_iou_batch(boxes, boxes))
    ios = np.nan_to_num(sv.box_iou_batch(boxes, boxes, overlap_metric=sv.OverlapMetric.IOS))
    parent = list(range(len(boxes)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    candidates: list[tuple[float, int, int]] = []
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            a, b = tiles[i], tiles[j]
            if a is not None and b is not None and a.index == b.index:
                continue
            score = float(ious[i, j]) if ious[i, j] >= iou else float(ios[i, j]) if ios[i, j] >= containment else 0.0
            if not score and (cut[i] or cut[j]) and a is not None and b is not None:
                zone = (max(a.rect[0], b.rect[0]), max(a.rect[1], b.rect[1]),
                        min(a.rect[2], b.rect[2]), min(a.rect[3], b.rect[3]))
                if zone[0] < zone[2] and zone[1] < zone[3]:
                    shared = _zone_iou(boxes[i], boxes[j], zone)
                    score = shared if shared >= iou else 0.0
            if score:
                candidates.append((score, i, j))
    # best pairs first; a group holds at most one box per tile (two boxes of one tile are two objects)
    members: dict[int, set[int]] = {i: {i} for i in range(len(boxes))}
    found_in: dict[int, set[object]] = {}
    for i in range(len(boxes)):
        tile = tiles[i]
        found_in[i] = {tile.index if tile is not None else ("none", i)}
    for _, i, j in sorted(candidates, key=lambda c: (-c[0], c[1], c[2])):
        ri, rj = root(i), root(j)
        if ri == rj or found_in[ri] & found_in[rj]:
            continue
        parent[rj] = ri
        members[ri] |= members.pop(rj)
        found_in[ri] |= found_in.pop(rj)
    return [sorted(group) for _, group in sorted(members.items())]


def merge_tiles(
    detections: Sequence[Detection], plan: TilePlan, *, iou: float = 0.5, containment: float = 0.8,
    point_radius: float = 8.0,
) -> tuple[Detection, ...]:
    """Merge the duplicates found by overlapping tiles (detections already on the image, tagged ``tile``).

    Merged detections carry ``tiles`` (the tiles that found them) and ``merged`` (how many);
    points of the same label from different tiles closer than ``point_radius`` become their mean.

    >>> plan = plan_tiles((200, 100), max_pixels=12_000, overlap=0.2)
    >>> plan.grid, [t.rect for t in plan.tiles]
    ((2, 1), [(0, 0, 112, 100), (88, 0, 200, 100)])
    >>> a = Detection("box", "cat", 1, (), (80.0, 10.0, 112.0, 40.0), False, {"tile": 0})
    >>> b = Detection("box", "cat", 1, (), (80.0, 10.0, 130.0, 41.0), False, {"tile": 1})
    >>> merged, = merge_tiles([a, b], plan)
    >>> merged.original, merged.attributes["tiles"]
    ((80.0, 10.0, 130.0, 41.0), [0, 1])
    """
    by_index = {tile.index: tile for tile in plan.tiles}
    kept: list[tuple[int, Detection]] = []
    for kind in ("box", "point"):
        for label in dict.fromkeys(d.label for d in detections if d.kind == kind):
            members = [(k, d) for k, d in enumerate(detections) if d.kind == kind and d.label == label]
            tiles = [by_index.get(int(d.attributes.get("tile", -1))) for _, d in members]
            if kind == "box":
                boxes = np.array([d.original for _, d in members], dtype=np.float64).reshape(-1, 4)
                cut = [t is not None and _cut(d.original, t, plan) for (_, d), t in zip(members, tiles)]
                groups = _groups(boxes, tiles, cut, iou, containment)
            else:
                r = point_radius
                boxes = np.array([(d.original[0] - r, d.original[1] - r, d.original[0] + r, d.original[1] + r)
                                  for _, d in members], dtype=np.float64).reshape(-1, 4)
                groups = _groups(boxes, tiles, [False] * len(members), 1.0, 1e-9)  # the radius squares touch
            for group in groups:
                first, detection = members[group[0]]
                if len(group) > 1:
                    detection = _merged([members[g][1] for g in group], plan, by_index)
                kept.append((first, detection))
    return tuple(d for _, d in sorted(kept, key=lambda pair: pair[0]))


def _merged(group: list[Detection], plan: TilePlan, tiles: dict[int, Tile]) -> Detection:
    coords = np.array([d.original for d in group], dtype=np.float64)
    cut = any(
        d.kind == "box" and int(d.attributes.get("tile", -1)) in tiles
        and _cut(d.original, tiles[int(d.attributes["tile"])], plan)
        for d in group
    )
    if group[0].kind == "box" and cut:
        merged = (*coords[:, :2].min(axis=0), *coords[:, 2:].max(axis=0))
    else:
        merged = tuple(coords.mean(axis=0))
    found_in = sorted({int(d.attributes.get("tile", -1)) for d in group})
    attributes = dict(group[0].attributes) | {"tiles": found_in, "merged": len(group)}
    return dataclasses.replace(group[0], original=tuple(float(v) for v in merged), attributes=attributes,
                               outside=any(d.outside for d in group))


def crop_around(box: Sequence[float], image_wh: tuple[int, int], *, margin: float = 0.5, min_side: int = 56,
                index: int = 0) -> Tile:
    """A crop around ``box`` grown by ``margin`` of its size on each side (at least ``min_side``
    pixels a side where the image allows), kept inside the image.

    >>> crop_around((100, 100, 140, 120), (1000, 800)).rect
    (80, 82, 160, 138)
    """
    w, h = image_wh
    x1, y1, x2, y2 = (float(v) for v in box)
    x1, x2 = sorted((x1, x2))
    y1, y2 = sorted((y1, y2))
    if x2 <= 0 or y2 <= 0 or x1 >= w or y1 >= h:
        raise GeometryError(f"box {list(box)} lies outside the {w}x{h} image")
    x1, y1, x2, y2 = max(x1, 0.0), max(y1, 0.0), min(x2, float(w)), min(y2, float(h))
    bounds = []
    for low, high, limit in ((x1, x2, w), (y1, y2, h)):
        size = high - low
        half = max((size * (1 + 2 * margin)) / 2, min_side / 2)
        centre = (low + high) / 2
        start = max(0, math.floor(centre - half))
        end = min(limit, math.ceil(centre + half))
        if end - start < min(min_side, limit):  # pushed against the border: grow inward
            start, end = (0, min(limit, min_side)) if start == 0 else (max(0, limit - min_side), limit)
        bounds.append((start, end))
    (cx1, cx2), (cy1, cy2) = bounds
    return Tile(index, (cx1, cy1), (cx2 - cx1, cy2 - cy1))


def pick_refined(detection: Detection, candidates: Sequence[Detection], *, min_iou: float = 0.3) -> Detection:
    """The crop's box (already on the image) with the same label that overlaps ``detection`` most,
    when its IoU reaches ``min_iou``; else ``detection`` unchanged. The result says ``refined``.

    >>> d = Detection("box", "cat", 1, (), (10.0, 10.0, 50.0, 50.0), False)
    >>> c = Detection("box", "cat", 1, (), (12.0, 11.0, 48.0, 50.0), False)
    >>> pick_refined(d, [c]).original, pick_refined(d, [c]).attributes["refined"]
    ((12.0, 11.0, 48.0, 50.0), True)
    """
    from grounding.box_match import iou_matrix

    same = [c for c in candidates if c.kind == "box" and c.label == detection.label]
    if detection.kind != "box" or not same:
        return dataclasses.replace(detection, attributes=dict(detection.attributes) | {"refined": False})
    ious = iou_matrix([detection.original], [c.original for c in same])[0]
    best = int(np.argmax(ious))
    if ious[best] < min_iou:
        return dataclasses.replace(detection, attributes=dict(detection.attributes) | {"refined": False})
    attributes = dict(detection.attributes) | {"refined": True, "before_refine": list(detection.original),
                                               "refine_iou": float(ious[best])}
    return dataclasses.replace(detection, original=same[best].original, attributes=attributes)


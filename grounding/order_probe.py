"""Order sensitivity: the same prompt over several orders of the same images, compared per image.

An order is a tuple of 1-based source positions: ``(2, 1, 3)`` shows source 2 as picture 1,
source 1 as picture 2, source 3 as picture 3. Each answer's detections are mapped back to their
source image (:func:`to_sources`); then, per source image, the boxes of every order are compared
with those of every other order, label by label (:func:`grounding.box_match.agreement`: summed
matched IoU over the larger count). Boxes only: points are kept in the answers but not scored.

>>> from grounding.parse import Detection
>>> cat = lambda picture, x: Detection("box", "cat", picture, (x, 0, x + 10, 10), (x, 0.0, x + 10.0, 10.0), False)
>>> answers = [OrderAnswer((1, 2), (cat(1, 0), cat(2, 50))), OrderAnswer((2, 1), (cat(2, 0), cat(1, 50)))]
>>> report = probe_report(answers, ["a", "b"])
>>> [image.agreement for image in report.images], report.most_consistent_order
([1.0, 1.0], (1, 2))
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from grounding.box_match import agreement, match_boxes
from grounding.errors import GroundingError
from grounding.parse.result import Detection

__all__ = [
    "EXHAUSTIVE_UP_TO",
    "Order",
    "OrderAnswer",
    "ImageConsistency",
    "OrderProbeReport",
    "probe_orders",
    "to_sources",
    "probe_report",
]

EXHAUSTIVE_UP_TO = 4
"""Up to this many images every order is tried (4! = 24); beyond, a seeded sample."""

Order = tuple[int, ...]


def _check_order(order: Sequence[int], count: int | None = None) -> Order:
    order = tuple(int(v) for v in order)
    if sorted(order) != list(range(1, len(order) + 1)) or (count is not None and len(order) != count):
        raise GroundingError(f"an order must list each of the source positions 1..{count or len(order)} once, got {list(order)}")
    return order


def probe_orders(count: int, *, max_orders: int = 12, seed: int = 0) -> list[Order]:
    """The orders to try: all of them up to :data:`EXHAUSTIVE_UP_TO` images (the given order
    first); beyond, the given order, its reverse, then distinct random orders from ``seed`` up to
    ``max_orders`` in all.

    >>> probe_orders(3)
    [(1, 2, 3), (1, 3, 2), (2, 1, 3), (2, 3, 1), (3, 1, 2), (3, 2, 1)]
    >>> probe_orders(6, max_orders=4, seed=1)[:2]
    [(1, 2, 3, 4, 5, 6), (6, 5, 4, 3, 2, 1)]
    """
    if count < 1:
        raise GroundingError(f"give at least one image, got {count}")
    if count <= EXHAUSTIVE_UP_TO:
        return list(itertools.permutations(range(1, count + 1)))
    if max_orders < 2:
        raise GroundingError(f"max_orders must be at least 2 to compare orders, got {max_orders}")
    wanted = min(max_orders, math.factorial(count))
    identity = tuple(range(1, count + 1))
    orders = [identity, identity[::-1]]
    rng = random.Random(seed)
    seen = set(orders)
    while len(orders) < wanted:
        order = tuple(rng.sample(identity, count))
        if order not in seen:
            seen.add(order)
            orders.append(order)
    return orders[:wanted]


def to_sources(detections: Sequence[Detection], order: Sequence[int]) -> tuple[Detection, ...]:
    """Detections of an answer given in ``order`` moved to their source image.

    ``image`` becomes the source position; the picture number the model saw goes to the
    ``picture`` attribute. Original coordinates need no change: a picture is its source image.

    >>> d = Detection("box", "cat", 1, (0, 0, 5, 5), (0.0, 0.0, 5.0, 5.0), False)
    >>> moved, = to_sources([d], (3, 1, 2))
    >>> moved.image, moved.attributes["picture"]
    (3, 1)
    """
    order = _check_order(order)
    moved = []
    for detection in detections:
        if not 1 <= detection.image <= len(order):
            raise GroundingError(f"picture {detection.image} is not in an order of {len(order)} images")
        attributes = dict(detection.attributes) | {"picture": detection.image}
        moved.append(dataclasses.replace(detection, image=order[detection.image - 1], attributes=attributes))
    return tuple(moved)


@dataclass(frozen=True)
class OrderAnswer:
    """The detections parsed from the answer to one order (``image`` = picture number in that order)."""

    order: Order
    detections: tuple[Detection, ...]


@dataclass(frozen=True)
class ImageConsistency:
    """How one source image's boxes vary across orders (lists run over the report's orders)."""

    image: int
    image_id: str
    counts: tuple[int, ...]
    boxes: tuple[tuple[Detection, ...], ...]
    order_agreement: tuple[float, ...]
    """Mean agreement of each order's boxes with every other order's, on this image."""
    agreement: float
    """Mean agreement over all pairs of orders (1.0: every order gave the same boxes)."""
    matched_iou: float | None
    """Mean IoU of the matched pairs over all pairs of orders (None: nothing matched)."""

    @property
    def count_spread(self) -> int:
        return max(self.counts) - min(self.counts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "image": self.image,
            "image_id": self.image_id,
            "counts": list(self.counts),
            "count_spread": self.count_spread,
            "count_stdev": statistics.pstdev(self.counts),
            "agreement": self.agreement,
            "matched_iou": self.matched_iou,
            "order_agreement": list(self.order_agreement),
            "boxes": [[{"label": d.label, "box": list(d.original), "picture": d.attributes.get("picture")}
                       for d in per_order] for per_order in self.boxes],
        }


@dataclass(frozen=True)
class OrderProbeReport:
    """Per-image consistency across orders and the order that agrees best with the others."""

    orders: tuple[Order, ...]
    images: tuple[ImageConsistency, ...]
    order_scores: tuple[float, ...]
    """Each order's agreement with the others, averaged over the images."""

    @property
    def most_consistent_order(self) -> Order:
        """The order whose answers agree best with the other orders' (the first among equals)."""
        best = max(range(len(self.orders)), key=lambda k: (self.order_scores[k], -k))
        return self.orders[best]

    def plot_data(self) -> dict[str, Any]:
        """A heat map the UI can draw (no plotting library here): rows are images, columns orders.

        ``agreement[i][k]`` is order k's agreement with the others on image i (0..1), ``counts[i][k]``
        its box count; ``rows`` is the same in long form (one dict per image and order) for bar or
        scatter plots.
        """
        x = [",".join(map(str, order)) for order in self.orders]
        y = [image.image_id for image in self.images]
        return {
            "kind": "heatmap",
            "title": "Agreement of each order with the others, per image",
            "x_label": "order (source positions as pictures 1..N)",
            "y_label": "image",
            "x": x,
            "y": y,
            "agreement": [list(image.order_agreement) for image in self.images],
            "counts": [list(image.counts) for image in self.images],
            "best": x[self.orders.index(self.most_consistent_order)],
            "rows": [
                {"image": image.image_id, "order": x[k], "boxes": image.counts[k], "agreement": image.order_agreement[k]}
                for image in self.images
                for k in range(len(self.orders))
            ],
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "orders": [list(order) for order in self.orders],
            "order_scores": list(self.order_scores),
            "most_consistent_order": list(self.most_consistent_order),
            "images": [image.as_dict() for image in self.images],
            "plot": self.plot_data(),
        }


def _image_consistency(image: int, image_id: str, per_order: list[tuple[Detection, ...]], min_iou: float) -> ImageConsistency:
    n = len(per_order)
    boxes = [[d.original for d in dets] for dets in per_order]
    labels = [[d.label for d in dets] for dets in per_order]
    pair = [[1.0] * n for _ in range(n)]
    matched: list[float] = []
    for i, j in itertools.combinations(range(n), 2):
        pair[i][j] = pair[j][i] = agreement(boxes[i], labels[i], boxes[j], labels[j], min_iou=min_iou)
        matched += [m.iou for m in match_boxes(boxes[i], labels[i], boxes[j], labels[j], min_iou=min_iou)]
    order_agreement = tuple(
        (sum(pair[k]) - 1.0) / (n - 1) if n > 1 else 1.0 for k in range(n)
    )
    pairs = [pair[i][j] for i, j in itertools.combinations(range(n), 2)]
    return ImageConsistency(
        image=image,
        image_id=image_id,
        counts=tuple(len(dets) for dets in per_order),
        boxes=tuple(per_order),
        order_agreement=order_agreement,
        agreement=statistics.fmean(pairs) if pairs else 1.0,
        matched_iou=statistics.fmean(matched) if matched else None,
    )


def probe_report(answers: Sequence[OrderAnswer], image_ids: Sequence[str], *, min_iou: float = 0.0) -> OrderProbeReport:
    """Per-image statistics over the answers to several orders of the same images.

    ``image_ids`` name the source images in their own (source) order. Each answer's
    detections are moved to their source image first (:func:`to_sources`).
    """
    count = len(image_ids)
    if not answers:
        raise GroundingError("give the answers to at least one order")
    orders = tuple(_check_order(answer.order, count) for answer in answers)
    if len(set(orders)) != len(orders):
        raise GroundingError("each order can be given only once")
    moved = [to_sources(answer.detections, answer.order) for answer in answers]
    images = tuple(
        _image_consistency(
            source, str(image_ids[source - 1]),
            [tuple(d for d in dets if d.image == source and d.kind == "box") for dets in moved], min_iou,
        )
        for source in range(1, count + 1)
    )
    scores = tuple(statistics.fmean(image.order_agreement[k] for image in images) for k in range(len(orders)))
    return OrderProbeReport(orders=orders, images=images, order_scores=scores)

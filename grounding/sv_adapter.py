"""Parsed detections -> ``supervision.Detections`` for one picture (drawing, COCO/YOLO export).

Points become zero-size boxes ``(x, y, x, y)``. ``class_id`` follows ``classes`` when given, else the
order in which labels first appear in ``detections`` (all pictures), so one label keeps one id
across the pictures of a request. Coordinates are original-image pixels, unclamped unless asked.

>>> from grounding.parse import Detection
>>> found = [Detection("box", "cat", 1, (0, 0, 10, 10), (0.0, 0.0, 20.0, 20.0), False),
...          Detection("point", "dog", 1, (5, 5), (10.0, 12.0), False)]
>>> sv_detections = to_sv_detections(found, 1)
>>> sv_detections.xyxy.tolist(), sv_detections.class_id.tolist(), sv_detections.data["class_name"].tolist()
([[0.0, 0.0, 20.0, 20.0], [10.0, 12.0, 10.0, 12.0]], [0, 1], ['cat', 'dog'])
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import supervision as sv

from grounding.coords import clamp_to
from grounding.errors import GroundingError
from grounding.parse.raw import as_number
from grounding.parse.result import Detection

__all__ = ["class_ids", "to_sv_detections"]


def class_ids(detections: Iterable[Detection], classes: Sequence[str] | None = None) -> dict[str, int]:
    """Label -> class id: ``classes`` first (in order), then new labels as they appear.

    >>> class_ids([], ["dog", "cat"])
    {'dog': 0, 'cat': 1}
    """
    ids: dict[str, int] = {}
    for label in [*(classes or []), *(d.label for d in detections)]:
        ids.setdefault(label, len(ids))
    return ids


def to_sv_detections(
    detections: Sequence[Detection],
    image: int,
    *,
    classes: Sequence[str] | None = None,
    clamp_wh: tuple[float, float] | None = None,
) -> sv.Detections:
    """The detections of picture ``image`` (1-based) as ``sv.Detections``.

    ``data`` holds ``class_name``, ``kind`` ("box"/"point") and ``outside``; ``confidence`` is
    filled when every detection has a numeric ``confidence`` attribute. ``clamp_wh`` clamps the
    boxes into ``[0, W] x [0, H]`` (for drawing; exports usually want them as written).
    """
    if image < 1:
        raise GroundingError(f"image is a 1-based picture number, got {image}")
    ids = class_ids(detections, classes)
    chosen = [d for d in detections if d.image == image]
    rows = []
    for d in chosen:
        xyxy = d.original if d.kind == "box" else (*d.original, *d.original)
        rows.append(clamp_to(xyxy, clamp_wh) if clamp_wh else xyxy)
    confidences = [as_number(d.attributes.get("confidence")) for d in chosen]
    return sv.Detections(
        xyxy=np.array(rows, dtype=float).reshape(-1, 4),
        class_id=np.array([ids[d.label] for d in chosen], dtype=int),
        confidence=np.array(confidences, dtype=float) if chosen and None not in confidences else None,
        data={
            "class_name": np.array([d.label for d in chosen], dtype=str),
            "kind": np.array([d.kind for d in chosen], dtype=str),
            "outside": np.array([d.outside for d in chosen], dtype=bool),
        },
    )

"""Known answers written the way a model writes them: boxes given in an image's original pixels
are converted to the model's coordinates for the geometry it saw, then fed to the real parser.

``exact=True`` writes every digit (float JSON), so a round trip is exact up to float error;
``exact=False`` writes whole numbers as models do, so each coordinate is off by at most half a
model unit.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from grounding import ProcessedImage, to_model


def answer_text(items: Sequence[tuple[str, Sequence[float], int | None]], geometry: ProcessedImage | Sequence[ProcessedImage],
                *, exact: bool = True) -> str:
    """``items`` are ``(label, original coords, picture or None)``; boxes have 4 coords, points 2.

    A picture number adds an ``"image"`` key; coordinates are converted with that picture's geometry.
    """
    geometries = [geometry] if isinstance(geometry, ProcessedImage) else list(geometry)
    objects = []
    for label, coords, picture in items:
        model = to_model(coords, geometries[(picture or 1) - 1])
        values = [float(v) for v in model] if exact else [round(v) for v in model]
        item = {"bbox_2d" if len(values) == 4 else "point_2d": values, "label": label}
        if picture is not None:
            item["image"] = picture
        objects.append(item)
    return "```json\n" + json.dumps(objects) + "\n```"


def model_unit_in_original(geometry: ProcessedImage) -> tuple[float, float]:
    """Original pixels per model coordinate unit, per axis."""
    (w, h), (mw, mh) = geometry.original_wh, geometry.model_wh
    return (w / mw, h / mh)

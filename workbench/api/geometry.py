"""Geometry reports for a batch of image files: one entry per file, errors kept per file.

>>> report = geometry_report(["missing.jpg"], "qwen2.5-vl")
>>> report[0]["error"]
'missing.jpg: no such file'
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from grounding import (
    GeometryError,
    ImageReadError,
    ModelFamily,
    PixelLimits,
    probe_image,
)

__all__ = ["geometry_entry", "geometry_report"]


def geometry_entry(path: str | os.PathLike, family: ModelFamily | str, limits: PixelLimits | None = None) -> dict:
    """``{"file", "original", "resized", "grid_thw", "tokens"}`` or ``{"file", "error"}``."""
    entry: dict[str, object] = {"file": os.fspath(path)}
    try:
        entry.update(probe_image(path, family, limits).as_dict())
    except (ImageReadError, GeometryError) as exc:
        entry["error"] = str(exc)
    return entry


def geometry_report(
    paths: Iterable[str | os.PathLike], family: ModelFamily | str, limits: PixelLimits | None = None
) -> list[dict]:
    """One :func:`geometry_entry` per path, in order."""
    family = ModelFamily.from_name(family)
    return [geometry_entry(path, family, limits) for path in paths]


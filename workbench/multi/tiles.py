"""Ground a large or extreme image tile by tile, merge the boxes back, optionally tighten each one on
a crop around it, and compare with one pass over the whole image under the same pixel budget.

Every call (tiles, crops, the single pass) uses the limits ``PixelLimits(min, tile_max_pixels)``,
so each tile reaches the model at (about) full resolution while the single pass is shrunk to the
same budget: the comparison shows what tiling buys on this image.

>>> import io
>>> from PIL import Image
>>> from workbench.backends import FakeBackend
>>> buffer = io.BytesIO(); Image.new("RGB", (2000, 500)).save(buffer, "PNG")
>>> backend = FakeBackend(lambda request, geometry: '[]')
>>> result = ground_tiled(backend, buffer.getvalue(), target="car", tile_max_pixels=250_000)
>>> result["plan"]["grid"], len(result["tiles"]), result["comparison"]["mean_iou"]
([5, 1], 5, None)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from grounding import GeometryError, PixelLimits
from grounding.box_match import compare_answers
from grounding.prompts import GroundingTask
from grounding.tiling import (
    Tile,
    crop_around,
    merge_tiles,
    pick_refined,
    plan_tiles,
    to_image,
)
from workbench.backends.base import ImageInput, ModelBackend
from workbench.backends.media import upright_rgb
from workbench.errors import WorkbenchError
from workbench.multi.common import (
    ProgressCallback,
    detections_json,
    make_request,
    report_progress,
)
from workbench.run_settings import DEFAULT_MAX_NEW_TOKENS
from workbench.runs.pipeline import parse_output

__all__ = ["ground_tiled"]

"""The transformers class default ``max_pixels``, reported to ground better than larger budgets."""
MAX_REFINE = 32
"""At most this many merged boxes are refined (one model call each), whatever the image holds."""


def _ground_crop(backend: ModelBackend, picture: Any, tile: Tile, *, target: str | None, prompt: str | None,
                 task: GroundingTask | str, limits: PixelLimits, max_new_tokens: int) -> tuple[tuple[Any, ...], dict[str, Any]]:
    crop = picture.crop(tile.rect)
    request = make_request(backend.family(), [crop], ["tile"], target=target, prompt=prompt, task=task, naming=None,
                           max_new_tokens=max_new_tokens, limits=limits)
    run = parse_output(request, backend.generate(request))
    found = to_image(run.detections, tile)
    record = {**tile.as_dict(), "resized": list(run.output.images[0].resized_wh), "text": run.output.text,
              "count": len(found), "warnings": list(run.warnings)}
    return found, record


def ground_tiled(
    backend: ModelBackend,
    image: ImageInput,
    *,
    target: str | None = None,
    prompt: str | None = None,
    task: GroundingTask | str = GroundingTask.BOXES,
    tile_max_pixels: int | None = None,
    max_tiles: int | None = None,
    overlap: float = 0.15,
    max_aspect: float = 4.0,
    iou: float = 0.5,
    containment: float = 0.8,
    refine: bool = False,
    refine_margin: float = 0.5,
    max_refine: int = MAX_REFINE,
    compare: bool = True,
    compare_min_iou: float = 0.3,
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
    on_progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """JSON-ready: the tile plan, each tile's answer, the merged detections (image pixels), and with
    ``compare`` the single-pass detections and a comparison (``a`` = tiled, ``b`` = single pass).

    ``tile_max_pixels`` (None: the family's :attr:`~grounding.ModelFamily.cookbook_max_pixels`) is one
    call's budget, at least the family's :attr:`~grounding.ModelFamily.min_tile_pixels`; a plan of more than
    ``max_tiles`` tiles is refused before any call."""
    picture = upright_rgb(image)
    family = backend.family()
    budget = tile_max_pixels or family.cookbook_max_pixels
    if budget < family.min_tile_pixels:
        raise WorkbenchError(f"a tile needs at least {family.min_tile_pixels} pixels for {family.name} "
                             f"(4·{family.factor}²), got {budget}")
    try:
        limits = PixelLimits(min(family.default_min_pixels, budget), budget)
        plan = plan_tiles(picture.size, max_pixels=budget, overlap=overlap, max_aspect=max_aspect)
    except GeometryError as exc:
        raise WorkbenchError(f"cannot tile the image: {exc}") from None
    if max_tiles is not None and len(plan.tiles) > max_tiles:
        shown = os.fspath(image) if isinstance(image, (str, os.PathLike)) else "the image"
        raise WorkbenchError(f"{shown} would need {len(plan.tiles)} tiles of at most {budget} pixels; at most "
                             f"{max_tiles} here: give a larger tile budget")
    options: dict[str, Any] = {"target": target, "prompt": prompt, "task": task, "limits": limits, "max_new_tokens": max_new_tokens}
    found: list[Any] = []
    tiles: list[dict[str, Any]] = []
    calls = len(plan.tiles) + int(compare)
    for done, tile in enumerate(plan.tiles, start=1):
        detections, record = _ground_crop(backend, picture, tile, **options)
        found += detections
        tiles.append(record)
        report_progress(on_progress, done, calls)
    merged = list(merge_tiles(found, plan, iou=iou, containment=containment))
    warnings = [f"tile {t['index']}: {w}" for t in tiles for w in t["warnings"]]
    if refine:
        chosen = [k for k, d in enumerate(merged) if d.kind == "box" and d.label]
        if len(chosen) > max_refine:  # one model call per box: bounded, and said
            warnings.append(f"refined the first {max_refine} of {len(chosen)} boxes (one model call each)")
            chosen = chosen[:max_refine]
        calls += len(chosen)
        for step, k in enumerate(chosen, start=1):
            detection = merged[k]
            crop = crop_around(detection.original, picture.size, margin=refine_margin, index=k)
            candidates, record = _ground_crop(backend, picture, crop, **(options | {"target": detection.label, "prompt": None}))
            merged[k] = pick_refined(detection, candidates)
            warnings += [f"refining {k + 1}: {w}" for w in record["warnings"]]
            report_progress(on_progress, len(plan.tiles) + step, calls)
    result: dict[str, Any] = {
        "model": backend.model,
        "family": family.name,
        "original": list(picture.size),
        "limits": {"min_pixels": limits.min_pixels, "max_pixels": limits.max_pixels},
        "plan": plan.as_dict(),
        "tiles": tiles,
        "detections": detections_json(merged),
        "single": None,
        "comparison": None,
        "warnings": warnings,
    }
    if compare:
        single, record = _single_pass(backend, picture, options)
        result["single"] = record
        if single is not None:
            boxes = [d for d in merged if d.kind == "box"]
            result["comparison"] = compare_answers(
                [d.original for d in boxes], [d.label for d in boxes],
                [d.original for d in single], [d.label for d in single], min_iou=compare_min_iou,
            ) | {"tiled_boxes": len(boxes), "single_boxes": len(single)}
        report_progress(on_progress, calls, calls)
    return result


def _single_pass(backend: ModelBackend, picture: Any, options: dict[str, Any]) -> tuple[Sequence[Any] | None, dict[str, Any]]:
    """The whole image in one call under the same budget; an image the model cannot take is reported."""
    whole = Tile(0, (0, 0), picture.size)
    try:
        detections, record = _ground_crop(backend, picture, whole, **options)
    except WorkbenchError as exc:
        return None, {"error": str(exc)}
    record = {k: v for k, v in record.items() if k not in ("index", "offset", "size")}
    record["detections"] = detections_json(detections)
    return [d for d in detections if d.kind == "box"], record

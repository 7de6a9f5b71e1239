"""Merged canvas on files: write a canvas and its ``layout.json``, ground it once, split the answer.

``layout.json`` (version 1) holds the canvas file name, its size, the layout and, per source in
order, its file, original size, offset and placed size on the canvas: everything needed to send
detections back to the source images (:func:`grounding.canvas.split_detections`).

>>> import tempfile, pathlib
>>> from PIL import Image
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> Image.new("RGB", (640, 480)).save(folder / "a.png"); Image.new("RGB", (300, 500)).save(folder / "b.png")
>>> doc = make_canvas([folder / "a.png", folder / "b.png"], folder / "out", layout="h")
>>> doc["canvas"], [s["offset"] for s in doc["sources"]], (folder / "out" / doc["image"]).is_file()
([940, 486], [[0, 0], [648, 0]], True)
>>> parsed = canvas_detections('[{"bbox_2d": [680, 0, 952, 476], "label": "b"}]', doc, "qwen2.5-vl")
>>> parsed["detections"][0]["image"], parsed["detections"][0]["file"].endswith("b.png")
(2, True)
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from grounding import (
    GeometryError,
    ModelFamily,
    PixelLimits,
    ProcessedImage,
    process_size,
)
from grounding.canvas import (
    CanvasKind,
    CanvasLayout,
    compose_canvas,
    plan_canvas,
    snap_for,
    split_detections,
)
from grounding.prompts import GroundingTask
from workbench.backends.base import ImageInput, ModelBackend
from workbench.backends.media import upright_rgb
from workbench.errors import WorkbenchError
from workbench.multi.common import detections_json, make_request
from workbench.run_settings import DEFAULT_MAX_NEW_TOKENS
from workbench.runs.pipeline import image_table

__all__ = ["LAYOUT_FILE", "CANVAS_FILE", "make_canvas", "read_layout", "canvas_detections", "ground_canvas"]

LAYOUT_FILE = "layout.json"
CANVAS_FILE = "canvas.png"
LAYOUT_VERSION = 1


def _name(image: ImageInput, number: int) -> str:
    return os.fspath(image) if isinstance(image, (str, os.PathLike)) else f"image {number}"


def _plan(images: Sequence[ImageInput], layout: CanvasKind | str, max_pixels: int | None, gap: int,
          match_size: bool, columns: int | None) -> tuple[list[Any], CanvasLayout]:
    pictures = [upright_rgb(image) for image in images]
    try:
        return pictures, plan_canvas([p.size for p in pictures], layout, max_pixels=max_pixels, gap=gap,
                                     match_size=match_size, columns=columns)
    except (GeometryError, ValueError) as exc:
        raise WorkbenchError(f"cannot make the canvas: {exc}") from None


def _document(plan: CanvasLayout, names: Sequence[str], image: str) -> dict[str, Any]:
    doc = {"version": LAYOUT_VERSION, "image": image, **plan.as_dict()}
    for source, name in zip(doc["sources"], names):
        source["file"] = name
    return doc


def make_canvas(
    images: Sequence[ImageInput],
    out_dir: str | os.PathLike,
    *,
    layout: CanvasKind | str = CanvasKind.HORIZONTAL,
    max_pixels: int | None = None,
    gap: int = 0,
    match_size: bool = True,
    columns: int | None = None,
) -> dict[str, Any]:
    """Write ``canvas.png`` and ``layout.json`` into ``out_dir``; return the layout document."""
    if not images:
        raise WorkbenchError("give at least one image for the canvas")
    pictures, plan = _plan(images, layout, max_pixels, gap, match_size, columns)
    folder = Path(out_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        compose_canvas(pictures, plan).save(folder / CANVAS_FILE, "PNG")
        doc = _document(plan, [_name(image, n) for n, image in enumerate(images, start=1)], CANVAS_FILE)
        (folder / LAYOUT_FILE).write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
    except OSError as exc:
        raise WorkbenchError(f"cannot write the canvas into {folder}: {exc.strerror or exc}") from None
    return doc


def read_layout(source: str | os.PathLike | dict[str, Any]) -> tuple[CanvasLayout, dict[str, Any]]:
    """The layout from a ``layout.json`` file (or its parsed document), checked."""
    if isinstance(source, dict):
        doc = source
    else:
        try:
            doc = json.loads(Path(source).read_text(encoding="utf-8"))
        except OSError as exc:
            raise WorkbenchError(f"cannot read {os.fspath(source)}: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise WorkbenchError(f"{os.fspath(source)} is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise WorkbenchError("a canvas layout is a JSON object")
    try:
        return CanvasLayout.from_dict(doc), doc
    except GeometryError as exc:
        raise WorkbenchError(str(exc)) from None


def _split(parsed: Any, plan: CanvasLayout, doc: dict[str, Any], geometry: ProcessedImage) -> dict[str, Any]:
    split, warnings = split_detections(parsed.detections, plan, snap=snap_for(geometry))
    files = [source.get("file") for source in doc.get("sources", [])]
    detections = detections_json(split)
    for detection in detections:
        picture = int(detection["image"])  # type: ignore[call-overload]  # detection_dict writes an int
        file = files[picture - 1] if picture - 1 < len(files) else None
        if file is not None:
            detection["file"] = file
    return {
        "canvas": {"layout": plan.kind.value, **geometry.as_dict()},
        "sources": [{"image": n, "file": files[n - 1] if n - 1 < len(files) else None, "original": list(p.source_wh)}
                    for n, p in enumerate(plan.placements, start=1)],
        "detections": detections,
        "warnings": list(parsed.warnings) + list(warnings),
    }


def canvas_detections(
    text: str,
    layout: str | os.PathLike | dict[str, Any],
    family: ModelFamily | str,
    *,
    limits: PixelLimits | None = None,
    geometry: ProcessedImage | None = None,
) -> dict[str, Any]:
    """Parse a model's answer about a canvas and return detections on the source images.

    ``geometry`` is what the model saw of the canvas (e.g. from the processor's grid); by default
    the family's resize rule with ``limits``. Each detection's ``image`` is the source's 1-based
    position, ``original`` in that image's pixels, ``file`` its file.
    """
    from grounding.parse import parse_grounding

    plan, doc = read_layout(layout)
    family = ModelFamily.from_name(family)
    if geometry is None:
        try:
            geometry = process_size(plan.canvas_wh, family, limits)
        except GeometryError as exc:
            raise WorkbenchError(str(exc)) from None
    if geometry.original_wh != plan.canvas_wh:
        raise WorkbenchError(f"the geometry is for {geometry.original_wh}, the canvas is {plan.canvas_wh}")
    return _split(parse_grounding(text, family, geometry), plan, doc, geometry)


def ground_canvas(
    backend: ModelBackend,
    images: Sequence[ImageInput],
    *,
    target: str | None = None,
    prompt: str | None = None,
    task: GroundingTask | str = GroundingTask.BOXES,
    layout: CanvasKind | str = CanvasKind.HORIZONTAL,
    max_pixels: int | None = None,
    gap: int = 0,
    match_size: bool = True,
    columns: int | None = None,
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
    limits: PixelLimits | None = None,
    out_dir: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """Merge the images into one canvas, ground it in one call, split the boxes back to the images.

    The prompt is the single-image one (the model sees one picture). With ``out_dir`` the canvas
    and ``layout.json`` are written there too (``canvas_file``/``layout_file`` in the result).
    """
    if not images:
        raise WorkbenchError("give at least one image for the canvas")
    pictures, plan = _plan(images, layout, max_pixels, gap, match_size, columns)
    canvas = compose_canvas(pictures, plan)
    request = make_request(backend.family(), [canvas], ["canvas"], target=target, prompt=prompt, task=task,
                           naming=None, max_new_tokens=max_new_tokens, limits=limits)
    output = backend.generate(request)
    doc = _document(plan, [_name(image, n) for n, image in enumerate(images, start=1)], CANVAS_FILE)
    from grounding.parse import parse_grounding

    result = _split(parse_grounding(output.text, output.family, output.images[0]), plan, doc, output.images[0])
    result["warnings"] = list(output.warnings) + result["warnings"]
    files: dict[str, str] = {}
    if out_dir is not None:
        folder = Path(out_dir)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            canvas.save(folder / CANVAS_FILE, "PNG")
            (folder / LAYOUT_FILE).write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
        except OSError as exc:
            raise WorkbenchError(f"cannot write the canvas into {folder}: {exc.strerror or exc}") from None
        files = {"canvas_file": str(folder / CANVAS_FILE), "layout_file": str(folder / LAYOUT_FILE)}
    return {
        "model": output.model,
        "family": output.family.name,
        "prompt": request.prompt,
        "text": output.text,
        "finish_reason": output.finish_reason,
        "layout": doc,
        "canvas_image": image_table(output, ("canvas",), ["canvas"])[0],
        **result,
        **files,
    }

"""Plain functions behind the app's public API endpoints (``/geometry``, ``/parse``, ``/ground``).

They take and return JSON-ready data, so gradio_client scripts and the CLI see the same shapes.
Every argument is checked for type and range first (:mod:`workbench.api.args`), and the
limits of the deployment apply (:class:`~workbench.deployment.ResourceLimits`): a bad call gets
an :class:`~workbench.api.args.ArgumentError` or a :class:`~workbench.errors.BackendError` in
words, before any file is read or any model runs. The files given here must already be the
visitor's own (the web layer hands over uploads only); ``names`` are what messages call them.

>>> parse_output('[{"bbox_2d": [322, 238, 644, 476], "label": "cat"}]', "qwen2.5-vl", [[640, 480]])["detections"][0]["original"]
[320.0, 240.0, 640.0, 480.0]
>>> parse_output("[]", "qwen2.5-vl", [["640", 480]])
Traceback (most recent call last):
...
workbench.api.args.ArgumentError: original_sizes[0] width must be a whole number, got text
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from grounding import DEFAULT_FAMILY, FAMILIES, ModelFamily, PixelLimits, process_size
from grounding.parse import parse_grounding
from workbench.api import args
from workbench.api.args import ArgumentError, choice, text_list, wh_list, whole_number
from workbench.api.geometry import geometry_report
from workbench.deployment import ResourceLimits
from workbench.files import ImageLimitError, check_image_file
from workbench.run_settings import DEFAULT_MAX_NEW_TOKENS

__all__ = ["ground_images", "image_geometry", "parse_output", "limits_or_default", "MAX_SIZES"]

MAX_SIZES = 1000
"""Most ``original_sizes`` one ``/parse`` call may give."""
_FAMILY_NAMES = tuple(f.name for f in FAMILIES)


def limits_or_default(family: ModelFamily | str, min_pixels: int | None, max_pixels: int | None) -> PixelLimits:
    """0 or None means the family's checkpoint value (see :meth:`grounding.PixelLimits.default_for`)."""
    return PixelLimits.default_for(family, min_pixels, max_pixels)


def _family(value: object, *, allow_empty: bool = False) -> str:
    name = args.text("family", value, max_chars=100, default="" if allow_empty else None)
    if allow_empty and not name:
        return ""
    try:
        return ModelFamily.from_name(name).name
    except ValueError:
        raise ArgumentError(f"unknown model family {name[:60]!r}; expected one of {', '.join(_FAMILY_NAMES)}") from None


def _pixel_limits(family: str, min_pixels: object, max_pixels: object, limits: ResourceLimits) -> PixelLimits:
    cap = limits.max_pixels or None
    low = whole_number("min_pixels", min_pixels, low=0, high=cap, default=0)
    high = whole_number("max_pixels", max_pixels, low=0, high=cap, default=0)
    try:
        return limits_or_default(family, low, high)
    except ValueError as exc:
        raise ArgumentError(str(exc)) from None


def _names(paths: Sequence[str | os.PathLike], names: Sequence[str] | None) -> list[str]:
    return list(names) if names is not None else [Path(p).name for p in paths]


def image_geometry(paths: Sequence[str | os.PathLike], family: str = DEFAULT_FAMILY.name, min_pixels: int = 0,
                   max_pixels: int = 0, *, names: Sequence[str] | None = None,
                   limits: ResourceLimits | None = None) -> list[dict]:
    """One geometry entry per image (``error`` for files that cannot be read); 0 limits = the family's."""
    limits = limits or ResourceLimits()  # the built-in bounds; entry points pass the deployment's
    family = _family(family)
    pixel_limits = _pixel_limits(family, min_pixels, max_pixels, limits)
    entries = []
    for path, name in zip(paths, _names(paths, names)):
        try:
            check_image_file(path, ResourceLimits(upload_bytes=limits.upload_bytes, upload_pixels=0), name=name)
        except ImageLimitError as exc:
            entries.append({"file": name, "error": str(exc)})
            continue
        entry = geometry_report([path], family, pixel_limits)[0]
        if "error" in entry:
            entry["error"] = f"{name}: {str(entry['error']).rsplit(': ', 1)[-1]}"
        entries.append({**entry, "file": name})
    return entries


def parse_output(text: str, family: str = DEFAULT_FAMILY.name, original_sizes: Sequence[Sequence[int]] = (),
                 min_pixels: int = 0, max_pixels: int = 0, target_image: int | None = None, *,
                 coordinate_keys: Sequence[str] = (), image_ids: Sequence[str] = ()) -> dict:
    """Parse a model output for images of ``original_sizes`` ([W, H] each, in prompt order).

    ``coordinate_keys``: extra JSON keys that hold coordinates (the user's prompt named them, e.g.
    ``["result"]``); ``image_ids``: the IDs the prompt gave the images, one per image, so that an answer's
    ``"image": "img10"`` is mapped by ID. The text is read up to ``grounding.parse.MAX_OUTPUT_CHARS``
    characters (the rest is cut off with a warning) and at most ``MAX_DETECTIONS`` detections come back.
    """
    text = args.text("text", text, max_chars=10**9)
    family = _family(family)
    sizes = wh_list("original_sizes", original_sizes, max_items=MAX_SIZES)
    if not sizes:
        raise ArgumentError("give the original size [W, H] of each image in the request")
    limits = _pixel_limits(family, min_pixels, max_pixels, ResourceLimits(max_pixels=0))
    if target_image is not None:
        target_image = whole_number("target_image", target_image, low=1, high=len(sizes))
    keys = text_list("coordinate_keys", list(coordinate_keys), max_items=20, max_chars=100)
    ids = text_list("image_ids", list(image_ids), max_items=len(sizes), max_chars=100)
    if ids and len(ids) != len(sizes):
        raise ArgumentError(f"image_ids: give one ID per image ({len(sizes)} images, {len(ids)} IDs)")
    try:
        images = [process_size(wh, family, limits) for wh in sizes]
        return parse_grounding(text, family, images, target_image=target_image, coordinate_keys=tuple(keys),
                               image_ids=tuple(ids)).as_dict()
    except ValueError as exc:
        raise ArgumentError(str(exc)) from None


def ground_images(paths: Sequence[str | os.PathLike], prompt: str, *, services, backend: str = "openai",
                  model: str = "", base_url: str = "", family: str = "", image_ids: Sequence[str] | None = (),
                  min_pixels: int = 0, max_pixels: int = 0, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
                  names: Sequence[str] | None = None) -> dict:
    """Prompt -> model -> detections per image, as JSON (see ``GroundingRun.as_dict``).

    Limits of 0 mean the backend's own (the checkpoint's processor, or the family's for a server).
    Which backends, servers and models may be used is the deployment's call (``services.backend``).
    """
    from workbench.backends import GroundingRequest
    from workbench.runs.pipeline import run_grounding

    limits = services.deployment.limits
    if not paths:
        raise ArgumentError("give at least one image")
    if limits.images_per_request and len(paths) > limits.images_per_request:
        raise ArgumentError(f"at most {limits.images_per_request} images per request here, got {len(paths)}")
    prompt = args.text("prompt", prompt, max_chars=limits.prompt_chars or 10**9)
    kind = choice("backend", backend, ("local", "openai"), default="openai")
    model = args.text("model", model, max_chars=300, default="")
    base_url = args.text("base_url", base_url, max_chars=2000, default="")
    family = _family(family, allow_empty=True)
    ids = text_list("image_ids", image_ids, max_items=len(paths), max_chars=100)
    tokens = whole_number("max_new_tokens", max_new_tokens, low=1, high=limits.max_new_tokens or None, default=DEFAULT_MAX_NEW_TOKENS)
    low = whole_number("min_pixels", min_pixels, low=0, high=limits.max_pixels or None, default=0)
    high = whole_number("max_pixels", max_pixels, low=0, high=limits.max_pixels or None, default=0)
    shown = _names(paths, names)
    for path, name in zip(paths, shown):  # header checks before any backend is made or model loaded
        try:
            check_image_file(path, limits, name=name)
        except ImageLimitError as exc:
            raise ArgumentError(str(exc)) from None

    options: dict[str, object] = {}
    if model:
        options["model"] = model
    if kind == "openai":
        options["base_url"] = base_url
        if family:
            options["family"] = family
    elif base_url:
        raise ArgumentError("base_url is for the openai backend; the local backend takes none")
    engine = services.backend(kind, **options)
    request_limits = None
    if low or high:
        try:
            request_limits = limits_or_default(family or engine.family(), low, high)
        except ValueError as exc:
            raise ArgumentError(str(exc)) from None
    request = GroundingRequest(images=tuple(paths), prompt=prompt, image_ids=tuple(ids),
                               max_new_tokens=tokens, limits=request_limits)
    result = run_grounding(engine, request).as_dict()
    rows: list[dict[str, Any]] = result.get("images", [])  # type: ignore[assignment]  # as_dict's images
    for row, name in zip(rows, shown):  # the visitor's file names, not the server's paths
        row["file"] = name
    return result

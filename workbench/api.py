"""Plain functions behind the app's public API endpoints (``/geometry``, ``/parse``, ``/ground``).

They take and return JSON-ready data, so gradio_client scripts and the CLI see the same shapes.

>>> parse_output('[{"bbox_2d": [322, 238, 644, 476], "label": "cat"}]', "qwen2.5-vl", [[640, 480]])["detections"][0]["original"]
[320.0, 240.0, 640.0, 480.0]
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from grounding import DEFAULT_FAMILY, ModelFamily, PixelLimits, process_size
from grounding.parse import parse_grounding
from workbench.images import geometry_report

__all__ = ["ground_images", "image_geometry", "parse_output", "limits_or_default"]


def limits_or_default(family: ModelFamily | str, min_pixels: int | None, max_pixels: int | None) -> PixelLimits:
    """0 or None means the family's checkpoint value (see :meth:`grounding.PixelLimits.default_for`)."""
    return PixelLimits.default_for(family, min_pixels, max_pixels)


def image_geometry(paths: Sequence[str | os.PathLike], family: str = DEFAULT_FAMILY.name, min_pixels: int = 0,
                   max_pixels: int = 0) -> list[dict]:
    """One geometry entry per image (``error`` for files that cannot be read); 0 limits = the family's."""
    return geometry_report(paths, family, limits_or_default(family, min_pixels, max_pixels))


def parse_output(text: str, family: str = DEFAULT_FAMILY.name, original_sizes: Sequence[Sequence[int]] = (),
                 min_pixels: int = 0, max_pixels: int = 0, target_image: int | None = None, *,
                 coordinate_keys: Sequence[str] = (), image_ids: Sequence[str] = ()) -> dict:
    """Parse a model output for images of ``original_sizes`` ([W, H] each, in prompt order).

    ``coordinate_keys``: extra JSON keys that hold coordinates (the user's prompt named them, e.g.
    ``["result"]``); ``image_ids``: the IDs the prompt gave the images, one per image, so that an answer's
    ``"image": "img10"`` is mapped by ID. The text is read up to ``grounding.parse.MAX_OUTPUT_CHARS``
    characters (the rest is cut off with a warning) and at most ``MAX_DETECTIONS`` detections come back.
    """
    if not original_sizes:
        raise ValueError("give the original size [W, H] of each image in the request")
    limits = limits_or_default(family, min_pixels, max_pixels)
    images = [process_size((int(w), int(h)), family, limits) for w, h in original_sizes]
    return parse_grounding(text, family, images, target_image=target_image, coordinate_keys=tuple(coordinate_keys),
                           image_ids=tuple(image_ids)).as_dict()


def ground_images(paths: Sequence[str | os.PathLike], prompt: str, *, services, backend: str = "openai",
                  model: str = "", base_url: str = "", family: str = "", image_ids: Sequence[str] = (),
                  min_pixels: int = 0, max_pixels: int = 0, max_new_tokens: int = 1024) -> dict:
    """Prompt -> model -> detections per image, as JSON (see ``GroundingRun.as_dict``).

    Limits of 0 mean the backend's own (the checkpoint's processor, or the family's for a server).
    """
    from workbench.backends import GroundingRequest
    from workbench.grounding_run import run_grounding

    options: dict[str, object] = {}
    if model:
        options["model"] = model
    if backend == "openai":
        if base_url:
            options["base_url"] = base_url
        if family:
            options["family"] = family
    engine = services.backend(backend, **options)
    limits = None
    if min_pixels or max_pixels:
        limits = limits_or_default(family or engine.family(), min_pixels, max_pixels)
    request = GroundingRequest(images=tuple(paths), prompt=prompt, image_ids=tuple(image_ids),
                               max_new_tokens=int(max_new_tokens), limits=limits)
    return run_grounding(engine, request).as_dict()

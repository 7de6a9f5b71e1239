"""Plain functions for the app's multi-image and high-resolution endpoints, over plain data.

Same conventions as :mod:`workbench.api`: images are file paths, the backend is named by kind
and options (``services.backend(...)`` makes or reuses it), empty strings and zeros mean "the
default", and every result is JSON-ready.

>>> import tempfile, pathlib
>>> from PIL import Image
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> Image.new("RGB", (64, 48)).save(folder / "a.png"); Image.new("RGB", (30, 50)).save(folder / "b.png")
>>> canvas_make([folder / "a.png", folder / "b.png"], folder / "canvas", layout="v")["canvas"]
[43, 105]
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from grounding import DEFAULT_FAMILY, ModelFamily, PixelLimits
from workbench.run_settings import DEFAULT_MAX_NEW_TOKENS

__all__ = [
    "prompt_preview", "order_probe", "canvas_make", "canvas_parse", "canvas_grounding", "step_grounding",
    "tiled_grounding",
]


def _backend(services: Any, backend: str, model: str, base_url: str, family: str) -> Any:
    options: dict[str, object] = {}
    if model:
        options["model"] = model
    if backend == "openai":
        if base_url:
            options["base_url"] = base_url
        if family:
            options["family"] = family
    return services.backend(backend, **options)


def _limits(engine: Any, family: str, min_pixels: int, max_pixels: int) -> PixelLimits | None:
    if not (min_pixels or max_pixels):
        return None
    return PixelLimits.default_for(family or engine.family(), min_pixels, max_pixels)


def _text(target: str, prompt: str) -> dict[str, Any]:
    return {"target": target or None, "prompt": prompt or None}


def prompt_preview(paths: Sequence[str | os.PathLike], *, services: Any, target: str = "", prompt: str = "",
                   task: str = "boxes", image_ids: Sequence[str] = (), naming: str = "", backend: str = "openai",
                   model: str = "", base_url: str = "", family: str = "", min_pixels: int = 0, max_pixels: int = 0,
                   max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS) -> dict:
    """The exact prompt the model would get (see :func:`workbench.runs.prompt_view.exact_prompt`); nothing is sent."""
    from workbench.multi.common import ids_for, make_request
    from workbench.runs.prompt_view import exact_prompt

    engine = _backend(services, backend, model, base_url, family)
    request = make_request(engine.family(), list(paths), ids_for(len(paths), image_ids), **_text(target, prompt),
                           task=task, naming=naming or None, max_new_tokens=int(max_new_tokens),
                           limits=_limits(engine, family, min_pixels, max_pixels))
    return exact_prompt(engine, request) | {"prompt": request.prompt}


def order_probe(paths: Sequence[str | os.PathLike], *, services: Any, target: str = "", prompt: str = "",
                task: str = "boxes", image_ids: Sequence[str] = (), naming: str = "",
                orders: Sequence[Sequence[int]] = (), max_orders: int = 12, seed: int = 0, backend: str = "openai",
                model: str = "", base_url: str = "", family: str = "", min_pixels: int = 0, max_pixels: int = 0,
                max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS, on_progress: Any = None, plot_file: str | os.PathLike | None = None) -> dict:
    """:func:`workbench.multi.order_probe.probe_order` on files; ``orders`` empty: all up to 4 images, else a sample."""
    from workbench.multi.order_probe import probe_order

    engine = _backend(services, backend, model, base_url, family)
    return probe_order(engine, list(paths), **_text(target, prompt), task=task, image_ids=image_ids,
                       naming=naming or None, orders=[list(o) for o in orders] or None, max_orders=int(max_orders),
                       seed=int(seed), max_new_tokens=int(max_new_tokens),
                       limits=_limits(engine, family, min_pixels, max_pixels), on_progress=on_progress,
                       plot_file=plot_file)


def canvas_make(paths: Sequence[str | os.PathLike], out_dir: str | os.PathLike, *, layout: str = "h",
                max_pixels: int = 0, gap: int = 0, match_size: bool = True, columns: int = 0) -> dict:
    """Write ``canvas.png`` and ``layout.json`` into ``out_dir``; the layout document (no model)."""
    from workbench.multi.canvas import make_canvas

    return make_canvas(list(paths), out_dir, layout=layout, max_pixels=int(max_pixels) or None, gap=int(gap),
                       match_size=bool(match_size), columns=int(columns) or None)


def canvas_parse(text: str, layout: str | os.PathLike | dict, family: str = DEFAULT_FAMILY.name, min_pixels: int = 0,
                 max_pixels: int = 0) -> dict:
    """A pasted answer about a canvas -> detections on the source images (no model)."""
    from workbench.multi.canvas import canvas_detections

    limits = PixelLimits.default_for(ModelFamily.from_name(family), min_pixels, max_pixels)
    return canvas_detections(text, layout, family, limits=limits)


def canvas_grounding(paths: Sequence[str | os.PathLike], *, services: Any, target: str = "", prompt: str = "",
                     task: str = "boxes", layout: str = "h", canvas_max_pixels: int = 0, gap: int = 0,
                     match_size: bool = True, columns: int = 0, backend: str = "openai", model: str = "",
                     base_url: str = "", family: str = "", min_pixels: int = 0, max_pixels: int = 0,
                     max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS, out_dir: str | os.PathLike | None = None) -> dict:
    """:func:`workbench.multi.canvas.ground_canvas` on files (``canvas_max_pixels`` bounds the canvas itself)."""
    from workbench.multi.canvas import ground_canvas

    engine = _backend(services, backend, model, base_url, family)
    return ground_canvas(engine, list(paths), **_text(target, prompt), task=task, layout=layout,
                         max_pixels=int(canvas_max_pixels) or None, gap=int(gap), match_size=bool(match_size),
                         columns=int(columns) or None, max_new_tokens=int(max_new_tokens),
                         limits=_limits(engine, family, min_pixels, max_pixels), out_dir=out_dir)


def step_grounding(paths: Sequence[str | os.PathLike], *, services: Any, target: str = "", prompt: str = "",
                   task: str = "boxes", image_ids: Sequence[str] = (), naming: str = "picture",
                   backend: str = "openai", model: str = "", base_url: str = "", family: str = "",
                   min_pixels: int = 0, max_pixels: int = 0, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS, on_progress: Any = None) -> dict:
    """:func:`workbench.multi.steps.ground_step_by_step` on files."""
    from workbench.multi.steps import ground_step_by_step

    engine = _backend(services, backend, model, base_url, family)
    return ground_step_by_step(engine, list(paths), **_text(target, prompt), task=task, image_ids=image_ids,
                               naming=naming or "picture", max_new_tokens=int(max_new_tokens),
                               limits=_limits(engine, family, min_pixels, max_pixels), on_progress=on_progress)


def tiled_grounding(path: str | os.PathLike, *, services: Any, target: str = "", prompt: str = "",
                    task: str = "boxes", tile_max_pixels: int = 0, overlap: float = 0.15, max_aspect: float = 4.0,
                    refine: bool = False, compare: bool = True, backend: str = "openai", model: str = "",
                    base_url: str = "", family: str = "", max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS, on_progress: Any = None,
                    max_tiles: int | None = None) -> dict:
    """:func:`workbench.multi.tiles.ground_tiled` on a file (``tile_max_pixels`` 0: the family's 1280 tokens)."""
    from workbench.multi.tiles import ground_tiled

    engine = _backend(services, backend, model, base_url, family)
    return ground_tiled(engine, path, **_text(target, prompt), task=task,
                        tile_max_pixels=int(tile_max_pixels) or None, overlap=float(overlap),
                        max_aspect=float(max_aspect), refine=bool(refine), compare=bool(compare),
                        max_new_tokens=int(max_new_tokens), on_progress=on_progress, max_tiles=max_tiles)

"""Checked functions behind the app's multi-image endpoints: ``/prompt_preview``, ``/order_probe``,
``/canvas``, ``/steps`` and ``/tiles``.

Like :func:`workbench.api.ground_images`: every argument is checked for type and range first and
answered in words (:mod:`workbench.api.args`), each file against the deployment's per-upload limits
(its header only), before any backend is made or model loaded. The work is then
:mod:`workbench.multi.tools`'s, with the model behind the deployment's gate (``services.backend``).
The files are the visitor's own (the web layer hands over uploads only); ``names`` are what the
answers and messages call them: no answer holds a file's path.

>>> import tempfile, pathlib
>>> from PIL import Image
>>> from workbench.services import Services
>>> folder = pathlib.Path(tempfile.mkdtemp()); Image.new("RGB", (64, 48)).save(folder / "a.png")
>>> canvas([folder / "a.png"], services=Services.create(folder / "data"), target="cat", layout="diagonal")
Traceback (most recent call last):
...
workbench.api.args.ArgumentError: layout must be one of h, v, grid, got 'diagonal'
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from grounding import ImageSize
from grounding.canvas import CanvasKind
from grounding.prompts import GroundingTask, ImageNaming
from workbench.api import _family, args
from workbench.api.args import (
    ArgumentError,
    choice,
    flag,
    number,
    text_list,
    whole_number,
)
from workbench.errors import WorkbenchError
from workbench.files import ImageLimitError, check_image_file
from workbench.multi import tools
from workbench.multi.common import with_names
from workbench.run_settings import DEFAULT_MAX_NEW_TOKENS

__all__ = ["MAX_ORDERS", "MAX_TILES", "prompt_preview", "order_probe", "canvas", "steps", "tiles"]

MAX_ORDERS = 24
"""Most orders one probe may run (every order of 4 images)."""
MAX_TILES = 64
"""Most tiles one tiled run may ground (a smaller tile budget on a large image asks for more)."""
_TASKS = tuple(t.value for t in GroundingTask)
_NAMINGS = tuple(n.value for n in ImageNaming)
_LAYOUTS = tuple(k.value for k in CanvasKind)


@contextmanager
def _named(paths: Sequence[str], names: Sequence[str]) -> Iterator[None]:
    """Errors raised inside speak of the files by the caller's names, never by their paths."""
    try:
        yield
    except ArgumentError as exc:
        raise ArgumentError(with_names(str(exc), paths, names)) from None
    except (WorkbenchError, ValueError) as exc:
        raise WorkbenchError(with_names(str(exc), paths, names)) from None


def _files(services: Any, paths: Sequence[str | os.PathLike], names: Sequence[str] | None) -> tuple[
        list[str], list[str], list[ImageSize]]:
    """(paths as text, names, sizes) after the count and every file's header are checked."""
    limits = services.deployment.limits
    files = [str(os.fspath(p)) for p in paths]
    if not paths:
        raise ArgumentError("give at least one image")
    if limits.images_per_request and len(files) > limits.images_per_request:
        raise ArgumentError(f"at most {limits.images_per_request} images per request here, got {len(files)}")
    shown = list(names) if names is not None else [os.path.basename(p) for p in files]
    sizes = []
    for path, name in zip(files, shown):
        try:
            sizes.append(check_image_file(path, limits, name=name))
        except ImageLimitError as exc:
            raise ArgumentError(str(exc)) from None
    return files, shown, sizes


def _model(services: Any, backend: Any, model: Any, base_url: Any, family: Any, min_pixels: Any, max_pixels: Any,
           max_new_tokens: Any) -> dict[str, Any]:
    """The backend and request options, checked (0 and "" mean the backend's own)."""
    limits = services.deployment.limits
    kind = choice("backend", backend, ("local", "openai"), default="openai")
    base_url = args.text("base_url", base_url, max_chars=2000, default="")
    if kind == "local" and base_url:
        raise ArgumentError("base_url is for the openai backend; the local backend takes none")
    return {
        "backend": kind,
        "model": args.text("model", model, max_chars=300, default=""),
        "base_url": base_url,
        "family": _family(family, allow_empty=True),
        "min_pixels": whole_number("min_pixels", min_pixels, low=0, high=limits.max_pixels or None, default=0),
        "max_pixels": whole_number("max_pixels", max_pixels, low=0, high=limits.max_pixels or None, default=0),
        "max_new_tokens": whole_number("max_new_tokens", max_new_tokens, low=1, high=limits.max_new_tokens or None,
                                       default=DEFAULT_MAX_NEW_TOKENS),
    }


def _ask(services: Any, target: Any, prompt: Any, task: Any) -> dict[str, Any]:
    """What to ask: a target (the family's phrasing) or the caller's own prompt, exactly one of them."""
    target = args.text("target", target, max_chars=1000, default="").strip()
    prompt = args.text("prompt", prompt, max_chars=services.deployment.limits.prompt_chars or 10**9, default="")
    if not target and not prompt.strip():
        raise ArgumentError("give a target (what to find) or a prompt (your own text)")
    if target and prompt.strip():
        raise ArgumentError("give a target (what to find) or a prompt (your own text), not both")
    return {"target": target, "prompt": prompt, "task": choice("task", task, _TASKS, default="boxes")}


def _ids(image_ids: Any, count: int) -> list[str]:
    ids = text_list("image_ids", image_ids, max_items=count, max_chars=100)
    if ids and len(ids) != count:
        raise ArgumentError(f"image_ids: give one ID per image ({count} images, {len(ids)} IDs)")
    return ids


def _naming(naming: Any, *, default: str = "") -> str:
    return choice("naming", naming, ("", *_NAMINGS), default=default) or default


def prompt_preview(paths: Sequence[str | os.PathLike], *, services: Any, names: Sequence[str] | None = None,
                   target: str = "", prompt: str = "", task: str = "boxes", image_ids: Sequence[str] | None = None,
                   naming: str = "", backend: str = "openai", model: str = "", base_url: str = "", family: str = "",
                   min_pixels: int = 0, max_pixels: int = 0, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS) -> dict:
    """The exact prompt the model would get for these images (:func:`workbench.multi.tools.prompt_preview`)."""
    paths, shown, _ = _files(services, paths, names)
    options = {**_ask(services, target, prompt, task), **_model(services, backend, model, base_url, family,
                                                                 min_pixels, max_pixels, max_new_tokens)}
    with _named(paths, shown):
        result = tools.prompt_preview(paths, services=services, image_ids=_ids(image_ids, len(paths)),
                                      naming=_naming(naming), **options)
    return with_names(result, paths, shown)


def _orders(orders: Any, count: int) -> list[list[int]]:
    if orders is None:
        return []
    if not isinstance(orders, (list, tuple)):
        raise ArgumentError(f"orders must be a list of orders (lists of image positions), got {args.kind_of(orders)}")
    if len(orders) > MAX_ORDERS:
        raise ArgumentError(f"orders may have at most {MAX_ORDERS} items, got {len(orders)}")
    chosen = []
    for i, order in enumerate(orders):
        if not isinstance(order, (list, tuple)) or len(order) != count:
            raise ArgumentError(f"orders[{i}] must list each of the {count} image positions once")
        chosen.append([whole_number(f"orders[{i}][{k}]", v, low=1, high=count) for k, v in enumerate(order)])
    return chosen


def order_probe(paths: Sequence[str | os.PathLike], *, services: Any, names: Sequence[str] | None = None,
                target: str = "", prompt: str = "", task: str = "boxes", image_ids: Sequence[str] | None = None,
                naming: str = "", orders: Sequence[Sequence[int]] | None = None, max_orders: int = 12, seed: int = 0,
                backend: str = "openai", model: str = "", base_url: str = "", family: str = "", min_pixels: int = 0,
                max_pixels: int = 0, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS, on_progress: Any = None) -> dict:
    """The same request over several orders of the images (:func:`workbench.multi.tools.order_probe`)."""
    paths, shown, _ = _files(services, paths, names)
    if len(paths) < 2:
        raise ArgumentError("the order probe needs at least two images")
    options = {**_ask(services, target, prompt, task), **_model(services, backend, model, base_url, family,
                                                                 min_pixels, max_pixels, max_new_tokens)}
    with _named(paths, shown):
        result = tools.order_probe(paths, services=services, image_ids=_ids(image_ids, len(paths)),
                                   naming=_naming(naming), orders=_orders(orders, len(paths)),
                                   max_orders=whole_number("max_orders", max_orders, low=1, high=MAX_ORDERS,
                                                           default=12),
                                   seed=whole_number("seed", seed, low=0, high=2**31 - 1, default=0),
                                   on_progress=on_progress, **options)
    return with_names(result, paths, shown)


def canvas(paths: Sequence[str | os.PathLike], *, services: Any, names: Sequence[str] | None = None,
           target: str = "", prompt: str = "", task: str = "boxes", layout: str = "h", canvas_max_pixels: int = 0,
           gap: int = 0, match_size: bool = True, columns: int = 0, backend: str = "openai", model: str = "",
           base_url: str = "", family: str = "", min_pixels: int = 0, max_pixels: int = 0,
           max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS) -> dict:
    """Ground the images merged into one canvas (:func:`workbench.multi.tools.canvas_grounding`).

    ``canvas_max_pixels`` 0: the images' own total area, within the deployment's per-upload pixel limit.
    """
    paths, shown, _ = _files(services, paths, names)
    limits = services.deployment.limits
    options = {**_ask(services, target, prompt, task), **_model(services, backend, model, base_url, family,
                                                                 min_pixels, max_pixels, max_new_tokens)}
    area = whole_number("canvas_max_pixels", canvas_max_pixels, low=0, high=limits.upload_pixels or None, default=0)
    with _named(paths, shown):
        result = tools.canvas_grounding(
            paths, services=services, layout=choice("layout", layout, _LAYOUTS, default="h"),
            canvas_max_pixels=area or limits.upload_pixels, gap=whole_number("gap", gap, low=0, high=1000, default=0),
            match_size=flag("match_size", match_size, default=True),
            columns=whole_number("columns", columns, low=0, high=len(paths), default=0), **options)
    return with_names(result, paths, shown)


def steps(paths: Sequence[str | os.PathLike], *, services: Any, names: Sequence[str] | None = None,
          target: str = "", prompt: str = "", task: str = "boxes", image_ids: Sequence[str] | None = None,
          naming: str = "picture", backend: str = "openai", model: str = "", base_url: str = "", family: str = "",
          min_pixels: int = 0, max_pixels: int = 0, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS, on_progress: Any = None) -> dict:
    """One image per turn of one conversation (:func:`workbench.multi.tools.step_grounding`)."""
    paths, shown, _ = _files(services, paths, names)
    options = {**_ask(services, target, prompt, task), **_model(services, backend, model, base_url, family,
                                                                 min_pixels, max_pixels, max_new_tokens)}
    with _named(paths, shown):
        result = tools.step_grounding(paths, services=services, image_ids=_ids(image_ids, len(paths)),
                                      naming=_naming(naming, default="picture"), on_progress=on_progress, **options)
    return with_names(result, paths, shown)


def tiles(path: str | os.PathLike, *, services: Any, name: str | None = None, target: str = "", prompt: str = "",
          task: str = "boxes", tile_max_pixels: int = 0, overlap: float = 0.15, max_aspect: float = 4.0,
          refine: bool = False, compare: bool = True, backend: str = "openai", model: str = "", base_url: str = "",
          family: str = "", max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS, on_progress: Any = None) -> dict:
    """One large image ground tile by tile (:func:`workbench.multi.tools.tiled_grounding`), at most
    :data:`MAX_TILES` tiles; ``tile_max_pixels`` 0: the family's 1280 tokens per tile (both checked by
    :func:`workbench.multi.tiles.ground_tiled` before any call)."""
    paths, shown, _ = _files(services, [path], None if name is None else [name])
    limits = services.deployment.limits
    options = {**_ask(services, target, prompt, task), **_model(services, backend, model, base_url, family, 0, 0,
                                                                 max_new_tokens)}
    options.pop("min_pixels"), options.pop("max_pixels")
    budget = whole_number("tile_max_pixels", tile_max_pixels, low=0, high=limits.max_pixels or None, default=0)
    share = number("overlap", overlap, low=0.0, high=0.5, default=0.15)
    aspect = number("max_aspect", max_aspect, low=1.0, high=50.0, default=4.0)
    with _named(paths, shown):
        result = tools.tiled_grounding(paths[0], services=services, tile_max_pixels=budget, max_tiles=MAX_TILES,
                                       overlap=share, max_aspect=aspect, refine=flag("refine", refine, default=False),
                                       compare=flag("compare", compare, default=True), on_progress=on_progress,
                                       **options)
    return with_names({"file": shown[0], **result}, paths, shown)

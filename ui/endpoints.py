"""Public API endpoints for gradio_client scripts: geometry, parse and ground, the multi-image and
high-resolution tools: prompt_preview, order_probe, canvas, steps and tiles (docs/multi-image.md), and
evaluate (a dataset's accepted items against models, prompts and budgets: docs/evaluation.md).

Images are accepted only as files the visitor uploaded through Gradio (``handle_file`` in
gradio_client: a FileData whose file lies in Gradio's upload folder). A plain string, a path
anywhere else, or a FileData pointing outside the upload folder is refused with one message,
without the path being opened or even looked up, so answers tell nothing about the server's
files. Every other argument is checked by :mod:`workbench.api` and answered in words; an
unexpected failure is reported as such, never as ``{"error": null}``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

import gradio as gr
from gradio.data_classes import FileData
from gradio.utils import get_upload_folder

from grounding import DEFAULT_FAMILY
from ui.context import _username
from ui.visitors import visitor_key
from workbench.api import ground_images, image_geometry, parse_output
from workbench.api import multi as tools
from workbench.api.evaluate import evaluate_dataset
from workbench.deployment.gate import visitor
from workbench.errors import WorkbenchError
from workbench.files import file_inside
from workbench.review import owner_key
from workbench.run_settings import DEFAULT_MAX_NEW_TOKENS
from workbench.services import Services
from workbench.urls import redact_urls

__all__ = ["API_NAMES", "register", "uploaded_file", "uploaded_files"]

API_NAMES = frozenset({"geometry", "parse", "ground", "prompt_preview", "order_probe", "canvas", "steps", "tiles"})
"""The public endpoints (their every argument is checked here and answered in words: ui.guard relies on it)."""

log = logging.getLogger(__name__)

NOT_UPLOADED = ("{what} is not a file uploaded to this app: send each image as an upload "
                "(gradio_client.handle_file(path)), not as a path, URL or text")


def uploaded_file(file: Any) -> tuple[str, str]:
    """(server path, the visitor's file name) of one upload; gr.Error for anything else."""
    try:
        (path,), (name,) = uploaded_files([file], max_files=1)
    except gr.Error:
        raise gr.Error(NOT_UPLOADED.format(what="image")) from None
    return path, name


def uploaded_files(files: Any, *, max_files: int) -> tuple[list[str], list[str]]:
    """(server paths, the visitor's file names) of the uploads in ``files``; gr.Error for anything else."""
    if not isinstance(files, list):
        raise gr.Error("images must be a list of uploaded files (gradio_client.handle_file(path) for each)")
    if not files:
        raise gr.Error("give at least one image")
    if max_files and len(files) > max_files:
        raise gr.Error(f"at most {max_files} images per request here, got {len(files)}")
    folder = get_upload_folder()
    paths, names = [], []
    for i, file in enumerate(files):
        if isinstance(file, FileData):
            file = file.model_dump()
        path = file.get("path") if isinstance(file, dict) else None
        inside = file_inside(path, folder) if isinstance(path, str) and path else None
        if inside is None:
            raise gr.Error(NOT_UPLOADED.format(what=f"images[{i}]"))
        name = file.get("orig_name") if isinstance(file.get("orig_name"), str) else None
        paths.append(str(inside))
        names.append((name or inside.name)[-200:])
    return paths, names


def _speaks(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Errors in words: the workbench's own as they are (URLs shown without secrets), others as one line."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except (WorkbenchError, ValueError) as exc:
            raise gr.Error(redact_urls(str(exc))) from None
        except Exception as exc:
            log.exception("%s failed", fn.__name__)
            raise gr.Error(f"{fn.__name__} failed ({type(exc).__name__}); the request was not completed") from None

    return wrapper


def register(services: Services) -> None:
    limits = services.deployment.limits

    def _session(request: gr.Request | None) -> str | None:
        """The caller's visitor key: signed-in user, else the client's address (each raw /call has a new session)."""
        return visitor_key(request, api=True, proxy_hops=services.deployment.proxy_hops)

    @_speaks
    def geometry(images: list[FileData], family: str = DEFAULT_FAMILY.name, min_pixels: int = 0,
                 max_pixels: int = 0) -> list[dict]:
        """Original size (after EXIF), processed size, grid_thw and visual tokens of each image."""
        paths, names = uploaded_files(images, max_files=limits.images_per_request)
        return image_geometry(paths, family, min_pixels, max_pixels, names=names, limits=limits)

    @_speaks
    def parse(text: str, family: str = DEFAULT_FAMILY.name, original_sizes: list[list[int]] | None = None,
              min_pixels: int = 0, max_pixels: int = 0, coordinate_keys: list[str] | None = None,
              image_ids: list[str] | None = None) -> dict:
        """Detections in original pixels from a model output, for images of the given [W, H] sizes.

        ``coordinate_keys``: extra JSON keys that hold coordinates (your prompt named them); ``image_ids``: the IDs
        your prompt gave the images, one per image, so that ``"image": "img10"`` is mapped by ID.
        """
        return parse_output(text, family, original_sizes or [], min_pixels, max_pixels,
                            coordinate_keys=coordinate_keys or (), image_ids=image_ids or ())

    @_speaks
    def ground(images: list[FileData], prompt: str, backend: str = "openai", model: str = "", base_url: str = "",
               family: str = "", image_ids: list[str] | None = None, min_pixels: int = 0, max_pixels: int = 0,
               max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS, request: gr.Request | None = None) -> dict:
        """Run grounding on a local model ("local") or an OpenAI-compatible server ("openai") and parse it."""
        paths, names = uploaded_files(images, max_files=limits.images_per_request)
        token = visitor.set(_session(request))
        try:
            return ground_images(paths, prompt, services=services, backend=backend, model=model, base_url=base_url,
                                 family=family, image_ids=image_ids, min_pixels=min_pixels, max_pixels=max_pixels,
                                 max_new_tokens=max_new_tokens, names=names)
        finally:
            visitor.reset(token)

    def as_visitor(request: gr.Request | None, work: Callable[[], dict]) -> dict:
        token = visitor.set(_session(request))
        try:
            return work()
        finally:
            visitor.reset(token)

    @_speaks
    def prompt_preview(images: list[FileData], target: str = "", prompt: str = "", task: str = "boxes",
                       image_ids: list[str] | None = None, naming: str = "", backend: str = "openai", model: str = "",
                       base_url: str = "", family: str = "", min_pixels: int = 0, max_pixels: int = 0,
                       max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS, request: gr.Request | None = None) -> dict:
        """The exact prompt the model would get (nothing is sent): the chat template's text for "local", the
        request body for "openai". Give a target (what to find) or your own prompt; naming is none, picture or ids."""
        paths, names = uploaded_files(images, max_files=limits.images_per_request)
        return as_visitor(request, lambda: tools.prompt_preview(
            paths, services=services, names=names, target=target, prompt=prompt, task=task, image_ids=image_ids,
            naming=naming, backend=backend, model=model, base_url=base_url, family=family, min_pixels=min_pixels,
            max_pixels=max_pixels, max_new_tokens=max_new_tokens))

    @_speaks
    def order_probe(images: list[FileData], target: str = "", prompt: str = "", task: str = "boxes",
                    image_ids: list[str] | None = None, naming: str = "", orders: list[list[int]] | None = None,
                    max_orders: int = 12, seed: int = 0, backend: str = "openai", model: str = "", base_url: str = "",
                    family: str = "", min_pixels: int = 0, max_pixels: int = 0, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
                    request: gr.Request | None = None) -> dict:
        """The same request over several orders of the images (all up to 4 images, else a seeded sample), every
        answer mapped back to its source image: per image, boxes per order, agreement, count spread; the most
        consistent order."""
        paths, names = uploaded_files(images, max_files=limits.images_per_request)
        return as_visitor(request, lambda: tools.order_probe(
            paths, services=services, names=names, target=target, prompt=prompt, task=task, image_ids=image_ids,
            naming=naming, orders=orders, max_orders=max_orders, seed=seed, backend=backend, model=model,
            base_url=base_url, family=family, min_pixels=min_pixels, max_pixels=max_pixels,
            max_new_tokens=max_new_tokens))

    @_speaks
    def canvas(images: list[FileData], target: str = "", prompt: str = "", task: str = "boxes", layout: str = "h",
               canvas_max_pixels: int = 0, gap: int = 0, match_size: bool = True, columns: int = 0,
               backend: str = "openai", model: str = "", base_url: str = "", family: str = "", min_pixels: int = 0,
               max_pixels: int = 0, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS, request: gr.Request | None = None) -> dict:
        """Merge the images into one canvas (layout h, v or grid), ground it once, and split the boxes back to
        their source images in their own pixels (boxes across a seam clipped and flagged)."""
        paths, names = uploaded_files(images, max_files=limits.images_per_request)
        return as_visitor(request, lambda: tools.canvas(
            paths, services=services, names=names, target=target, prompt=prompt, task=task, layout=layout,
            canvas_max_pixels=canvas_max_pixels, gap=gap, match_size=match_size, columns=columns, backend=backend,
            model=model, base_url=base_url, family=family, min_pixels=min_pixels, max_pixels=max_pixels,
            max_new_tokens=max_new_tokens))

    @_speaks
    def steps(images: list[FileData], target: str = "", prompt: str = "", task: str = "boxes",
              image_ids: list[str] | None = None, naming: str = "picture", backend: str = "openai", model: str = "",
              base_url: str = "", family: str = "", min_pixels: int = 0, max_pixels: int = 0,
              max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS, request: gr.Request | None = None) -> dict:
        """One image per turn of one conversation, earlier answers kept as history; each turn's boxes on its image."""
        paths, names = uploaded_files(images, max_files=limits.images_per_request)
        return as_visitor(request, lambda: tools.steps(
            paths, services=services, names=names, target=target, prompt=prompt, task=task, image_ids=image_ids,
            naming=naming, backend=backend, model=model, base_url=base_url, family=family, min_pixels=min_pixels,
            max_pixels=max_pixels, max_new_tokens=max_new_tokens))

    @_speaks
    def tiles(image: FileData, target: str = "", prompt: str = "", task: str = "boxes", tile_max_pixels: int = 0,
              overlap: float = 0.15, max_aspect: float = 4.0, refine: bool = False, compare: bool = True,
              backend: str = "openai", model: str = "", base_url: str = "", family: str = "",
              max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS, request: gr.Request | None = None) -> dict:
        """Ground one large or extreme image tile by tile (each tile within tile_max_pixels, 0: 1280*28*28),
        merge the boxes back (duplicates across overlaps merged), optionally re-ground each box on a crop around
        it, and compare with one pass over the whole image under the same budget."""
        path, name = uploaded_file(image)
        return as_visitor(request, lambda: tools.tiles(
            path, services=services, name=name, target=target, prompt=prompt, task=task,
            tile_max_pixels=tile_max_pixels, overlap=overlap, max_aspect=max_aspect, refine=refine, compare=compare,
            backend=backend, model=model, base_url=base_url, family=family, max_new_tokens=max_new_tokens))

    @_speaks
    def evaluate(dataset: str, split: str = "val", models: list[str] | None = None, prompts: list[str] | None = None,
                 max_pixels: list[int] | None = None, backend: str = "openai", base_url: str = "", family: str = "",
                 max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS, fresh: bool = False, request: gr.Request | None = None) -> dict:
        """Evaluate models x prompt templates ({target}: the item's labels) x max_pixels budgets on the accepted
        items of one of your datasets' split (train, val, test or all); resumes an unfinished evaluation of the
        same grid unless fresh; family: a served model's when its name does not tell (default: the dataset's).
        Returns the evaluation with one object per cell (model, prompt, max_pixels,
        items, metrics, run_id). On a public deployment: your own datasets (sign in), the app's model."""
        username = _username(request)
        if services.public and not username:
            raise gr.Error("sign in with Hugging Face to evaluate your datasets through the API (anonymous "
                           "visitors' datasets belong to their browser)")
        owner = owner_key(services.public, username, "")
        return as_visitor(request, lambda: evaluate_dataset(
            services, dataset, owner=owner, split=split, models=models, prompts=prompts, max_pixels=max_pixels,
            backend=backend, base_url=base_url, family=family, max_new_tokens=max_new_tokens, fresh=fresh))

    gr.api(geometry, api_name="geometry")
    gr.api(parse, api_name="parse")
    # The fair gate in front of each backend (workbench.deployment.gate) orders model work: one local
    # generation at a time, a few requests per server, one per visitor. Gradio only bounds threads.
    gr.api(ground, api_name="ground", concurrency_id="ground", concurrency_limit=8)
    gr.api(prompt_preview, api_name="prompt_preview", concurrency_id="ground", concurrency_limit=8)
    for endpoint in (order_probe, canvas, steps, tiles):
        gr.api(endpoint, api_name=endpoint.__name__, concurrency_id="ground", concurrency_limit=8)
    gr.api(evaluate, api_name="evaluate", concurrency_id="ground", concurrency_limit=8)

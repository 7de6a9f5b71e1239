"""Public API endpoints for gradio_client scripts: geometry, parse and ground.

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
from workbench.api import ground_images, image_geometry, parse_output
from workbench.deployment.files import file_inside
from workbench.deployment.gate import visitor
from workbench.deployment.urls import redact_urls
from workbench.errors import WorkbenchError
from workbench.services import Services

__all__ = ["register", "uploaded_files"]

log = logging.getLogger(__name__)

NOT_UPLOADED = ("images[{i}] is not a file uploaded to this app: send each image as an upload "
                "(gradio_client.handle_file(path)), not as a path, URL or text")


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
            raise gr.Error(NOT_UPLOADED.format(i=i))
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
        except Exception as exc:  # noqa: BLE001 - the visitor gets words, the log gets the trace
            log.exception("%s failed", fn.__name__)
            raise gr.Error(f"{fn.__name__} failed ({type(exc).__name__}); the request was not completed") from None

    return wrapper


def _session(request: gr.Request | None) -> str | None:
    return getattr(request, "session_hash", None) if request is not None else None


def register(services: Services) -> None:
    limits = services.deployment.limits

    @_speaks
    def geometry(images: list[FileData], family: str = DEFAULT_FAMILY.name, min_pixels: int = 0,
                 max_pixels: int = 0) -> list[dict]:
        """Original size (after EXIF), processed size, grid_thw and visual tokens of each image."""
        paths, names = uploaded_files(images, max_files=limits.images_per_request)
        return image_geometry(paths, family, min_pixels, max_pixels, names=names, limits=limits)

    @_speaks
    def parse(text: str, family: str = DEFAULT_FAMILY.name, original_sizes: list[list[int]] | None = None,
              min_pixels: int = 0, max_pixels: int = 0) -> dict:
        """Detections in original pixels from a model output, for images of the given [W, H] sizes."""
        return parse_output(text, family, original_sizes or [], min_pixels, max_pixels)

    @_speaks
    def ground(images: list[FileData], prompt: str, backend: str = "openai", model: str = "", base_url: str = "",
               family: str = "", image_ids: list[str] | None = None, min_pixels: int = 0, max_pixels: int = 0,
               max_new_tokens: int = 1024, request: gr.Request = None) -> dict:
        """Run grounding on a local model ("local") or an OpenAI-compatible server ("openai") and parse it."""
        paths, names = uploaded_files(images, max_files=limits.images_per_request)
        token = visitor.set(_session(request))
        try:
            return ground_images(paths, prompt, services=services, backend=backend, model=model, base_url=base_url,
                                 family=family, image_ids=image_ids, min_pixels=min_pixels, max_pixels=max_pixels,
                                 max_new_tokens=max_new_tokens, names=names)
        finally:
            visitor.reset(token)

    gr.api(geometry, api_name="geometry")
    gr.api(parse, api_name="parse")
    # The fair gate in front of each backend (workbench.deployment.gate) orders model work: one local
    # generation at a time, a few requests per server, one per visitor. Gradio only bounds threads.
    gr.api(ground, api_name="ground", concurrency_id="ground", concurrency_limit=8)

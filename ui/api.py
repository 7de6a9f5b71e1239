"""Public API endpoints for gradio_client scripts: geometry, parse and ground."""

from __future__ import annotations

import gradio as gr

from grounding import DEFAULT_FAMILY
from gradio.data_classes import FileData

from workbench.api import ground_images, image_geometry, parse_output
from workbench.errors import WorkbenchError
from workbench.services import Services

__all__ = ["register"]


def _path(file: FileData | dict | str) -> str:
    if isinstance(file, str):
        return file
    return file["path"] if isinstance(file, dict) else file.path


def register(services: Services) -> None:
    def geometry(images: list[FileData], family: str = DEFAULT_FAMILY.name, min_pixels: int = 0,
                 max_pixels: int = 0) -> list[dict]:
        """Original size (after EXIF), processed size, grid_thw and visual tokens of each image."""
        try:
            entries = image_geometry([_path(f) for f in images], family, min_pixels, max_pixels)
        except ValueError as exc:  # unknown family, bad limits
            raise gr.Error(str(exc)) from None
        for entry, file in zip(entries, images):  # report the uploaded name, not the server's temp path
            entry["file"] = getattr(file, "orig_name", None) or (file.get("orig_name") if isinstance(file, dict) else None) or entry["file"]
        return entries

    def parse(text: str, family: str = DEFAULT_FAMILY.name, original_sizes: list[list[int]] | None = None,
              min_pixels: int = 0, max_pixels: int = 0) -> dict:
        """Detections in original pixels from a model output, for images of the given [W, H] sizes."""
        try:
            return parse_output(text, family, original_sizes or [], min_pixels, max_pixels)
        except ValueError as exc:
            raise gr.Error(str(exc)) from None

    def ground(images: list[FileData], prompt: str, backend: str = "openai", model: str = "", base_url: str = "",
               family: str = "", image_ids: list[str] | None = None, min_pixels: int = 0, max_pixels: int = 0,
               max_new_tokens: int = 1024) -> dict:
        """Run grounding on a local model ("local") or an OpenAI-compatible server ("openai") and parse it."""
        try:
            return ground_images([_path(f) for f in images], prompt, services=services, backend=backend,
                                 model=model, base_url=base_url, family=family, image_ids=image_ids or [],
                                 min_pixels=min_pixels, max_pixels=max_pixels, max_new_tokens=max_new_tokens)
        except (WorkbenchError, ValueError) as exc:
            raise gr.Error(str(exc)) from None

    gr.api(geometry, api_name="geometry")
    gr.api(parse, api_name="parse")
    gr.api(ground, api_name="ground", concurrency_id="model", concurrency_limit=1)

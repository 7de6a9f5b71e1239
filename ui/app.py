"""The Gradio Blocks app. Nothing is built at import time: call :func:`create_app`.

>>> demo = create_app()
>>> type(demo).__name__
'Blocks'
"""

from __future__ import annotations

import gradio as gr

from grounding import FAMILIES, PixelLimits
from workbench.images import GEOMETRY_COLUMNS, geometry_rows

__all__ = ["create_app"]

_FAMILY_NAMES = [f.name for f in FAMILIES]


def _table(files: list[str] | None, family: str, min_pixels: float, max_pixels: float) -> list[list[object]]:
    try:
        limits = PixelLimits(int(min_pixels), int(max_pixels))
    except ValueError as exc:
        raise gr.Error(str(exc)) from None
    pairs = [(f"img{i}", path) for i, path in enumerate(files or [], start=1)]
    return geometry_rows(pairs, family, limits)


def create_app() -> gr.Blocks:
    """Build the workbench UI."""
    with gr.Blocks(title="Grounding Workbench") as demo:
        gr.Markdown("# Grounding Workbench\nWhat a Qwen-VL model sees for each of your images.")
        with gr.Row():
            files = gr.File(label="Images", file_count="multiple", file_types=["image"], type="filepath")
            with gr.Column():
                family = gr.Dropdown(_FAMILY_NAMES, value="qwen2.5-vl", label="Model family")
                min_pixels = gr.Number(value=3136, precision=0, label="min_pixels")
                max_pixels = gr.Number(value=12845056, precision=0, label="max_pixels")
        table = gr.Dataframe(headers=GEOMETRY_COLUMNS, label="Geometry", interactive=False)
        inputs = [files, family, min_pixels, max_pixels]
        gr.on(
            [files.change, family.change, min_pixels.change, max_pixels.change],
            _table,
            inputs=inputs,
            outputs=table,
            api_name="geometry",
        )
    return demo

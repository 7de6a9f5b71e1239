"""``workbench canvas``: merge images into one canvas and write it with its ``layout.json``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from grounding.canvas import CanvasKind
from workbench.cli.model_options import echo_json, fail
from workbench.errors import USER_ERRORS
from workbench.multi.canvas import make_canvas


def canvas(
    images: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, help="Image files, in order.")],
    out: Annotated[Path, typer.Option("--out", file_okay=False, help="Folder for canvas.png and layout.json.")],
    layout: Annotated[CanvasKind, typer.Option(case_sensitive=False, help="h (side by side), v (stacked) or grid.")] = CanvasKind.HORIZONTAL,
    max_pixels: Annotated[int | None, typer.Option(min=1, help="Largest canvas area in pixels (scaled down to fit).")] = None,
    gap: Annotated[int, typer.Option(min=0, help="Pixels between images.")] = 0,
    match_size: Annotated[bool, typer.Option("--match-size/--native-size", help="Give the images a common height (h), width (v) or cell (grid).")] = True,
    columns: Annotated[int | None, typer.Option(min=1, help="Grid columns (default: about the square root of the count).")] = None,
) -> None:
    """Merge images into OUT/canvas.png with OUT/layout.json; print the layout.

    Parse a model's answer on the canvas with `workbench parse --canvas OUT/layout.json FILE`.
    """
    try:
        doc = make_canvas(list(images), out, layout=layout, max_pixels=max_pixels, gap=gap, match_size=match_size,
                          columns=columns)
    except USER_ERRORS as exc:
        raise fail(exc) from None
    echo_json(doc)


def register(app: typer.Typer) -> None:
    app.command("canvas")(canvas)

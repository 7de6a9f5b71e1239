"""``workbench parse``: read a model's output, print its boxes and points on the original image as JSON."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from grounding import CoordinateConvention, GeometryError, ProcessedImage, process_size
from grounding.parse import parse_grounding
from workbench.cli.model_options import fail
from workbench.cli.options import (
    DEFAULT_FAMILY,
    FamilyOption,
    MaxPixelsOption,
    MinPixelsOption,
    resolve,
)
from workbench.errors import USER_ERRORS
from workbench.files import ImageLimitError, read_bounded
from workbench.multi.canvas import canvas_detections, read_layout

__all__ = ["parse", "register"]


def _geometry(family: object, original: tuple[int, int], resized: tuple[int, int] | None,
              min_pixels: int | None, max_pixels: int | None) -> ProcessedImage:
    model_family, limits = resolve(family, min_pixels, max_pixels)  # type: ignore[arg-type]  # family: the CLI's Enum member
    if resized is not None and (min_pixels or max_pixels):
        raise typer.BadParameter("give either --resized or --min-pixels/--max-pixels, not both")
    try:
        image = process_size(original, model_family, limits)
        if resized is not None:
            process_size(resized, model_family, limits)  # same size checks for the resized one
            image = ProcessedImage(original_wh=image.original_wh, resized_wh=resized, family=model_family)
    except GeometryError as exc:
        raise typer.BadParameter(str(exc)) from None
    return image


def parse_canvas(text: str, layout: Path, family: object, resized: tuple[int, int] | None,
                 min_pixels: int | None, max_pixels: int | None) -> dict[str, Any]:
    """``workbench parse --canvas``: parse with the canvas's geometry, split the detections back to the sources."""
    try:
        plan, doc = read_layout(layout)
        image = _geometry(family, plan.canvas_wh, resized, min_pixels, max_pixels)
        return canvas_detections(text, doc, image.family, geometry=image)
    except USER_ERRORS as exc:
        raise fail(exc) from None
MAX_OUTPUT_BYTES = 16 << 20
"""The largest model output read (an 8192-token answer is well under 1 MB): a device or a runaway pipe stops here."""


def _read(source: str) -> str:
    """The text of a regular file or of stdin, at most :data:`MAX_OUTPUT_BYTES`; a clear exit otherwise."""
    if source == "-":
        data = sys.stdin.buffer.read(MAX_OUTPUT_BYTES + 1)
        if len(data) > MAX_OUTPUT_BYTES:
            typer.echo(f"stdin: more than {MAX_OUTPUT_BYTES >> 20} MB; a model output is far smaller", err=True)
            raise typer.Exit(code=1)
        return data.decode("utf-8", errors="replace")
    try:
        return read_bounded(source, MAX_OUTPUT_BYTES).decode("utf-8", errors="replace")
    except ImageLimitError as exc:  # not a regular file, larger than the bound, unreadable
        typer.echo(f"cannot read {source}: {str(exc).split(': ', 1)[-1]}", err=True)
        raise typer.Exit(code=1) from None


def parse(
    original: Annotated[tuple[int, int] | None, typer.Option("--original", metavar="W H",
                        help="Original image size in pixels (after EXIF orientation).")] = None,
    source: Annotated[str, typer.Argument(metavar="[FILE|-]", help="File with the model's raw output; - for stdin.")] = "-",
    canvas: Annotated[Path | None, typer.Option("--canvas", exists=True, dir_okay=False, help=(
        "layout.json of a merged canvas (workbench canvas): detections go back to the source images."))] = None,
    family: FamilyOption = DEFAULT_FAMILY,
    resized: Annotated[tuple[int, int] | None, typer.Option("--resized", metavar="W H",
                       help="Size the model saw (image_grid_thw x patch size); default: the family's resize rule.")] = None,
    min_pixels: MinPixelsOption = None,
    max_pixels: MaxPixelsOption = None,
    coord_keys: Annotated[list[str] | None, typer.Option(
        "--coord-key", metavar="KEY",
        help='A JSON key that holds coordinates, as your prompt named it (e.g. "result"); repeatable.')] = None,
    convention: Annotated[CoordinateConvention | None, typer.Option(
        case_sensitive=False, help="Read coordinates this way instead of the family's (a probe-convention "
                                   "verdict): absolute-resized, absolute-original, relative-1000, relative-1, "
                                   "or a -yx twin.")] = None,
) -> None:
    """Print {"detections": [{kind, label, image, model, original, outside, attributes}], "warnings": [...]}.

    Model text never fails the command; a bad size or an unreadable file exits with code 1.
    """
    if canvas is not None:  # the canvas is the image the model saw; its layout sends boxes to the sources
        typer.echo(json.dumps(parse_canvas(_read(source), canvas, family, resized, min_pixels, max_pixels), indent=2, ensure_ascii=False))
        return
    if original is None:
        raise typer.BadParameter("give --original W H (or --canvas LAYOUT.json)")
    image = _geometry(family, original, resized, min_pixels, max_pixels)
    if convention is not None:
        image = dataclasses.replace(image, family=image.family.with_convention(convention))
    try:
        result = parse_grounding(_read(source), image.family, image, coordinate_keys=tuple(coord_keys or ()))
    except ValueError as exc:  # an empty --coord-key
        raise typer.BadParameter(str(exc), param_hint="--coord-key") from None
    typer.echo(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))


def register(app: typer.Typer) -> None:
    app.command("parse")(parse)

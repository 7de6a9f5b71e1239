"""``workbench geometry``: what the model sees for each image, as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from workbench.api.geometry import geometry_report
from workbench.cli.options import (
    DEFAULT_FAMILY,
    FamilyOption,
    MaxPixelsOption,
    MinPixelsOption,
    resolve,
)


def geometry(
    images: Annotated[list[Path], typer.Argument(help="Image files (any format Pillow reads).")],
    family: FamilyOption = DEFAULT_FAMILY,
    min_pixels: MinPixelsOption = None,
    max_pixels: MaxPixelsOption = None,
) -> None:
    """Print a JSON list: file, original [W, H] (after EXIF), resized [W', H'], grid_thw and tokens.

    A file that cannot be read gets an "error" entry; the exit code is 1 only if every file failed.
    """
    model_family, limits = resolve(family, min_pixels, max_pixels)
    report = geometry_report(images, model_family, limits)
    typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
    if report and all("error" in entry for entry in report):
        raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    app.command("geometry")(geometry)

"""Options shared by several commands (family and pixel limits)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from grounding import DEFAULT_FAMILY as DEFAULT
from grounding import FAMILIES, GeometryError, ModelFamily, PixelLimits

FamilyName = Enum("FamilyName", {f.name.replace(".", "_").replace("-", "_"): f.name for f in FAMILIES}, type=str)  # type: ignore[misc]  # members from the registry

FamilyOption = Annotated[
    FamilyName,
    typer.Option("--family", "-f", case_sensitive=False, help="Model family whose resize rule and coordinates apply."),
]
MinPixelsOption = Annotated[
    int | None, typer.Option("--min-pixels", min=1, help="Processor min_pixels (default: the family's checkpoints).")
]
MaxPixelsOption = Annotated[
    int | None, typer.Option("--max-pixels", min=1, help="Processor max_pixels (default: the family's checkpoints).")
]

DEFAULT_FAMILY = FamilyName(DEFAULT.name)


def resolve(family: FamilyName, min_pixels: int | None, max_pixels: int | None) -> tuple[ModelFamily, PixelLimits]:
    """Family and limits from CLI options, missing limits taken from the family's defaults."""
    model_family = ModelFamily.from_name(family.value)
    try:
        limits = PixelLimits.default_for(model_family, min_pixels, max_pixels)
    except GeometryError as exc:
        raise typer.BadParameter(str(exc)) from None
    return model_family, limits

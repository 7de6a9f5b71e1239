"""``workbench tile``: ground a large or extreme image tile by tile and compare with one pass."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from grounding.prompts import GroundingTask
from workbench.cli.model_options import echo_json, fail, make_backend
from workbench.cli.options import (
    DEFAULT_BACKEND,
    DEFAULT_LIMITS_STYLE,
    BackendOption,
    BaseUrlOption,
    FamilyNameOption,
    LimitsStyleOption,
    MaxNewTokensOption,
    ModelOption,
    PromptOption,
    TargetOption,
    TaskOption,
)
from workbench.errors import USER_ERRORS
from workbench.multi.tiles import ground_tiled
from workbench.run_settings import DEFAULT_MAX_NEW_TOKENS


def tile(
    image: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The image file.")],
    target: TargetOption = None,
    prompt: PromptOption = None,
    task: TaskOption = GroundingTask.BOXES,
    tile_pixels: Annotated[int | None, typer.Option(min=1, help="Pixel budget of one call (each tile fits it; so does the single pass); default the family's 1280 tokens (1280·28² or 1280·32²).")] = None,
    overlap: Annotated[float, typer.Option(min=0.0, max=0.85, help="Share of a tile its neighbour overlaps.")] = 0.15,
    max_aspect: Annotated[float, typer.Option(min=1.0, help="Most elongated tile allowed (long side / short side).")] = 4.0,
    refine: Annotated[bool, typer.Option("--refine", help="Ground each merged box again on a crop around it.")] = False,
    compare: Annotated[bool, typer.Option("--compare/--no-compare", help="Also ground the whole image once and compare.")] = True,
    backend: BackendOption = DEFAULT_BACKEND,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    family: FamilyNameOption = None,
    limits_style: LimitsStyleOption = DEFAULT_LIMITS_STYLE,
    max_new_tokens: MaxNewTokensOption = DEFAULT_MAX_NEW_TOKENS,
) -> None:
    """Ground a large or extreme image tile by tile, merge the boxes, compare with one pass (JSON).

    Prints the tile plan, each tile's answer, merged detections in image pixels, and the
    single-pass comparison (matched pairs with IoU, boxes only in one of them).
    """
    try:
        runner, _ = make_backend(backend, model, base_url, family, limits_style, None, None)
        result = ground_tiled(runner, image, target=target, prompt=prompt, task=task, tile_max_pixels=tile_pixels,
                              overlap=overlap, max_aspect=max_aspect, refine=refine, compare=compare,
                              max_new_tokens=max_new_tokens)
    except USER_ERRORS as exc:
        raise fail(exc) from None
    echo_json(result)


def register(app: typer.Typer) -> None:
    app.command("tile")(tile)

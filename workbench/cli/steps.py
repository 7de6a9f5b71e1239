"""``workbench steps``: one image per turn of one conversation, each turn's boxes on its image."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from grounding.prompts import GroundingTask, ImageNaming
from workbench.cli.model_options import echo_json, fail, make_backend, split_ids
from workbench.cli.options import (
    DEFAULT_BACKEND,
    DEFAULT_LIMITS_STYLE,
    BackendOption,
    BaseUrlOption,
    FamilyNameOption,
    IdsOption,
    LimitsStyleOption,
    MaxNewTokensOption,
    MaxPixelsOption,
    MinPixelsOption,
    ModelOption,
    PromptOption,
    TargetOption,
    TaskOption,
)
from workbench.errors import USER_ERRORS
from workbench.multi.steps import ground_step_by_step
from workbench.run_settings import DEFAULT_MAX_NEW_TOKENS


def steps(
    images: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, help="Image files, one per turn.")],
    target: TargetOption = None,
    prompt: PromptOption = None,
    task: TaskOption = GroundingTask.BOXES,
    ids: IdsOption = None,
    naming: Annotated[ImageNaming, typer.Option(case_sensitive=False, help="How images are named across turns.")] = ImageNaming.PICTURE,
    backend: BackendOption = DEFAULT_BACKEND,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    family: FamilyNameOption = None,
    limits_style: LimitsStyleOption = DEFAULT_LIMITS_STYLE,
    min_pixels: MinPixelsOption = None,
    max_pixels: MaxPixelsOption = None,
    max_new_tokens: MaxNewTokensOption = DEFAULT_MAX_NEW_TOKENS,
) -> None:
    """Ground one image per turn of one conversation; print each turn and its boxes as JSON."""
    try:
        runner, limits = make_backend(backend, model, base_url, family, limits_style, min_pixels, max_pixels)
        result = ground_step_by_step(runner, list(images), target=target, prompt=prompt, task=task,
                                     image_ids=split_ids(ids), naming=naming, max_new_tokens=max_new_tokens,
                                     limits=limits)
    except USER_ERRORS as exc:
        raise fail(exc) from None
    echo_json(result)


def register(app: typer.Typer) -> None:
    app.command("steps")(steps)

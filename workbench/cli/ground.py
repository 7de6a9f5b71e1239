"""``workbench ground``: image files + what to find -> model output parsed into boxes, as JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from grounding import DEFAULT_FAMILY, GeometryError, PixelLimits
from grounding.prompts import GroundingTask, ImageNaming, request_text
from workbench.backends import GroundingRequest, create_backend
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
from workbench.errors import USER_ERRORS, WorkbenchError
from workbench.run_settings import DEFAULT_MAX_NEW_TOKENS
from workbench.runs.pipeline import image_table, parse_output
from workbench.runs.prompt_view import exact_prompt


def ground(
    images: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, help="Image files, in the order the model sees them.")],
    target: TargetOption = None,
    prompt: PromptOption = None,
    task: TaskOption = GroundingTask.BOXES,
    ids: IdsOption = None,
    backend: BackendOption = DEFAULT_BACKEND,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    family: FamilyNameOption = None,
    limits_style: LimitsStyleOption = DEFAULT_LIMITS_STYLE,
    min_pixels: MinPixelsOption = None,
    max_pixels: MaxPixelsOption = None,
    max_new_tokens: MaxNewTokensOption = DEFAULT_MAX_NEW_TOKENS,
    vision_id: Annotated[bool | None, typer.Option("--vision-id/--no-vision-id", help="'Picture N:' before each image (default: on for several).")] = None,
    naming: Annotated[ImageNaming | None, typer.Option(case_sensitive=False, help="How images are named in the prompt: none, picture ('Picture N:') or ids (your IDs); instead of --vision-id.")] = None,
    show_prompt: Annotated[bool, typer.Option("--show-prompt", help="Print the exact prompt the model would get (chat template text, or the server's messages) and stop.")] = False,
    raw: Annotated[bool, typer.Option("--raw", help="Print text and geometry only, without parsing.")] = False,
    stream: Annotated[bool, typer.Option("--stream", help="Echo generated text to stderr as it comes.")] = False,
    thinking: Annotated[bool, typer.Option("--thinking", help="Let a model that can think (Qwen3.5) reason first; "
                                                              "off by default. The budget grows by 4096 tokens.")] = False,
) -> None:
    """Run a model on the images and print JSON: images with their geometry, raw text, detections, warnings."""
    image_ids = tuple(i.strip() for i in ids.split(",")) if ids else ()
    try:
        limits = _limits(family, min_pixels, max_pixels)
        options: dict[str, object] = {"model": model, "limits": limits}
        if backend.value == "openai":
            options |= {"base_url": base_url, "family": family, "limits_style": limits_style.value}
        runner = create_backend(backend.value, **options)
        ids_in_text = image_ids or [f"img{i}" for i in range(1, len(images) + 1)]
        if naming is None and vision_id is not None:
            naming = ImageNaming.PICTURE if vision_id else ImageNaming.NONE
        text = _prompt_text(runner, target, prompt, task, ids_in_text, naming or (ImageNaming.PICTURE if len(images) > 1 else ImageNaming.NONE))
        request = GroundingRequest(
            images=tuple(images), prompt=text, image_ids=image_ids, add_vision_id=vision_id, max_new_tokens=max_new_tokens,
            naming=naming, thinking=thinking,
        )
        if show_prompt:
            typer.echo(json.dumps(exact_prompt(runner, request), indent=2, ensure_ascii=False))
            return
        echo = (lambda piece: print(piece, end="", file=sys.stderr, flush=True)) if stream else None
        output = runner.generate(request, on_text=echo)
        if raw:
            result: dict[str, object] = {
                "model": output.model,
                "family": output.family.name,
                "images": image_table(output, request.image_ids, request.image_names()),
                "text": output.text,
                "finish_reason": output.finish_reason,
                "warnings": list(output.warnings),
            }
        else:
            result = parse_output(request, output).as_dict()
    except USER_ERRORS as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(json.dumps(result, indent=2, ensure_ascii=False))


def _limits(family: str | None, min_pixels: int | None, max_pixels: int | None) -> PixelLimits | None:
    """Limits from flags; a missing one comes from the family's checkpoint defaults (None: the model's own)."""
    if min_pixels is None and max_pixels is None:
        return None
    try:
        return PixelLimits.default_for(family or DEFAULT_FAMILY, min_pixels, max_pixels)
    except GeometryError as exc:
        raise typer.BadParameter(str(exc)) from None


def _prompt_text(runner, target: str | None, prompt: str | None, task: GroundingTask, image_ids,
                 naming: ImageNaming = ImageNaming.PICTURE) -> str:
    if (target is None) == (prompt is None):
        raise WorkbenchError("give either --target (what to locate) or --prompt (your own text)")
    return request_text(runner.family(), image_ids, target=target, prompt=prompt, task=task, naming=naming)


def register(app: typer.Typer) -> None:
    app.command("ground")(ground)

"""Options shared by the commands that run a model (probe-order, tile, steps): what to ask, which
backend, how images are named; and the backend they make.

>>> split_ids(" front, back ")
('front', 'back')
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated, Any

import typer

from grounding import DEFAULT_FAMILY, GeometryError, PixelLimits
from grounding.prompts import GroundingTask, ImageNaming
from workbench import environment as env
from workbench.backends import create_backend
from workbench.backends.base import ModelBackend
from workbench.backends.openai_compat import LIMITS_STYLES

__all__ = [
    "BackendName", "TargetOption", "PromptOption", "TaskOption", "IdsOption", "NamingOption", "BackendOption",
    "ModelOption", "BaseUrlOption", "FamilyNameOption", "LimitsStyleOption", "MinPixelsOption", "MaxPixelsOption",
    "MaxNewTokensOption", "make_backend", "split_ids", "echo_json", "fail",
]

BackendName = Enum("BackendName", {"local": "local", "openai": "openai"}, type=str)
LimitsStyleName = Enum("LimitsStyleName", {s: s for s in LIMITS_STYLES}, type=str)  # type: ignore[misc]  # members from the registry

TargetOption = Annotated[str | None, typer.Option("--target", "-t", help="What to locate (the family's official prompt).")]
PromptOption = Annotated[str | None, typer.Option("--prompt", "-p", help="Your own prompt text instead of --target.")]
TaskOption = Annotated[GroundingTask, typer.Option(case_sensitive=False, help="Boxes or points.")]
IdsOption = Annotated[str | None, typer.Option(help="Comma-separated image IDs (default img1,img2,...).")]
NamingOption = Annotated[ImageNaming | None, typer.Option(
    case_sensitive=False, help="How images are named in the prompt: none, picture ('Picture N:'), ids (your IDs).")]
BackendOption = Annotated[BackendName, typer.Option(
    case_sensitive=False, help="local (transformers) or openai (a server).")]
ModelOption = Annotated[str | None, typer.Option(envvar=env.MODEL, help="Checkpoint or served model name.")]
BaseUrlOption = Annotated[str | None, typer.Option(envvar=env.BASE_URL, help="Server URL (openai backend).")]
FamilyNameOption = Annotated[str | None, typer.Option(help="Family of a served model when its name does not tell.")]
LimitsStyleOption = Annotated[LimitsStyleName, typer.Option(
    case_sensitive=False, envvar=env.LIMITS_STYLE, help="How limits are sent to the server.")]
MinPixelsOption = Annotated[int | None, typer.Option(min=1, help="Processor min_pixels.")]
MaxPixelsOption = Annotated[int | None, typer.Option(min=1, help="Processor max_pixels.")]
MaxNewTokensOption = Annotated[int, typer.Option(min=1, help="Generation limit; cut output is reported.")]

DEFAULT_BACKEND = BackendName("local")
DEFAULT_LIMITS_STYLE = LimitsStyleName("vllm")


def make_backend(backend: Any, model: str | None, base_url: str | None, family: str | None, limits_style: Any,
                 min_pixels: int | None, max_pixels: int | None) -> tuple[ModelBackend, PixelLimits | None]:
    """The backend, and the limits from flags (a missing one from the family's defaults; None: the model's own)."""
    limits = None
    if min_pixels is not None or max_pixels is not None:
        try:
            limits = PixelLimits.default_for(family or DEFAULT_FAMILY, min_pixels, max_pixels)
        except GeometryError as exc:
            raise typer.BadParameter(str(exc)) from None
    options: dict[str, object] = {"model": model, "limits": limits}
    if backend.value == "openai":
        options |= {"base_url": base_url, "family": family, "limits_style": limits_style.value}
    return create_backend(backend.value, **options), limits


def split_ids(ids: str | None) -> tuple[str, ...]:
    return tuple(i.strip() for i in ids.split(",")) if ids else ()


def echo_json(data: object) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def fail(exc: Exception) -> typer.Exit:
    """Print the error in words on stderr; the caller raises the returned exit (code 1)."""
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(code=1)

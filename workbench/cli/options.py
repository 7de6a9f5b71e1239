"""Every option more than one command takes, written once: the family and pixel limits (``geometry``, ``parse``,
``export``...), which model answers and how (``ground``, ``probe-order``, ``tile``, ``steps``,
``probe-convention``), and how a batch runs (``annotate``, ``annotate-files``, ``eval``). Defaults come from
:mod:`workbench.run_settings`; the variables an option reads are named in :mod:`workbench.environment`."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from grounding import DEFAULT_FAMILY as DEFAULT
from grounding import FAMILIES, GeometryError, ModelFamily, PixelLimits
from grounding.prompts import GroundingTask, ImageNaming
from workbench import environment as env
from workbench.run_settings import LIMITS_STYLES

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

# -- which model answers, and how --------------------------------------------------------------------------------
BackendName = Enum("BackendName", {"local": "local", "openai": "openai"}, type=str)
LimitsStyleName = Enum("LimitsStyleName", {s: s for s in LIMITS_STYLES}, type=str)  # type: ignore[misc]  # members from the registry
Engine = Enum("Engine", {"threads": "threads", "ray": "ray"}, type=str)
DEFAULT_LIMITS_STYLE = LimitsStyleName("vllm")
DEFAULT_BACKEND = BackendName("local")

BackendOption = Annotated[BackendName, typer.Option(
    case_sensitive=False, help="local (transformers, one answer at a time) or openai (a server).")]
ModelOption = Annotated[str | None, typer.Option(envvar=env.MODEL, help="Checkpoint (local) or served model name.")]
BaseUrlOption = Annotated[str | None, typer.Option(envvar=env.BASE_URL, help="Server URL (openai backend).")]
BaseUrlsOption = Annotated[list[str] | None, typer.Option(
    "--base-url", envvar=env.BASE_URL, help="Server URL; repeat for replicas (spread by load).")]
FamilyNameOption = Annotated[str | None, typer.Option(
    "--family", "-f", help="Model family of a served model when its name does not tell.")]
LimitsStyleOption = Annotated[LimitsStyleName, typer.Option(
    case_sensitive=False, envvar=env.LIMITS_STYLE, help="How pixel limits are sent to the server.")]
MaxNewTokensOption = Annotated[int, typer.Option(min=1, help="Generation limit per answer; cut output is reported.")]
TargetOption = Annotated[str | None, typer.Option("--target", "-t", help="What to locate (the family's official prompt).")]
PromptOption = Annotated[str | None, typer.Option("--prompt", "-p", help="Your own prompt text (instead of --target or --labels).")]
TaskOption = Annotated[GroundingTask, typer.Option(case_sensitive=False, help="Boxes or points.")]
IdsOption = Annotated[str | None, typer.Option(help="Comma-separated image IDs (default img1,img2,...).")]
NamingOption = Annotated[ImageNaming | None, typer.Option(
    case_sensitive=False, help="How images are named in the prompt: none, picture ('Picture N:'), ids (your IDs).")]

# -- how a batch runs -------------------------------------------------------------------------------------------
LabelsOption = Annotated[str | None, typer.Option("--labels", "-l", help="Comma-separated labels: the family's official request for them.")]
ConcurrencyOption = Annotated[int, typer.Option(min=1, help="Requests in flight at once (servers batch them).")]
EngineOption = Annotated[Engine, typer.Option(case_sensitive=False, help="threads (built in) or ray (Ray Data; RAY_ADDRESS for a cluster).")]
CheckOption = Annotated[bool, typer.Option("--geometry-check/--no-geometry-check", help="Probe each server's resizing before the batch.")]
WaitOption = Annotated[float, typer.Option(min=0, help="Seconds to wait for an unreachable server before stopping.")]
TimeoutOption = Annotated[float, typer.Option(min=1, help="Seconds one request may take.")]
KeysOption = Annotated[str | None, typer.Option("--coordinate-keys", help="Comma-separated extra JSON keys your prompt asks coordinates under (read besides bbox_2d/point_2d).")]


def resolve(family: FamilyName, min_pixels: int | None, max_pixels: int | None) -> tuple[ModelFamily, PixelLimits]:
    """Family and limits from CLI options, missing limits taken from the family's defaults."""
    model_family = ModelFamily.from_name(family.value)
    try:
        limits = PixelLimits.default_for(model_family, min_pixels, max_pixels)
    except GeometryError as exc:
        raise typer.BadParameter(str(exc)) from None
    return model_family, limits

"""``workbench probe-convention``: which coordinate convention a server or checkpoint really writes."""

from __future__ import annotations

from typing import Annotated

import typer

from workbench.cli.model_options import echo_json, fail, make_backend
from workbench.cli.options import (
    DEFAULT_LIMITS_STYLE,
    BackendName,
    BackendOption,
    BaseUrlOption,
    FamilyNameOption,
    LimitsStyleOption,
    MaxPixelsOption,
    MinPixelsOption,
    ModelOption,
)
from workbench.convention import probe_convention as run_probe
from workbench.errors import USER_ERRORS

OPENAI = BackendName("openai")


def probe_convention(
    base_url: BaseUrlOption = None,
    model: ModelOption = None,
    backend: BackendOption = OPENAI,
    family: FamilyNameOption = None,
    limits_style: LimitsStyleOption = DEFAULT_LIMITS_STYLE,
    min_pixels: MinPixelsOption = None,
    max_pixels: MaxPixelsOption = None,
    max_new_tokens: Annotated[int, typer.Option(min=16, help="Tokens for each probe answer.")] = 512,
    as_json: Annotated[bool, typer.Option("--json", help='Print {"convention", "min_pixels", "max_pixels", '
                                                          '"residual_px", "calls"} only.')] = False,
) -> None:
    """Show the model plain-coloured shapes at known places and name the coordinate reading that fits its answers.

    Up to three synthetic images (wide, tiny, 24 megapixels), each asking for "the red square": absolute pixels
    of the resized image (with the pixel limits that fit), absolute pixels of the original, 0-1000, 0-1, or
    their y-first twins; or it says that none fits. The server's usage.prompt_tokens, where reported, narrows
    the pixel limits. Save the result as a dataset's reading settings in Review (or with the Batch page's
    button).
    """
    try:
        runner, _ = make_backend(backend, model, base_url, family, limits_style, min_pixels, max_pixels)
        report = run_probe(runner, max_new_tokens=max_new_tokens)
    except USER_ERRORS as exc:
        raise fail(exc) from None
    if as_json:
        echo_json(report.as_dict())
        return
    typer.echo(f"{runner.model} ({report.family.name}): {report.message()}")
    for answer in report.answers:
        size = f"{answer.scene.size_wh[0]}x{answer.scene.size_wh[1]}"
        written = list(answer.written) if answer.written else "no box or point"
        tokens = f", {answer.prompt_tokens} prompt tokens" if answer.prompt_tokens is not None else ""
        typer.echo(f"  {answer.scene.name} ({size}): wrote {written}{tokens}")
    if report.reading is None:
        raise typer.Exit(code=2)


def register(app: typer.Typer) -> None:
    app.command("probe-convention")(probe_convention)

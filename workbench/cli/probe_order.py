"""``workbench probe-order``: the same prompt over several orders of the same images, as JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from grounding.prompts import GroundingTask
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
    NamingOption,
    PromptOption,
    TargetOption,
    TaskOption,
)
from workbench.errors import USER_ERRORS
from workbench.multi.order_probe import probe_order as run_probe
from workbench.run_settings import DEFAULT_MAX_NEW_TOKENS


def probe_order(
    images: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, help="Two or more image files.")],
    target: TargetOption = None,
    prompt: PromptOption = None,
    task: TaskOption = GroundingTask.BOXES,
    ids: IdsOption = None,
    naming: NamingOption = None,
    order: Annotated[list[str] | None, typer.Option(
        "--order", help="An order to try, e.g. 2,1,3 (repeatable; default: all up to 4 images, else a sample).")] = None,
    max_orders: Annotated[int, typer.Option(min=2, help="How many orders to sample beyond 4 images.")] = 12,
    seed: Annotated[int, typer.Option(help="Seed of the sample.")] = 0,
    backend: BackendOption = DEFAULT_BACKEND,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    family: FamilyNameOption = None,
    limits_style: LimitsStyleOption = DEFAULT_LIMITS_STYLE,
    min_pixels: MinPixelsOption = None,
    max_pixels: MaxPixelsOption = None,
    max_new_tokens: MaxNewTokensOption = DEFAULT_MAX_NEW_TOKENS,
    plot: Annotated[Path | None, typer.Option(dir_okay=False, help="Also write the heat map (images x orders) as a PNG.")] = None,
) -> None:
    """Ground the images in several orders and print how each image's boxes vary, as JSON.

    Per image: boxes per order, agreement across orders, count spread; the most consistent
    order; every order's raw answer; plot data.
    """
    try:
        orders = [[int(v) for v in o.split(",")] for o in order] if order else None
    except ValueError:
        raise typer.BadParameter("an order is comma-separated image positions, e.g. 2,1,3") from None
    try:
        runner, limits = make_backend(backend, model, base_url, family, limits_style, min_pixels, max_pixels)
        report = run_probe(runner, list(images), target=target, prompt=prompt, task=task, image_ids=split_ids(ids),
                           naming=naming, orders=orders, max_orders=max_orders, seed=seed,
                           max_new_tokens=max_new_tokens, limits=limits, plot_file=plot)
    except USER_ERRORS as exc:
        raise fail(exc) from None
    echo_json(report)


def register(app: typer.Typer) -> None:
    app.command("probe-order")(probe_order)

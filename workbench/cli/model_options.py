"""What the commands that run a model (ground, probe-order, tile, steps, probe-convention) share besides their
options (:mod:`workbench.cli.options`): the backend they make, image IDs, JSON output, failures in words.

>>> split_ids(" front, back ")
('front', 'back')
"""

from __future__ import annotations

import json
from typing import Any

import typer

from grounding import DEFAULT_FAMILY, GeometryError, PixelLimits
from workbench.backends import create_backend
from workbench.backends.base import ModelBackend

__all__ = ["make_backend", "split_ids", "echo_json", "fail"]



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

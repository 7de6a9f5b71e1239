"""``/evaluate``: measure models, prompts and pixel budgets on one of the caller's datasets, for scripts.

The same evaluation as ``workbench eval`` and the Evaluate page (:func:`workbench.evaluate.run_evaluation`),
run to its end within the call. Every argument is checked first; the backends come from
``services.backend``, so a public deployment's rules hold as for ``/ground``: its own server and model
only, each request within the resource limits and in fair turns (one at a time per visitor), and at most
:data:`PUBLIC_MAX_ANSWERS` model answers per call. Only the caller's own datasets can be evaluated.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from workbench.api import args
from workbench.api.args import ArgumentError, choice, text_list, whole_number
from workbench.config import default_model
from workbench.evaluate.grid import EvalGrid, EvalSetup, served_family
from workbench.evaluate.report import cell_json
from workbench.evaluate.runner import plan_evaluation, run_evaluation
from workbench.run_settings import DEFAULT_MAX_NEW_TOKENS, Reading

__all__ = ["MAX_CELLS", "PUBLIC_MAX_ANSWERS", "evaluate_dataset"]

MAX_CELLS = 12
"""Most cells (models x prompts x budgets) one call may ask for."""
PUBLIC_MAX_ANSWERS = 400
"""Most model answers (items x cells still to run) one call may cost on a public deployment."""
SPLIT_CHOICES = ("all", "train", "val", "test")


def evaluate_dataset(services: Any, dataset: str, *, owner: str, split: str = "val",
                     models: Sequence[str] | None = None, prompts: Sequence[str] | None = None,
                     max_pixels: Sequence[int] | None = None, backend: str = "openai", base_url: str = "",
                     family: str = "", max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS, fresh: bool = False) -> dict[str, Any]:
    """Run (or resume) the evaluation and return ``{"evaluation", "split", "items", "cells": [...]}``, each cell
    as ``workbench eval --json`` prints it."""
    limits = services.deployment.limits
    name = args.text("dataset", dataset, max_chars=200)
    chosen_split = choice("split", split, SPLIT_CHOICES, default="val")
    model_names = text_list("models", models, max_items=MAX_CELLS, max_chars=300) or [default_model()]
    templates = text_list("prompts", prompts, max_items=MAX_CELLS, max_chars=limits.prompt_chars or 100_000)
    if max_pixels is not None and not isinstance(max_pixels, (list, tuple)):
        raise ArgumentError("max_pixels must be a list of whole numbers")
    budgets = [whole_number(f"max_pixels[{i}]", v, low=1, high=limits.max_pixels or None)
               for i, v in enumerate(max_pixels or [])]
    kind = choice("backend", backend, ("local", "openai"), default="openai")
    url = args.text("base_url", base_url, max_chars=2000, default="")
    given_family = args.text("family", family, max_chars=100, default="")
    tokens = whole_number("max_new_tokens", max_new_tokens, low=1, high=limits.max_new_tokens or None, default=DEFAULT_MAX_NEW_TOKENS)
    fresh = args.flag("fresh", fresh, default=False)
    grid = EvalGrid(models=tuple(model_names), prompts=tuple(templates) or (None,),
                    max_pixels=tuple(budgets) or (None,), split="" if chosen_split == "all" else chosen_split,
                    max_new_tokens=tokens)
    if len(grid.setups()) > MAX_CELLS:
        raise ArgumentError(f"at most {MAX_CELLS} cells (models x prompts x budgets) per call, got "
                            f"{len(grid.setups())}")
    store = services.store()
    record = store.dataset(name, owner=owner)
    dataset_family = Reading.from_dataset(record.settings).family
    try:
        chosen_family = served_family("", given_family, dataset_family) if given_family else ""
    except ValueError as exc:
        raise ArgumentError(str(exc)) from None
    evaluation = plan_evaluation(store, record.id, grid, fresh=fresh)
    todo = sum(cell.state != "done" for cell in evaluation.cells)
    if services.public and len(evaluation.items) * todo > PUBLIC_MAX_ANSWERS:
        raise ArgumentError(f"this evaluation needs {len(evaluation.items) * todo} model answers; at most "
                            f"{PUBLIC_MAX_ANSWERS} per call here (choose a smaller split or fewer cells)")

    def open_cell(setup: EvalSetup) -> Any:
        options: dict[str, Any] = {"model": setup.model}
        if kind == "openai":
            options["base_url"] = url
            options["family"] = served_family(setup.model, chosen_family, dataset_family)
        return services.backend(kind, **options)

    at_once = 1 if services.public or kind == "local" else 4
    ended = run_evaluation(store, evaluation.id, open_cell, concurrency=at_once, geometry_check=kind == "openai")
    return {"evaluation": ended.id, "split": ended.split or "all", "items": len(ended.items),
            "cells": [cell_json(ended, cell) for cell in ended.cells]}

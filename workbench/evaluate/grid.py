"""What an evaluation measures: the grid of setups (models × prompt templates × pixel budgets) on a split.

:class:`EvalGrid` is the one description of an evaluation (kept with it in the store, so running the
same grid again resumes it); :class:`EvalSetup` is one cell of it. How the cells are run — servers,
concurrency, engine — is the batch runner's business, not part of what is measured.

A prompt template says ``{target}`` where the item's labels go, joined the way the dataset's training
questions join them (Qwen2.5-VL: "cup, plate and bowl"; Qwen3-VL's category list: "cup, plate, bowl");
no template (None) asks with the family's official wording. Items whose accepted answer is empty
(negatives) are asked for every label of the evaluated items, so that saying "none" is the right answer.

>>> grid = EvalGrid(models=("a", "b"), prompts=(None, "Find {target}."), max_pixels=(None, 401408), split="val")
>>> [(s.model, s.prompt, s.max_pixels) for s in grid.setups()][:3]
[('a', None, None), ('a', None, 401408), ('a', 'Find {target}.', None)]
>>> len(grid.setups()), EvalGrid.from_dict(grid.as_dict()) == grid
(8, True)
>>> item_prompt("Find {target}.", "qwen2.5-vl", ["cup", "bowl"], ["img1"])
'Find cup and bowl.'
>>> item_prompt(None, "qwen3-vl", ["cup", "bowl"], ["img1"])
'Locate every instance that belongs to the following categories: "cup, bowl". Report bbox coordinates in JSON format.'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from grounding import ModelFamily
from grounding.prompts import grounding_instruction, image_key_instruction
from workbench.errors import WorkbenchError
from workbench.export.questions import join_labels
from workbench.run_settings import DEFAULT_MAX_NEW_TOKENS
from workbench.store.splits import check_split

__all__ = ["TARGET", "EvalGrid", "EvalSetup", "item_prompt", "served_family"]

TARGET = "{target}"
NEGATIVE_TARGET = "object"
"""What an item is asked for when nothing in the evaluation has a label (every item a negative)."""


@dataclass(frozen=True)
class EvalSetup:
    """One cell of the grid: a model, a prompt template (None: the family's wording), a pixel budget
    (None: the model's own, or the family's checkpoints)."""

    model: str
    prompt: str | None = None
    max_pixels: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"model": self.model, "prompt": self.prompt, "max_pixels": self.max_pixels}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvalSetup:
        return cls(str(data.get("model") or ""), data.get("prompt"), data.get("max_pixels"))


    def describe(self) -> str:
        """One line: model · prompt · budget."""
        prompt = "official prompt" if self.prompt is None else repr(_short(self.prompt))
        budget = "default pixels" if self.max_pixels is None else f"max_pixels {self.max_pixels}"
        return f"{self.model} · {prompt} · {budget}"


def _short(text: str, width: int = 48) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


@dataclass(frozen=True)
class EvalGrid:
    """The evaluation asked for: the split ('' = every accepted item) and the grid of setups, plus what
    every cell shares (the smallest pixel budget, the generation limit, the family when a name does not
    tell)."""

    models: tuple[str, ...]
    prompts: tuple[str | None, ...] = (None,)
    max_pixels: tuple[int | None, ...] = (None,)
    split: str = ""
    min_pixels: int | None = None
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    family: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "models", tuple(m.strip() for m in self.models if m and m.strip()))
        prompts = tuple(None if p is None or not str(p).strip() else str(p) for p in self.prompts) or (None,)
        object.__setattr__(self, "prompts", tuple(dict.fromkeys(prompts)))
        budgets = tuple(None if b in (None, 0) else int(b) for b in self.max_pixels) or (None,)
        object.__setattr__(self, "max_pixels", tuple(dict.fromkeys(budgets)))
        object.__setattr__(self, "split", check_split(self.split))
        if not self.models:
            raise WorkbenchError("name at least one model to evaluate")
        if any(b is not None and b < 1 for b in self.max_pixels):
            raise WorkbenchError("pixel budgets must be positive numbers of pixels")
        if self.max_new_tokens < 1:
            raise WorkbenchError("max new tokens must be at least 1")

    def setups(self) -> list[EvalSetup]:
        """Every cell: models × prompts × pixel budgets, in that order."""
        return [EvalSetup(m, p, b) for m in self.models for p in self.prompts for b in self.max_pixels]

    def as_dict(self) -> dict[str, Any]:
        return {"models": list(self.models), "prompts": list(self.prompts), "max_pixels": list(self.max_pixels),
                "split": self.split, "min_pixels": self.min_pixels, "max_new_tokens": self.max_new_tokens,
                "family": self.family}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvalGrid:
        return cls(tuple(data.get("models") or ()), tuple(data.get("prompts") or (None,)),
                   tuple(data.get("max_pixels") or (None,)), str(data.get("split") or ""), data.get("min_pixels"),
                   int(data.get("max_new_tokens") or DEFAULT_MAX_NEW_TOKENS), data.get("family"))


def item_prompt(template: str | None, family: ModelFamily | str, labels: Sequence[str],
                image_ids: Sequence[str]) -> str:
    """The question one item gets: the template with its labels as ``{target}`` (the family's official
    request without a template), plus which picture is which for a multi-image item."""
    target = join_labels(list(labels) or [NEGATIVE_TARGET], family)
    if template is None:
        return grounding_instruction(target, family, image_ids=image_ids)
    text = template.replace(TARGET, target)
    extra = image_key_instruction(image_ids, family)
    return f"{text}\n{extra}" if extra else text


def served_family(model: str, given: str | None, dataset_family: str) -> str:
    """The family a served model's answers are read with: the one given, else the one its name tells, else the
    dataset's (the family set in Review).

    >>> served_family("Qwen/Qwen3-VL-8B-Instruct", "", "qwen2.5-vl"), served_family("my-finetune", None, "qwen2-vl")
    ('qwen3-vl', 'qwen2-vl')
    """
    if given:
        return ModelFamily.from_name(given).name
    from workbench.config import guess_family

    try:
        return guess_family(model).name
    except ValueError:
        return ModelFamily.from_name(dataset_family).name

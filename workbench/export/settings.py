"""What an export is for: the target model family and the pixel limits the TRAINER will use.

Trainers do not rescale boxes (ms-swift excepted), so targets are converted with the limits the
trainer's processor really applies, which the user states here and the manifest records.

>>> settings = ExportSettings.create("qwen2.5-vl", min_pixels=784, max_pixels=50176)
>>> settings.family.name, settings.limits
('qwen2.5-vl', PixelLimits(min_pixels=784, max_pixels=50176))
>>> ExportSettings.create("qwen3-vl").limits.max_pixels == 16384 * 32 * 32
True
>>> ExportSettings.create("qwen2.5-vl", task="referring", question_templates={"referring": "Where is {label}?"}).task
'referring'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from grounding import GeometryError, ModelFamily, PixelLimits
from grounding.trainer_resize import (
    LLAMAFACTORY_IMAGE_MAX_PIXELS,
    LLAMAFACTORY_IMAGE_MIN_PIXELS,
)
from workbench.errors import ExportError, StoreError
from workbench.export.questions import check_templates
from workbench.store import ITEM_STATUSES
from workbench.store.splits import check_split

__all__ = ["ExportSettings"]


@dataclass(frozen=True)
class ExportSettings:
    """Target family, trainer pixel limits and format options (all recorded in the manifest)."""

    family: ModelFamily
    limits: PixelLimits
    statuses: tuple[str, ...] = ("accepted",)
    """Statuses of the items exported: what a person accepted, by default."""
    task: str = "objects"
    """What each question asks: ``objects`` (every labelled object), ``referring`` (one pair per
    object) or ``points`` (see :mod:`workbench.export.questions`)."""
    question_templates: Mapping[str, str] = field(default_factory=dict)
    """Templates per task overriding the family's official phrasing (recorded in the manifest)."""
    negatives: bool = False
    """Keep entries with nothing to answer as explicit negatives (empty answers); by default they are
    skipped and counted."""
    paths: Literal["absolute", "relative"] = "absolute"
    """Image paths for trainers that resolve them against their working directory (ms-swift,
    XComposer2): absolute ones work from anywhere; relative ones need the root stated in the command."""
    image_max_pixels: int = LLAMAFACTORY_IMAGE_MAX_PIXELS
    """LLaMA-Factory's ``image_max_pixels`` (it shrinks larger images before the processor)."""
    image_min_pixels: int = LLAMAFACTORY_IMAGE_MIN_PIXELS
    vlmr1_task: Literal["rec", "ovd"] = "rec"
    transformers_version: str | None = None
    """The trainer's transformers version, when known (qwen-vl-finetune ignores limits with 5.x)."""
    created_at: str | None = None
    """Timestamp written into the manifest; None means now (pass one for reproducible output)."""
    negative_labels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """The labels an explicit negative's question asks for, per kind (``{"box": ("cat", "dog")}``):
    :func:`~workbench.export.dataset.export_dataset` fills it with the labels of what it exports."""
    splits: tuple[str, ...] = ()
    """The splits whose items are exported (``train``, ``val``, ``test``, ``none`` for items in no split);
    empty: every split. Items of several splits are written one folder per split."""
    class_names: tuple[str, ...] = ()
    """The detection formats' classes in id order, when several files must agree (a split export sets it);
    empty: the exported box labels in first-seen order."""

    def __post_init__(self) -> None:
        unknown = set(self.statuses) - set(ITEM_STATUSES)
        if unknown or not self.statuses:
            raise ExportError(f"item statuses to export must be some of {', '.join(ITEM_STATUSES)}; "
                              f"got {', '.join(self.statuses) or 'none'}")
        if self.vlmr1_task not in ("rec", "ovd"):
            raise ExportError(f"vlmr1_task must be 'rec' or 'ovd', got {self.vlmr1_task!r}")
        if self.image_max_pixels <= 0 or self.image_min_pixels <= 0:
            raise ExportError("image_max_pixels and image_min_pixels must be positive")
        if self.paths not in ("absolute", "relative"):
            raise ExportError(f"paths must be 'absolute' or 'relative', got {self.paths!r}")
        try:
            object.__setattr__(self, "splits", tuple(dict.fromkeys(check_split(x) for x in self.splits)))
        except StoreError as exc:
            raise ExportError(str(exc)) from None
        object.__setattr__(self, "class_names", tuple(self.class_names))
        check_templates(self.question_templates, self.family, self.task)
        object.__setattr__(self, "question_templates", MappingProxyType(dict(self.question_templates)))
        object.__setattr__(self, "negative_labels", MappingProxyType({kind: tuple(labels) for kind, labels
                                                                      in self.negative_labels.items()}))

    @classmethod
    def create(cls, family: ModelFamily | str, *, min_pixels: int | None = None, max_pixels: int | None = None,
               **options: object) -> ExportSettings:
        """Settings with missing limits taken from the family's released checkpoints."""
        model_family = ModelFamily.from_name(family)
        defaults = PixelLimits.default_for(model_family)
        try:
            limits = PixelLimits(min_pixels or defaults.min_pixels, max_pixels or defaults.max_pixels)
        except GeometryError as exc:
            raise ExportError(str(exc)) from None
        return cls(model_family, limits, **options)  # type: ignore[arg-type]  # options: the other fields, by name

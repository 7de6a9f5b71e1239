"""What a batch works on: units (one item each) and the settings every unit of a job shares.

A :class:`WorkUnit` is one item of a dataset (or one file of a folder): its key in its source,
its images in order with their IDs, and the prompt text for exactly those images. The
:class:`JobSettings` are what the model is asked with (model, family, pixel limits, generation
limits); together with the unit's prompt they give the *settings key* a sink stores with each
result, so a re-run skips the units already done with the same settings and redoes the rest.

>>> from grounding import PixelLimits
>>> settings = JobSettings(model="m", family="qwen2.5-vl", limits=PixelLimits(3136, 1003520), max_new_tokens=256)
>>> unit = WorkUnit("item-7", ("a.jpg", "b.jpg"), prompt="Find cats.")
>>> unit.image_ids, len(settings.key(unit.prompt))
(('img1', 'img2'), 16)
>>> settings.key("Find cats.") == settings.key("Find dogs.")
False
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from grounding import ModelFamily, PixelLimits
from grounding.prompts import (
    GroundingTask,
    default_image_ids,
    grounding_instruction,
    image_key_instruction,
)
from workbench.backends.base import GroundingRequest, ImageInput, ModelBackend
from workbench.errors import WorkbenchError
from workbench.run_settings import DEFAULT_MAX_NEW_TOKENS, RunSettings

__all__ = ["WorkUnit", "JobSettings", "unit_prompt"]


@dataclass(frozen=True)
class WorkUnit:
    """One item to annotate: ``key`` (unique in its source), images in order, their IDs, the prompt."""

    key: str
    images: tuple[ImageInput, ...]
    image_ids: tuple[str, ...] = ()
    prompt: str = ""

    def __post_init__(self) -> None:
        if not str(self.key):
            raise WorkbenchError("a work unit needs a key")
        if not self.images:
            raise WorkbenchError(f"unit {self.key}: no images")
        object.__setattr__(self, "images", tuple(self.images))
        object.__setattr__(self, "image_ids", tuple(self.image_ids) or tuple(default_image_ids(len(self.images))))

    def request(self, settings: JobSettings) -> GroundingRequest:
        """The model call for this unit with the job's settings (raises BackendError for bad input)."""
        return GroundingRequest(
            images=self.images,
            prompt=self.prompt,
            image_ids=self.image_ids,
            add_vision_id=settings.add_vision_id,
            max_new_tokens=settings.max_new_tokens,
            temperature=settings.temperature,
            limits=settings.limits,
            coordinate_keys=settings.coordinate_keys,
            logprobs=settings.logprobs,
            convention=settings.convention,
        )


@dataclass(frozen=True)
class JobSettings:
    """What every unit of a job is run with; ``key(prompt)`` names them for resuming."""

    model: str
    family: ModelFamily
    limits: PixelLimits
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    temperature: float = 0.0
    add_vision_id: bool | None = None
    coordinate_keys: tuple[str, ...] = ()
    """Extra JSON keys the prompt asks coordinates under (the dataset's, or ``--coordinate-key``)."""
    logprobs: int = 0
    """Token log-probabilities asked for confidence (``GroundingRequest.logprobs``); they do not change the
    answer, so they are not part of :meth:`key`."""
    convention: str | None = None
    """How answers' coordinates are read (the dataset's probe verdict); None: the family's."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "family", ModelFamily.from_name(self.family))
        object.__setattr__(self, "coordinate_keys", tuple(self.coordinate_keys))

    def key(self, prompt: str) -> str:
        """16 hex digits over everything that changes the answer: model, family, limits, generation, prompt."""
        fields = self.as_dict() | {"prompt": prompt}
        digest = hashlib.sha256(json.dumps(fields, sort_keys=True).encode("utf-8")).hexdigest()
        return digest[:16]

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "family": self.family.name,
            "min_pixels": self.limits.min_pixels,
            "max_pixels": self.limits.max_pixels,
            "max_new_tokens": self.max_new_tokens,
            "temperature": self.temperature,
            "add_vision_id": self.add_vision_id,
            **({"coordinate_keys": list(self.coordinate_keys)} if self.coordinate_keys else {}),
            **({"convention": self.convention} if self.convention else {}),
        }

    @classmethod
    def for_backend(cls, backend: ModelBackend, limits: PixelLimits | None = None, **options: Any) -> JobSettings:
        """Settings with the backend's model and family and the limits it will really use.

        Without ``limits``: the backend's own (a server backend's configured limits; a local
        model's checkpoint processor, which loads the model), else the family's defaults.
        """
        family = backend.family()
        if limits is None:
            limits = getattr(backend, "limits", None)
        if limits is None and hasattr(backend, "effective_limits") and hasattr(backend, "load"):
            limits = backend.effective_limits(backend.load())
        return cls(model=backend.model, family=family, limits=limits or PixelLimits.default_for(family), **options)

    @classmethod
    def for_run(cls, backend: ModelBackend, run: RunSettings) -> JobSettings:
        """The resolved form of ``run`` on ``backend``: the reading's limits completed with the backend's family
        (none chosen: the backend's own), its keys and convention, the generation's budget and sampling.

        >>> from workbench.backends.fake import FakeBackend
        >>> from workbench.run_settings import Generation, Reading
        >>> run = RunSettings(reading=Reading(max_pixels=200_000), generation=Generation(max_new_tokens=256))
        >>> settings = JobSettings.for_run(FakeBackend(lambda r, g: "[]"), run)
        >>> settings.limits.max_pixels, settings.max_new_tokens
        (200000, 256)
        """
        reading, generation = run.reading, run.generation
        return cls.for_backend(backend, reading.limits_for(backend.family()), max_new_tokens=generation.max_new_tokens,
                               temperature=generation.temperature, coordinate_keys=reading.coordinate_keys,
                               convention=reading.convention, logprobs=generation.logprobs)

    def replace(self, **changes: Any) -> JobSettings:
        return dataclasses.replace(self, **changes)


def unit_prompt(
    family: ModelFamily | str,
    image_ids: Sequence[str],
    *,
    prompt: str | None = None,
    labels: Sequence[str] = (),
    task: GroundingTask | str = GroundingTask.BOXES,
) -> str:
    """The prompt for one unit: the user's text (plus which picture is which), or the family's
    official request for ``labels`` (comma-joined, as the Qwen3-VL cookbook lists categories).

    >>> unit_prompt("qwen2.5-vl", ["img1"], labels=["cat", "dog"])
    'Locate every cat, dog in the image and output the bbox coordinates in JSON format.'
    >>> print(unit_prompt("qwen3-vl", ["a", "b"], prompt="Find the logos."))
    Find the logos.
    There are 2 images: Picture 1 is a, Picture 2 is b. Add an "image" key to every object with the number of the picture it is in (1 to 2).
    """
    cleaned = [label.strip() for label in labels if label.strip()]
    if (prompt is None or not prompt.strip()) == (not cleaned):
        raise WorkbenchError("give either a prompt or labels (not both, not neither)")
    if prompt is not None and prompt.strip():
        extra = image_key_instruction(image_ids, family)
        return prompt if not extra else f"{prompt}\n{extra}"
    try:
        return grounding_instruction(", ".join(cleaned), family, task=task, image_ids=image_ids)
    except ValueError as exc:
        raise WorkbenchError(str(exc)) from None

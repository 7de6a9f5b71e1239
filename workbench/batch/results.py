"""What a batch gives back per unit: detections per image in original pixels with their
provenance, or the reason the unit failed.

Both engines (threads, Ray) hand a backend's :class:`~workbench.backends.RawOutput` to
:func:`unit_result`, which parses it with the geometry of that very call
(:func:`workbench.runs.pipeline.parse_output`, i.e. :func:`grounding.parse.parse_grounding`), so a
result does not depend on which engine produced it.

>>> from grounding import PixelLimits, process_size
>>> from workbench.backends import RawOutput
>>> from workbench.batch.units import JobSettings, WorkUnit
>>> settings = JobSettings("m", "qwen2.5-vl", PixelLimits(3136, 1003520))
>>> unit = WorkUnit("a", ("a.png",), prompt="Find cats.")
>>> output = RawOutput('[{"bbox_2d": [322, 238, 644, 476], "label": "cat"}]',
...                    (process_size((640, 480), "qwen2.5-vl", settings.limits),), "m")
>>> result = unit_result(unit, settings, output)
>>> result.images[0].detections[0].original, result.settings_key == settings.key("Find cats.")
((320.0, 240.0, 640.0, 480.0), True)
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from grounding import PixelLimits, ProcessedImage
from grounding.confidence import box_signals
from grounding.parse import EMPTY_ANSWER_NOTE, Detection
from workbench.backends.base import RawOutput
from workbench.batch.units import JobSettings, WorkUnit
from workbench.runs.pipeline import parse_output

__all__ = ["Timings", "ImageResult", "UnitResult", "UnitError", "FailureStage", "unit_result", "image_name"]

FailureStage = Literal["input", "backend", "model", "parse", "internal"]
"""Where a unit failed: its input, the backend (a server's refusal, a local model's error), the model's answer,
the parse, or a bug (``internal``)."""


@dataclass(frozen=True)
class Timings:
    """Seconds: waiting for a worker, the whole model call, inside generation (server answer), parsing."""

    queued_s: float = 0.0
    request_s: float = 0.0
    generate_s: float = 0.0
    parse_s: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {k: round(v, 4) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class ImageResult:
    """One image of the unit: its ID, where it came from, the geometry used, its detections."""

    image_id: str
    source: str
    geometry: ProcessedImage
    detections: tuple[Detection, ...]
    signals: tuple[dict[str, Any], ...] = ()
    """Each detection's confidence signals (:func:`grounding.confidence.box_signals`), in the same order."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "image_id": self.image_id,
            "source": self.source,
            **self.geometry.as_dict(),
            "detections": [d.as_dict() for d in self.detections],
            **({"signals": list(self.signals)} if self.signals else {}),
        }


@dataclass(frozen=True)
class UnitResult:
    """A unit annotated: detections per image, the raw text, and the provenance of the call."""

    unit_key: str
    settings_key: str
    model: str
    family: str
    limits: PixelLimits
    prompt: str
    text: str
    finish_reason: str
    images: tuple[ImageResult, ...]
    warnings: tuple[str, ...] = ()
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    timings: Timings = field(default_factory=Timings)
    finished_at: float = 0.0
    """Unix time the answer was parsed."""

    @property
    def detection_count(self) -> int:
        return sum(len(image.detections) for image in self.images)

    def as_dict(self) -> dict[str, Any]:
        return {
            "unit_key": self.unit_key,
            "settings_key": self.settings_key,
            "model": self.model,
            "family": self.family,
            "limits": {"min_pixels": self.limits.min_pixels, "max_pixels": self.limits.max_pixels},
            "prompt": self.prompt,
            "text": self.text,
            "finish_reason": self.finish_reason,
            "images": [image.as_dict() for image in self.images],
            "warnings": list(self.warnings),
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "timings": self.timings.as_dict(),
            "finished_at": round(self.finished_at, 3),
        }


@dataclass(frozen=True)
class UnitError:
    """Why a unit failed: ``input`` (an image cannot be read), ``backend`` (a server refused or the local model
    failed), ``model``, ``parse`` or ``internal`` (a bug: please report it with the message)."""

    settings_key: str
    message: str
    stage: FailureStage = "model"

    def as_dict(self) -> dict[str, str]:
        return {"settings_key": self.settings_key, "message": self.message, "stage": self.stage}


def image_name(image: object, image_id: str) -> str:
    """A printable source for an image input: the path, else its ID."""
    return os.fspath(image) if isinstance(image, (str, os.PathLike)) else image_id


def unit_result(unit: WorkUnit, settings: JobSettings, output: RawOutput, timings: Timings | None = None) -> UnitResult:
    """Parse ``output`` with its own geometry and group the detections by image."""
    started = time.perf_counter()
    run = parse_output(unit.request(settings), output)
    signals = box_signals(output.text, run.detections, output.images, tokens=output.token_logprobs,
                          finish_reason=output.finish_reason)
    parse_s = time.perf_counter() - started
    per_image: list[list[Detection]] = [[] for _ in unit.images]
    per_image_signals: list[list[dict[str, Any]]] = [[] for _ in unit.images]
    for detection, found in zip(run.detections, signals):
        per_image[min(max(detection.image, 1), len(per_image)) - 1].append(detection)
        per_image_signals[min(max(detection.image, 1), len(per_image)) - 1].append(found)
    timings = timings or Timings(request_s=output.total_s, generate_s=output.generate_s)
    return UnitResult(
        unit_key=unit.key,
        settings_key=settings.key(unit.prompt),
        model=output.model,
        family=output.family.name,
        limits=output.limits or settings.limits,
        prompt=unit.prompt,
        text=output.text,
        finish_reason=output.finish_reason,
        images=tuple(
            ImageResult(image_id, image_name(image, image_id), geometry, tuple(found), tuple(said))
            for image_id, image, geometry, found, said in zip(unit.image_ids, unit.images, output.images, per_image,
                                                                per_image_signals)
        ),
        warnings=(*run.warnings, EMPTY_ANSWER_NOTE) if run.empty else run.warnings,
        prompt_tokens=output.prompt_tokens,
        completion_tokens=output.completion_tokens,
        timings=Timings(timings.queued_s, timings.request_s, timings.generate_s, parse_s),
        finished_at=time.time(),
    )

"""What every model backend takes and gives back, and the Protocol they share.

A backend turns a :class:`GroundingRequest` (images in the user's order, the prompt text,
generation settings) into a :class:`RawOutput`: the model's raw text plus the geometry each
image really had (:class:`grounding.ProcessedImage`), which is what parsing needs to bring
coordinates back to original pixels. ``stream`` yields :class:`TextDelta` pieces as they come
and ends with the :class:`RawOutput`; ``generate`` is the same without the pieces.

>>> from grounding import process_size
>>> output = RawOutput(text="[]", images=(process_size((640, 480), "qwen2.5-vl"),), model="m",
...                    finish_reason="length", max_new_tokens=8)
>>> output.truncated, output.warnings[0]
(True, 'output cut at max_new_tokens=8: the last objects may be missing or broken; raise max new tokens')
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol, Union, runtime_checkable

from PIL import Image

from grounding import ModelFamily, PixelLimits, ProcessedImage
from grounding.prompts import default_image_ids, picture_numbers
from workbench.errors import BackendError

__all__ = [
    "ImageInput",
    "GroundingRequest",
    "TextDelta",
    "RawOutput",
    "StreamEvent",
    "ModelBackend",
    "StreamingBackend",
    "collect",
]

ImageInput = Union[str, os.PathLike, bytes, Image.Image]
"""A file path, encoded image bytes, or a PIL image (already upright)."""


@dataclass(frozen=True)
class GroundingRequest:
    """One model call: images in the user's order, the prompt text, and settings for this call.

    ``image_ids`` default to ``img1`` ... ``imgN``; ``add_vision_id`` (``Picture N:`` before each
    image) defaults to on when there are several images.
    """

    images: tuple[ImageInput, ...]
    prompt: str
    image_ids: tuple[str, ...] = ()
    add_vision_id: bool | None = None
    max_new_tokens: int = 1024
    temperature: float = 0.0
    limits: PixelLimits | None = None
    """Pixel limits for this call (e.g. the user's preset); None: the backend's own."""

    def __post_init__(self) -> None:
        if not self.images:
            raise BackendError("give at least one image")
        if not self.prompt.strip():
            raise BackendError("the prompt is empty")
        if self.max_new_tokens < 1:
            raise BackendError(f"max new tokens must be at least 1, got {self.max_new_tokens}")
        ids = self.image_ids or tuple(default_image_ids(len(self.images)))
        if len(ids) != len(self.images):
            raise BackendError(f"{len(self.images)} images but {len(ids)} image IDs")
        try:
            picture_numbers(ids)
        except ValueError as exc:
            raise BackendError(str(exc)) from None
        object.__setattr__(self, "images", tuple(self.images))
        object.__setattr__(self, "image_ids", tuple(ids))

    @property
    def vision_ids(self) -> bool:
        """Whether ``Picture N:`` goes before each image."""
        return len(self.images) > 1 if self.add_vision_id is None else self.add_vision_id

    def image_names(self) -> list[str]:
        """A printable name per image (the file name, or its ID)."""
        return [
            os.fspath(image) if isinstance(image, (str, os.PathLike)) else image_id
            for image, image_id in zip(self.images, self.image_ids)
        ]


@dataclass(frozen=True)
class TextDelta:
    """A piece of generated text, in order."""

    text: str


@dataclass(frozen=True)
class RawOutput:
    """The model's answer before parsing, with the geometry each image had in this call."""

    text: str
    images: tuple[ProcessedImage, ...]
    model: str
    finish_reason: str = "stop"
    """``stop`` (the model ended) or ``length`` (cut at ``max_new_tokens``)."""
    max_new_tokens: int | None = None
    limits: PixelLimits | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_s: float = 0.0
    generate_s: float = 0.0
    """Seconds inside the model's ``generate`` (or waiting for the server's answer)."""
    notes: tuple[str, ...] = field(default=())

    @property
    def family(self) -> ModelFamily:
        return self.images[0].family

    @property
    def truncated(self) -> bool:
        return self.finish_reason == "length"

    @property
    def warnings(self) -> tuple[str, ...]:
        cut = ()
        if self.truncated:
            limit = f"max_new_tokens={self.max_new_tokens}" if self.max_new_tokens else "the token limit"
            cut = (f"output cut at {limit}: the last objects may be missing or broken; raise max new tokens",)
        return cut + self.notes


StreamEvent = Union[TextDelta, RawOutput]


@runtime_checkable
class ModelBackend(Protocol):
    """Anything that can answer a grounding request (local transformers, an OpenAI-compatible server, a fake)."""

    @property
    def model(self) -> str: ...

    def family(self) -> ModelFamily:
        """The model family (may load the model's config)."""
        ...

    def stream(self, request: GroundingRequest) -> Iterator[StreamEvent]:
        """Text pieces as generated, then exactly one :class:`RawOutput`."""
        ...

    def generate(self, request: GroundingRequest, on_text: Callable[[str], None] | None = None) -> RawOutput:
        """The whole answer; ``on_text`` sees each piece as it comes."""
        ...


def collect(events: Iterator[StreamEvent], on_text: Callable[[str], None] | None = None) -> RawOutput:
    """Drain a stream: pass each piece to ``on_text``, return the final :class:`RawOutput`."""
    for event in events:
        if isinstance(event, RawOutput):
            return event
        if on_text is not None:
            on_text(event.text)
    raise BackendError("the backend ended without an answer")


class StreamingBackend:
    """Mixin: ``generate`` from ``stream``."""

    def stream(self, request: GroundingRequest) -> Iterator[StreamEvent]:  # pragma: no cover - abstract
        raise NotImplementedError

    def generate(self, request: GroundingRequest, on_text: Callable[[str], None] | None = None) -> RawOutput:
        return collect(self.stream(request), on_text)


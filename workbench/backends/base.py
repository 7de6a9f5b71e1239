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

import copy
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol, runtime_checkable

from PIL import Image

from grounding import CoordinateConvention, GroundingError, ModelFamily, PixelLimits, ProcessedImage
from grounding.confidence.tokens import TokenLogprob
from grounding.parse import coordinate_keys
from grounding.prompts import ImageNaming, default_image_ids, picture_numbers
from workbench.errors import BackendError
from workbench.run_settings import DEFAULT_MAX_NEW_TOKENS

__all__ = [
    "DEFAULT_TOP_LOGPROBS",
    "ImageInput",
    "MAX_TOP_LOGPROBS",
    "GroundingRequest",
    "check_history",
    "history_image_ids",
    "TextDelta",
    "RawOutput",
    "StreamEvent",
    "ModelBackend",
    "StreamingBackend",
    "THINKING_TOKENS",
    "Thinking",
    "collect",
]

ImageInput = str | os.PathLike | bytes | Image.Image
"""A file path, encoded image bytes, or a PIL image (already upright)."""

MAX_TOP_LOGPROBS = 20
"""Most alternatives asked per token (OpenAI's limit; vLLM's default ``max_logprobs``)."""
DEFAULT_TOP_LOGPROBS = 5
"""Alternatives per token asked for confidence (enough for the digits' expected error)."""
THINKING_TOKENS = 4096
"""New tokens allowed for reasoning, on top of the answer's ``max_new_tokens``, when a model thinks first
(Qwen3.5 with thinking on, Qwen3-VL Thinking): its reasoning before a grounding answer often runs to thousands
of tokens."""


class Thinking(str, Enum):
    """Whether the model reasoned before answering in a call, as far as the backend knows."""

    OFF = "off"
    """The chat template's ``enable_thinking`` was set to false (locally: its rendered prompt closes ``<think>``)."""
    ON = "on"
    """The model reasons first: thinking was asked for, or its chat template always opens ``<think>``."""
    NONE = "none"
    """The model does not think (no switch, and its chat template opens no ``<think>``)."""

    def note(self, budget: int | None = None) -> str:
        """What a page says about it ('' when the model does not think).

        >>> Thinking.OFF.note()
        "Thinking off (the chat template's enable_thinking=false): the model answers directly."
        """
        if self is Thinking.OFF:
            return "Thinking off (the chat template's enable_thinking=false): the model answers directly."
        if self is Thinking.ON:
            extra = f" (token budget {budget}, reasoning included)" if budget else ""
            return f"Thinking on: the model reasons before answering{extra}; its reasoning is kept, folded."
        return ""


@dataclass(frozen=True)
class GroundingRequest:
    """One model call: images in the user's order, the prompt text, and settings for this call.

    ``image_ids`` default to ``img1`` ... ``imgN``. ``naming`` says how images are named in the
    prompt (:class:`grounding.prompts.ImageNaming`); by default ``Picture N:`` before each image
    (the chat template's ``add_vision_id``) when there are several, as ``add_vision_id`` says
    when it is set. ``history`` holds earlier turns of the conversation (see
    :func:`check_history`); the new user turn holds the images the history does not show.
    """

    images: tuple[ImageInput, ...]
    prompt: str
    image_ids: tuple[str, ...] = ()
    add_vision_id: bool | None = None
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    temperature: float = 0.0
    limits: PixelLimits | None = None
    """Pixel limits for this call (e.g. the user's preset); None: the backend's own."""
    naming: ImageNaming | str | None = None
    coordinate_keys: tuple[str, ...] = ()
    """Extra JSON keys the prompt asked coordinates under (``"position"``), read besides the usual ones."""
    history: tuple[dict, ...] = ()
    """Earlier messages (``user``/``assistant``, an optional first ``system``) as plain chat dicts;
    image parts are ``{"type": "image", "image_id": ID}`` placeholders for images of this request."""
    logprobs: int = 0
    """Token log-probabilities for per-box confidence: 0 none; N > 0 each token's log-probability and the
    N most likely tokens at its step (``RawOutput.token_logprobs``; a server that does not return them
    gives None)."""
    convention: str | None = None
    """How to read the answer's coordinates (a :class:`grounding.CoordinateConvention` value, e.g. a probe's
    verdict saved with the dataset); None: the family's own."""
    thinking: bool = False
    """Let the model reason before answering where its chat template has the switch (``enable_thinking``);
    off by default: grounding answers need no reasoning, and Qwen3.5 thinks unless told not to."""
    thinking_tokens: int = THINKING_TOKENS
    """New tokens added to ``max_new_tokens`` when the model reasons first (see :meth:`token_budget`)."""

    def token_budget(self, thinks: bool) -> int:
        """New tokens for this call: ``max_new_tokens`` for the answer, plus ``thinking_tokens`` when the model
        reasons first (its reasoning would otherwise eat the answer's budget).

        >>> request = GroundingRequest(images=(b"",), prompt="Find the cat.", max_new_tokens=512)
        >>> request.token_budget(False), request.token_budget(True)
        (512, 4608)
        """
        return self.max_new_tokens + (self.thinking_tokens if thinks else 0)

    def __post_init__(self) -> None:
        if not self.images:
            raise BackendError("give at least one image")
        if not self.prompt.strip():
            raise BackendError("the prompt is empty")
        if self.max_new_tokens < 1:
            raise BackendError(f"max new tokens must be at least 1, got {self.max_new_tokens}")
        if not 0 <= self.logprobs <= MAX_TOP_LOGPROBS:
            raise BackendError(f"logprobs must be between 0 and {MAX_TOP_LOGPROBS}, got {self.logprobs}")
        if self.thinking_tokens < 0:
            raise BackendError(f"thinking tokens must not be negative, got {self.thinking_tokens}")
        ids = self.image_ids or tuple(default_image_ids(len(self.images)))
        if len(ids) != len(self.images):
            raise BackendError(f"{len(self.images)} images but {len(ids)} image IDs")
        try:
            picture_numbers(ids)
        except ValueError as exc:
            raise BackendError(str(exc)) from None
        object.__setattr__(self, "images", tuple(self.images))
        object.__setattr__(self, "image_ids", tuple(ids))
        if self.naming is not None:
            try:
                naming = ImageNaming(self.naming)
            except ValueError:
                known = ", ".join(n.value for n in ImageNaming)
                raise BackendError(f"unknown image naming {self.naming!r}; expected one of {known}") from None
            if self.add_vision_id is not None and self.add_vision_id != (naming is ImageNaming.PICTURE):
                raise BackendError(f"add_vision_id={self.add_vision_id} contradicts image naming {naming.value!r}")
            object.__setattr__(self, "naming", naming)
        object.__setattr__(self, "history", check_history(self.history, ids))
        try:
            object.__setattr__(self, "coordinate_keys", coordinate_keys(self.coordinate_keys))
        except GroundingError as exc:
            raise BackendError(str(exc)) from None
        if self.convention:
            try:
                CoordinateConvention(self.convention)
            except ValueError:
                known = ", ".join(c.value for c in CoordinateConvention)
                raise BackendError(f"unknown coordinate convention {self.convention!r}; expected one of {known}") from None

    @property
    def image_naming(self) -> ImageNaming:
        """How images are named in the prompt (the default resolved)."""
        if self.naming is not None:
            return ImageNaming(self.naming)
        several = len(self.images) > 1
        return ImageNaming.PICTURE if (several if self.add_vision_id is None else self.add_vision_id) else ImageNaming.NONE

    @property
    def vision_ids(self) -> bool:
        """Whether ``Picture N:`` goes before each image."""
        return self.image_naming is ImageNaming.PICTURE

    @property
    def new_image_ids(self) -> tuple[str, ...]:
        """IDs of the images of the new user turn: those the history does not show."""
        shown = set(history_image_ids(self.history))
        return tuple(image_id for image_id in self.image_ids if image_id not in shown)

    def image_names(self) -> list[str]:
        """A printable name per image (the file name, or its ID)."""
        return [
            os.fspath(image) if isinstance(image, (str, os.PathLike)) else image_id
            for image, image_id in zip(self.images, self.image_ids)
        ]


_ROLES = ("system", "user", "assistant")


def history_image_ids(history: tuple[dict, ...] | list[dict]) -> list[str]:
    """Image IDs of the placeholders in ``history``, in order of appearance."""
    return [
        str(part.get("image_id"))
        for message in history
        if isinstance(message.get("content"), list)
        for part in message["content"]
        if isinstance(part, dict) and part.get("type") == "image"
    ]


def check_history(history: tuple[dict, ...] | list[dict], image_ids: tuple[str, ...]) -> tuple[dict, ...]:
    """Validated deep copy of earlier chat messages.

    Roles are ``user``/``assistant`` (``system`` first only); content is a string or a list of
    ``{"type": "text", "text"}`` / ``{"type": "image", "image_id"}`` parts. The history shows
    the first images of the request, in order, each once: the images reach the processor in the
    order they appear in the conversation, which must be the request's order.
    """
    messages = copy.deepcopy(tuple(history))
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in _ROLES:
            raise BackendError(f"history message {index + 1} needs a role among {', '.join(_ROLES)}")
        if message["role"] == "system" and index != 0:
            raise BackendError("a system message can only come first in the history")
        content = message.get("content")
        if isinstance(content, str):
            continue
        if not isinstance(content, list):
            raise BackendError(f"history message {index + 1}: content must be text or a list of parts")
        for part in content:
            kind = part.get("type") if isinstance(part, dict) else None
            if kind == "text" and isinstance(part.get("text"), str):
                continue
            if kind != "image" or "image_id" not in part:
                raise BackendError(f"history message {index + 1}: parts are {{type: text, text}} or {{type: image, image_id}}")
    shown = history_image_ids(messages)
    if shown != list(image_ids[: len(shown)]):
        raise BackendError(
            f"the history shows images {shown}, but they must be the request's first images in order "
            f"({list(image_ids[: len(shown)])})"
        )
    return messages


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
    token_logprobs: tuple[TokenLogprob, ...] | None = None
    """Each generated token with its log-probability and the most likely ones at its step, when the request
    asked for them and the backend gave them (:mod:`grounding.confidence.tokens`); None otherwise."""
    thinking: Thinking = Thinking.NONE
    """Whether the model reasoned first in this call (see :class:`Thinking`)."""

    @property
    def family(self) -> ModelFamily:
        return self.images[0].family

    @property
    def truncated(self) -> bool:
        return self.finish_reason == "length"

    @property
    def warnings(self) -> tuple[str, ...]:
        cut: tuple[str, ...] = ()
        if self.truncated:
            limit = f"max_new_tokens={self.max_new_tokens}" if self.max_new_tokens else "the token limit"
            if self.thinking is Thinking.ON and "</think>" not in self.text:
                cut = (f"output cut at {limit} while the model was still reasoning (no answer yet): raise max new "
                       "tokens or turn thinking off",)
            else:
                cut = (f"output cut at {limit}: the last objects may be missing or broken; raise max new tokens",)
        return cut + self.notes


StreamEvent = TextDelta | RawOutput


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


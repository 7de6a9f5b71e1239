"""Model backends: run Qwen-VL grounding locally with transformers or against an OpenAI-compatible server.

>>> backend = create_backend("openai", model="qwen2.5-vl-7b-instruct", base_url="http://127.0.0.1:8000/v1")
>>> type(backend).__name__, backend.family().name
('OpenAICompatibleBackend', 'qwen2.5-vl')
>>> isinstance(backend, ModelBackend)
True
"""

from __future__ import annotations

from typing import Any, Literal

from workbench.backends.base import (
    GroundingRequest,
    ModelBackend,
    RawOutput,
    StreamEvent,
    TextDelta,
    Thinking,
    collect,
)
from workbench.backends.fake import FakeBackend
from workbench.backends.local import LocalTransformersBackend
from workbench.backends.openai_compat import LIMITS_STYLES, OpenAICompatibleBackend
from workbench.config import DEFAULT_MODEL, default_model, guess_family
from workbench.errors import BackendError

__all__ = [
    "BACKEND_KINDS",
    "DEFAULT_MODEL",
    "LIMITS_STYLES",
    "FakeBackend",
    "GroundingRequest",
    "LocalTransformersBackend",
    "ModelBackend",
    "OpenAICompatibleBackend",
    "RawOutput",
    "StreamEvent",
    "TextDelta",
    "Thinking",
    "collect",
    "create_backend",
    "default_model",
    "guess_family",
]

BackendKind = Literal["local", "openai"]
BACKEND_KINDS: tuple[str, ...] = ("local", "openai")


def create_backend(kind: BackendKind | str, **options: Any) -> ModelBackend:
    """``local`` -> :class:`LocalTransformersBackend`, ``openai`` -> :class:`OpenAICompatibleBackend`.

    Options the chosen backend does not take are refused, so a typo is not silently ignored.
    """
    classes = {"local": LocalTransformersBackend, "openai": OpenAICompatibleBackend}
    if kind not in classes:
        raise BackendError(f"unknown backend {kind!r}; expected one of {', '.join(BACKEND_KINDS)}")
    try:
        return classes[kind](**options)
    except TypeError as exc:
        raise BackendError(f"{kind} backend: {exc}") from None

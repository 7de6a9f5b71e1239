"""The exact prompt a model gets for a request, to show before (or beside) a run.

For the local backend that is the chat template's rendered text (what the processor gets; it
expands each ``<|image_pad|>`` to the image's visual tokens). For a server it is the request
body: the messages JSON with its images as data URLs, and the pixel-limit fields. Data URLs are
shortened for display unless asked otherwise (``elide_images=False`` gives the exact bytes).

>>> from workbench.backends import FakeBackend
>>> request = GroundingRequest(images=(b"x", b"y"), prompt="Find cats.", image_ids=("a", "b"), naming="ids")
>>> view = exact_prompt(FakeBackend(lambda r, g: ""), request)
>>> view["format"], [p.get("text", p.get("image_id")) for p in view["messages"][0]["content"]]
('messages', ['a: ', 'a', 'b: ', 'b', 'Find cats.'])
>>> elide_data_url("data:image/png;base64," + "A" * 400)
'data:image/png;base64,… (300 bytes)'
"""

from __future__ import annotations

import copy
import json
from typing import Any

from workbench.backends.base import GroundingRequest, ModelBackend

__all__ = ["exact_prompt", "elide_data_url"]


def elide_data_url(url: str) -> str:
    """``data:<mime>;base64,… (N bytes)`` for a data URL; other URLs unchanged."""
    if not url.startswith("data:") or "," not in url:
        return url
    head, payload = url.split(",", 1)
    size = len(payload) * 3 // 4 - payload[-2:].count("=")
    return f"{head},… ({size} bytes)"


def _elide(messages: list[dict]) -> list[dict]:
    messages = copy.deepcopy(messages)
    for message in messages:
        content = message.get("content")
        for part in content if isinstance(content, list) else ():
            if part.get("type") == "image_url":
                part["image_url"]["url"] = elide_data_url(part["image_url"]["url"])
    return messages


def exact_prompt(backend: ModelBackend, request: GroundingRequest, *, elide_images: bool = True) -> dict[str, Any]:
    """``{"backend", "model", "naming", "format", "text", "messages", "body"}``, JSON-ready.

    ``format`` is ``chat-template`` (``text`` is the rendered prompt; the local model is loaded
    for its processor) or ``messages`` (``messages`` as sent; ``body`` the whole request for a server).
    """
    view: dict[str, Any] = {
        "backend": type(backend).__name__,
        "model": backend.model,
        "naming": request.image_naming.value,
        "format": "messages",
        "text": None,
        "messages": None,
        "body": None,
    }
    if hasattr(backend, "chat_text"):
        view["format"] = "chat-template"
        view["text"] = backend.chat_text(request)
        return view
    if hasattr(backend, "request_body"):
        body = backend.request_body(request)
        if elide_images:
            body["messages"] = _elide(body["messages"])
        view["messages"] = body["messages"]
        view["body"] = json.loads(json.dumps(body))
        return view
    view["messages"] = backend.messages(request) if hasattr(backend, "messages") else None
    return view

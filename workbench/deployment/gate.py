"""Model requests within their bounds and in fair turns: the gate in front of every backend the app serves.

A :class:`GatedBackend` checks each request against the deployment's
:class:`~workbench.deployment.ResourceLimits` before any work (image count, prompt length,
``max_new_tokens``, pixel limits), waits its turn at a :class:`FairGate`, and stops the
request when it runs past its time. The gate serves waiting requests in arrival order, lets
``capacity`` run at once (1 for the local model, which owns the accelerator; a few per server)
and holds at most one request per visitor, so one visitor (or one slow server) delays others
by at most one request each, never by a queue of their own.

Visitors are told apart by a key (the signed-in user, else the browser session, else the client's
address for raw API calls; :mod:`ui.visitors`): :data:`visitor`, a context variable the web layer sets
around an API call, else what the backend's ``who`` looks up (the page's own events).

>>> from workbench.backends import FakeBackend, GroundingRequest
>>> from workbench.deployment import ResourceLimits
>>> gated = GatedBackend(FakeBackend(lambda r, g: "[]"), FairGate(1), ResourceLimits(max_new_tokens=64))
>>> gated.generate(GroundingRequest(images=(b"png",), prompt="find", max_new_tokens=65))
Traceback (most recent call last):
...
workbench.errors.BackendError: max new tokens is at most 64 here, got 65
"""

from __future__ import annotations

import contextvars
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from workbench.backends.base import GroundingRequest, RawOutput, StreamEvent, collect
from workbench.backends.deadline import POLL_S, interrupt
from workbench.deployment import ResourceLimits
from workbench.errors import BackendError
from workbench.files import ImageLimitError, check_image_file

__all__ = ["FairGate", "GatedBackend", "check_request", "visitor"]

visitor: contextvars.ContextVar[str | None] = contextvars.ContextVar("workbench_visitor", default=None)
"""Who is asking (a visitor key); None when unknown (the CLI, tests): then only the order is fair."""


def check_request(request: GroundingRequest, limits: ResourceLimits) -> None:
    """Raise :class:`BackendError` in words when a request asks for more than the limits allow."""
    if limits.images_per_request and len(request.images) > limits.images_per_request:
        raise BackendError(f"at most {limits.images_per_request} images per request here, got {len(request.images)}")
    if limits.prompt_chars and len(request.prompt) > limits.prompt_chars:
        raise BackendError(f"the prompt is at most {limits.prompt_chars} characters here, got {len(request.prompt)}")
    if limits.max_new_tokens and request.max_new_tokens > limits.max_new_tokens:
        raise BackendError(f"max new tokens is at most {limits.max_new_tokens} here, got {request.max_new_tokens}")
    if request.limits is not None and limits.max_pixels:
        for name in ("min_pixels", "max_pixels"):
            value = getattr(request.limits, name)
            if value > limits.max_pixels:
                raise BackendError(f"{name} is at most {limits.max_pixels} here, got {value}")
    for image in request.images:  # header only: nothing is decoded before every image is known to fit
        if isinstance(image, (str, os.PathLike)):
            try:
                check_image_file(image, limits)
            except ImageLimitError as exc:
                raise BackendError(str(exc)) from None


class FairGate:
    """``capacity`` requests at a time, served in arrival order, one per visitor.

    >>> gate = FairGate(1)
    >>> with gate.turn("a", wait_s=1):
    ...     gate.running
    1
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = max(1, int(capacity))
        self._cond = threading.Condition()
        self._queue: deque[object] = deque()
        self._visitors: set[str] = set()
        self.running = 0

    @contextmanager
    def turn(self, who: str | None, wait_s: float) -> Iterator[None]:
        ticket = object()
        with self._cond:
            if who is not None and who in self._visitors:
                raise BackendError("you already have a model request running or waiting: wait for it to finish")
            if who is not None:
                self._visitors.add(who)
            self._queue.append(ticket)
            deadline = time.monotonic() + wait_s
            cancel = interrupt.get()
            try:
                while not (self._queue[0] is ticket and self.running < self.capacity):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise BackendError(f"the model is busy with other requests (waited {wait_s:g} s); "
                                           "try again in a minute")
                    if cancel is not None and cancel.is_set():
                        raise BackendError("cancelled while waiting for the model")
                    self._cond.wait(min(left, POLL_S) if cancel is not None else left)
            except BaseException:
                self._queue.remove(ticket)
                if who is not None:
                    self._visitors.discard(who)
                self._cond.notify_all()
                raise
            self._queue.popleft()
            self.running += 1
            self._cond.notify_all()
        try:
            yield
        finally:
            with self._cond:
                self.running -= 1
                if who is not None:
                    self._visitors.discard(who)
                self._cond.notify_all()


class GatedBackend:
    """A backend behind the limits and a :class:`FairGate`; everything else is the backend's own."""

    def __init__(self, backend: Any, gate: FairGate, limits: ResourceLimits,
                 clock: Callable[[], float] = time.monotonic, who: Callable[[], str | None] = visitor.get) -> None:
        self.backend = backend
        self.gate = gate
        self.resource_limits = limits
        self._clock = clock
        self._who = who
        """Who is asking now (the visitor's key: signed-in user, browser session or client address)."""

    def __getattr__(self, name: str) -> Any:  # model, family, load, limits_for...: the backend's
        return getattr(self.backend, name)

    @property
    def model(self) -> str:
        return self.backend.model

    def family(self) -> Any:
        return self.backend.family()

    def stream(self, request: GroundingRequest) -> Iterator[StreamEvent]:
        check_request(request, self.resource_limits)
        seconds = self.resource_limits.request_s or None
        with self.gate.turn(self._who(), wait_s=float(seconds or 3600)):
            deadline = self._clock() + seconds if seconds else None
            events = self.backend.stream(request)
            try:
                for event in events:
                    if deadline is not None and not isinstance(event, RawOutput) and self._clock() > deadline:
                        raise BackendError(f"the model request ran past {seconds} s and was stopped; ask for "
                                           "fewer new tokens or smaller images")
                    yield event
            finally:
                close = getattr(events, "close", None)
                if close is not None:
                    close()

    def generate(self, request: GroundingRequest, on_text: Callable[[str], None] | None = None) -> RawOutput:
        return collect(self.stream(request), on_text)

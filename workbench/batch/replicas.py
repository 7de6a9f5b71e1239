"""Several OpenAI-compatible servers (vLLM replicas) as one backend, spread by load.

:class:`ReplicaPool` wraps one :class:`~workbench.backends.OpenAICompatibleBackend` per base URL
(each keeps its own HTTP connection pool) and sends every request to the replica with the
fewest requests outstanding, ties going to the one used least recently.

- A replica that cannot be reached or times out is set aside for ``cooldown_s`` (doubling
  on each failure in a row, up to ``max_cooldown_s``) and the request goes to another one;
  after the cool-down it gets requests again, and one success brings it fully back.
- A 5xx or 429 answer is tried once more on another replica (``attempts`` in all); any other
  refusal (4xx: a bad request) is the request's own failure and is raised at once.
- When every replica is set aside, a request waits for the first to come back, at most
  ``wait_s``; then it raises :class:`ServersUnavailable`, which stops a batch instead of
  marking every remaining item failed.

Errors are classified by the openai/httpx exception the backend's :class:`BackendError`
was raised from (``__context__``), so the wrapped backend is used unchanged.

>>> pool = ReplicaPool.from_urls(["http://127.0.0.1:8001/v1", "http://127.0.0.1:8002/v1"],
...                              model="Qwen/Qwen2.5-VL-7B-Instruct", limits_style="vllm")
>>> pool.family().name, [r.url for r in pool.replicas]
('qwen2.5-vl', ['http://127.0.0.1:8001/v1', 'http://127.0.0.1:8002/v1'])
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from grounding import ModelFamily, PixelLimits, ProcessedImage
from workbench.backends.base import (
    GroundingRequest,
    RawOutput,
    StreamEvent,
    TextDelta,
    collect,
)
from workbench.backends.openai_compat import OpenAICompatibleBackend
from workbench.errors import BackendError

__all__ = ["ReplicaPool", "Replica", "PreparedCall", "ServersUnavailable", "failure_kind"]

FailureKind = Literal["unreachable", "busy", "refused"]


class ServersUnavailable(BackendError):
    """No replica could be reached for longer than the pool waits: the batch stops (and resumes later)."""


def failure_kind(exc: BaseException) -> FailureKind:
    """``unreachable`` (connection refused/reset, timeout: set the replica aside), ``busy`` (5xx, 429:
    try elsewhere) or ``refused`` (the request itself is wrong).

    >>> failure_kind(BackendError("no such file"))
    'refused'
    """
    import openai

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (openai.APIConnectionError, *_transport_errors())):
            return "unreachable"
        if isinstance(current, openai.APIStatusError):
            return "busy" if current.status_code >= 500 or current.status_code in (408, 429) else "refused"
        current = current.__cause__ or current.__context__
    return "refused"


def _transport_errors() -> tuple[type[BaseException], ...]:
    """Connection-level errors of the HTTP libraries the openai client may use (``httpx``, its fork ``httpx2``):
    raised as they are when a server dies in the middle of a streamed answer."""
    import importlib

    found = []
    for name in ("httpx", "httpx2"):
        try:
            found.append(importlib.import_module(name).TransportError)
        except (ImportError, AttributeError):
            continue
    return tuple(found)


@dataclass
class Replica:
    """One server and what the pool knows of it (read under the pool's lock)."""

    backend: OpenAICompatibleBackend
    outstanding: int = 0
    served: int = 0
    failures: int = 0
    failures_in_a_row: int = 0
    down_until: float = 0.0
    last_error: str = ""
    last_pick: int = 0

    @property
    def url(self) -> str:
        return self.backend.base_url


@dataclass(frozen=True)
class PreparedCall:
    """A request with its JSON body encoded (images read and encoded) and its geometry measured:
    what :meth:`ReplicaPool.send` posts."""

    request: GroundingRequest
    body: bytes
    geometry: tuple[ProcessedImage, ...]


class ReplicaPool:
    """A :class:`~workbench.backends.ModelBackend` over several replicas of one model.

    Besides ``generate``, :meth:`prepare` and :meth:`send` split a call in two, so a batch can
    read and encode the next items' images while earlier requests are in flight.
    """

    def __init__(
        self,
        backends: Sequence[OpenAICompatibleBackend],
        *,
        cooldown_s: float = 1.0,
        max_cooldown_s: float = 30.0,
        wait_s: float = 120.0,
        attempts: int = 2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not backends:
            raise BackendError("give at least one server URL")
        first = backends[0]
        for other in backends[1:]:
            if (other.model, other.family(), other.limits, other.limits_style) != (
                first.model, first.family(), first.limits, first.limits_style
            ):
                raise BackendError(f"{other.base_url} is set up differently from {first.base_url}: one model and limits per pool")
        self.replicas = [Replica(backend) for backend in backends]
        self.cooldown_s, self.max_cooldown_s, self.wait_s = cooldown_s, max_cooldown_s, wait_s
        self.attempts = max(1, attempts)
        self._clock = clock
        self._lock = threading.Condition()
        self._picks = 0

    @classmethod
    def from_urls(cls, urls: Sequence[str], *, pool_options: dict[str, Any] | None = None, **backend_options: Any) -> ReplicaPool:
        """One backend per URL with the same options; the pool retries, so each backend's own retries are off by default."""
        backend_options.setdefault("max_retries", 0)
        return cls([OpenAICompatibleBackend(base_url=url, **backend_options) for url in urls], **(pool_options or {}))

    # -- ModelBackend -----------------------------------------------------------------
    @property
    def model(self) -> str:
        return self.replicas[0].backend.model

    def family(self) -> ModelFamily:
        return self.replicas[0].backend.family()

    @property
    def limits(self) -> PixelLimits:
        return self.replicas[0].backend.limits

    @property
    def limits_style(self) -> str:
        return self.replicas[0].backend.limits_style

    @property
    def base_url(self) -> str:
        return ", ".join(r.url for r in self.replicas)

    def stream(self, request: GroundingRequest) -> Iterator[StreamEvent]:
        """Text pieces then the answer; a replica lost before the first piece is replaced silently."""
        return self._stream(request, restart_after_text=False)

    def generate(self, request: GroundingRequest, on_text: Callable[[str], None] | None = None) -> RawOutput:
        """The whole answer. Without ``on_text`` (a batch) it comes in one non-streamed response
        (:meth:`OpenAICompatibleBackend.complete`), and a replica lost mid-answer is replaced."""
        if on_text is not None:
            return collect(self._stream(request, restart_after_text=False), on_text)
        return collect(self._stream(request, restart_after_text=True, whole=True))

    def prepare(self, request: GroundingRequest) -> PreparedCall:
        """Build the request body now (raises :class:`BackendError` for an image that cannot be read)."""
        backend = self.replicas[0].backend
        return PreparedCall(request, backend.encoded_body(request), backend.geometry(request))

    def send(self, call: PreparedCall) -> RawOutput:
        """Post a prepared call to the least busy replica, with the same failover as :meth:`generate`."""
        return collect(self._stream(call.request, restart_after_text=True, whole=True, call=call))

    # -- picking and bookkeeping -------------------------------------------------------
    def _acquire(self, avoid: set[int], deadline: float | None) -> Replica:
        """The least busy replica that takes requests now (preferring those not tried yet); waits for
        one to come back, until ``deadline`` (None: no request has failed yet, so no limit applies)."""
        with self._lock:
            while True:
                now = self._clock()
                if deadline is not None and now >= deadline:
                    raise self._unavailable()
                ready = [(i, r) for i, r in enumerate(self.replicas) if r.down_until <= now]
                preferred = [(i, r) for i, r in ready if i not in avoid] or ready
                if preferred:
                    _, replica = min(preferred, key=lambda ir: (ir[1].outstanding, ir[1].last_pick))
                    self._picks += 1
                    replica.outstanding += 1
                    replica.last_pick = self._picks
                    return replica
                back = min(r.down_until for r in self.replicas)
                until = back if deadline is None else min(back, deadline)
                self._lock.wait(timeout=max(0.01, until - now))

    def _unavailable(self) -> ServersUnavailable:
        detail = "; ".join(f"{r.url}: {r.last_error or 'unreachable'}" for r in self.replicas)
        return ServersUnavailable(f"no server answered for {self.wait_s:g} s: {detail}")

    def _release(self, replica: Replica, error: BaseException | None, kind: FailureKind | None, answered: bool) -> None:
        with self._lock:
            replica.outstanding -= 1
            if answered:
                replica.served += 1
                replica.failures_in_a_row = 0
                replica.down_until = 0.0
            elif error is not None:
                replica.failures += 1
                replica.last_error = str(error)
                if kind == "unreachable":
                    replica.failures_in_a_row += 1
                    pause = min(self.cooldown_s * 2 ** (replica.failures_in_a_row - 1), self.max_cooldown_s)
                    replica.down_until = max(replica.down_until, self._clock() + pause)
            self._lock.notify_all()

    def _stream(
        self, request: GroundingRequest, *, restart_after_text: bool, whole: bool = False, call: PreparedCall | None = None
    ) -> Iterator[StreamEvent]:
        tried: set[int] = set()
        busy_answers = 0
        deadline: float | None = None  # set by the first unreachable replica: how long this request may wait
        while True:
            replica = self._acquire(tried, deadline)
            tried.add(self.replicas.index(replica))
            emitted = answered = False
            error: BaseException | None = None
            kind: FailureKind | None = None
            try:
                events = ((replica.backend.complete(request, call.body, call.geometry) if call else replica.backend.complete(request),)
                          if whole else replica.backend.stream(request))
                for event in events:
                    if isinstance(event, TextDelta):
                        emitted = True
                    if isinstance(event, RawOutput):
                        answered = True
                    yield event
                return
            except Exception as exc:
                kind = failure_kind(exc)
                error = exc if isinstance(exc, BackendError) else BackendError(
                    f"{replica.url} broke off the answer: {type(exc).__name__}: {exc}")
                busy_answers += kind == "busy"
                if kind == "refused" or busy_answers >= self.attempts or (emitted and not restart_after_text):
                    if error is exc:
                        raise
                    raise error from exc
                if kind == "unreachable" and deadline is None:
                    deadline = self._clock() + self.wait_s
            finally:
                self._release(replica, error, kind, answered)

    def status(self) -> list[dict[str, Any]]:
        """Per replica: URL, outstanding and served requests, failures, whether it takes requests now."""
        with self._lock:
            now = self._clock()
            return [
                {"url": r.url, "outstanding": r.outstanding, "served": r.served, "failures": r.failures,
                 "available": r.down_until <= now, "last_error": r.last_error}
                for r in self.replicas
            ]

"""What bounds one outbound model call besides a read timeout: a total deadline, a cancel, a byte budget.

A read timeout alone lets a server that sends one byte every two seconds hold a request (and the
gate's slot) for as long as it likes; a job's Cancel could not reach a call that was waiting. A
:class:`CallBudget` is made for each call: the wall time it may take, the bytes its answer may
have, and the cancel event of the work it belongs to (:data:`interrupt`, set by a batch job for
its threads). The HTTP layer (:mod:`workbench.backends.guarded_http`) consults the budget of the
call its thread is making (:func:`calling`) before every read, in short slices, so a deadline, a
cancel or an oversized answer stops the call within a fraction of a second, whatever the server
does.

>>> import threading
>>> stop = threading.Event()
>>> with interruptible(stop):
...     budget = CallBudget.start(seconds=30, max_bytes=10)
>>> budget.problem() is None, budget.count(11), budget.problem()
(True, None, 'its answer passed 10 bytes')
>>> stop.set(); CallBudget.start(seconds=30, cancel=stop).problem()
'it was cancelled'
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

__all__ = ["CallBudget", "POLL_S", "calling", "current_budget", "interrupt", "interruptible"]

POLL_S = 0.25
"""Longest a blocked read waits before it looks at the budget again, when the call can be cancelled."""

interrupt: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar("workbench_interrupt", default=None)
"""The cancel event of the work this thread does (a batch job sets it for its threads); None: not cancellable."""


@contextmanager
def interruptible(event: threading.Event | None) -> Iterator[None]:
    """Calls made inside the block (in this thread) stop when ``event`` is set."""
    token = interrupt.set(event)
    try:
        yield
    finally:
        interrupt.reset(token)


def _size(n: int) -> str:
    return f"{n >> 20} MB" if n >= 1 << 20 else f"{n} bytes"


@dataclass
class CallBudget:
    """One call's bounds: ``seconds`` of wall time (None: none), ``max_bytes`` received (0: none), a cancel."""

    seconds: float | None = None
    max_bytes: int = 0
    cancel: threading.Event | None = None
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    started: float = 0.0
    received: int = 0

    @classmethod
    def start(cls, seconds: float | None = None, max_bytes: int = 0, *, cancel: threading.Event | None = None,
              clock: Callable[[], float] = time.monotonic) -> CallBudget:
        """A budget starting now; its cancel is ``cancel``, else the thread's :data:`interrupt`."""
        return cls(seconds or None, max(0, int(max_bytes)), cancel if cancel is not None else interrupt.get(), clock,
                   clock())

    def left(self) -> float | None:
        """Seconds left before the deadline (None: no deadline)."""
        return None if self.seconds is None else self.seconds - (self.clock() - self.started)

    def problem(self) -> str | None:
        """Why the call must stop now (for a message: "the request to … stopped: <problem>"), else None."""
        if self.cancel is not None and self.cancel.is_set():
            return "it was cancelled"
        left = self.left()
        if left is not None and left <= 0:
            return f"it ran past {self.seconds:g} s (WORKBENCH_REQUEST_SECONDS)"
        if self.max_bytes and self.received > self.max_bytes:
            return f"its answer passed {_size(self.max_bytes)}"
        return None

    def count(self, n: int) -> None:
        self.received += n

    def slice(self, timeout: float | None) -> float | None:
        """How long one blocked read may wait: the caller's ``timeout``, cut at the deadline, and at
        :data:`POLL_S` when a cancel can come."""
        steps = [t for t in (timeout, self.left(), POLL_S if self.cancel is not None else None) if t is not None]
        return max(0.0, min(steps)) if steps else None


_current = threading.local()


@contextmanager
def calling(budget: CallBudget | None) -> Iterator[CallBudget | None]:
    """Make ``budget`` the one the HTTP layer consults for reads in this thread, within the block."""
    previous = getattr(_current, "budget", None)
    _current.budget = budget
    try:
        yield budget
    finally:
        _current.budget = previous


def current_budget() -> CallBudget | None:
    """The budget of the call this thread is making, if any."""
    return getattr(_current, "budget", None)

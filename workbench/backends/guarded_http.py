"""The HTTP client of the server backends: every read and connect honours the call's :class:`CallBudget`.

The openai client sends through httpx, httpx through httpcore (or their forks ``httpx2``/``httpcore2``,
which newer openai releases use: whichever the client's pool comes from), and httpcore reads sockets
through a *network backend*. Ours wraps the pool's own: before each connect, read and write it asks the budget
of the call the thread is making (:func:`workbench.backends.deadline.calling`) whether the call may go
on, waits in slices no longer than its deadline (and :data:`~workbench.backends.deadline.POLL_S` when
it can be cancelled) and counts the bytes received. A call that must stop raises
:class:`CallInterrupted`, an ``openai.OpenAIError``, which the openai client passes on as it is,
without retrying. Outside a budgeted call the backend is httpcore's, unchanged.

>>> client = guarded_client(30.0)
>>> type(client._transport._pool._network_backend).__name__
'GuardedNetworkBackend'
"""

from __future__ import annotations

import importlib
import typing

import openai

from workbench.backends.deadline import CallBudget, current_budget

__all__ = ["CallInterrupted", "GuardedNetworkBackend", "guarded_client"]


class CallInterrupted(openai.OpenAIError):
    """The call had to stop: its deadline passed, its job was cancelled, or its answer grew too large."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _check(budget: CallBudget | None) -> None:
    problem = budget.problem() if budget is not None else None
    if problem is not None:
        raise CallInterrupted(problem)


class GuardedStream:
    """A connection whose reads wait in budgeted slices (an httpcore ``NetworkStream``)."""

    def __init__(self, inner: typing.Any, read_timeout: type[BaseException]) -> None:
        self._inner = inner
        self._read_timeout = read_timeout

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        budget = current_budget()
        if budget is None:
            return self._inner.read(max_bytes, timeout)
        waited = 0.0
        while True:
            _check(budget)
            step = budget.slice(None if timeout is None else timeout - waited)
            step = None if step is None else max(step, 0.01)  # 0 would make the socket non-blocking
            try:
                data = self._inner.read(max_bytes, step)
            except self._read_timeout:
                waited += step or 0.0
                if timeout is not None and waited >= timeout:
                    raise  # the server's own silence limit: a timeout as before
                continue  # a slice ended: look at the budget again
            budget.count(len(data))
            _check(budget)
            return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        budget = current_budget()
        _check(budget)
        self._inner.write(buffer, budget.slice(timeout) if budget is not None else timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: typing.Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> GuardedStream:
        budget = current_budget()
        _check(budget)
        inner = self._inner.start_tls(ssl_context, server_hostname, budget.slice(timeout) if budget else timeout)
        return GuardedStream(inner, self._read_timeout)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class GuardedNetworkBackend:
    """An httpcore network backend (``inner``) whose connections are :class:`GuardedStream`."""

    def __init__(self, inner: typing.Any) -> None:
        self._inner = inner
        library = importlib.import_module(type(inner).__module__.split(".")[0])  # httpcore or httpcore2
        self._read_timeout: type[BaseException] = library.ReadTimeout

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: typing.Iterable[typing.Any] | None = None) -> GuardedStream:
        budget = current_budget()
        _check(budget)
        stream = self._inner.connect_tcp(host, port, budget.slice(timeout) if budget else timeout, local_address,
                                         socket_options)
        return GuardedStream(stream, self._read_timeout)

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: typing.Iterable[typing.Any] | None = None) -> GuardedStream:
        return GuardedStream(self._inner.connect_unix_socket(path, timeout, socket_options), self._read_timeout)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def guarded_client(timeout: float) -> typing.Any:
    """The openai client's default httpx client (its limits and timeouts), redirects not followed, with a
    :class:`GuardedNetworkBackend` under its connection pool."""
    client = openai.DefaultHttpxClient(follow_redirects=False, timeout=timeout)
    transports = [getattr(client, "_transport", None), *getattr(client, "_mounts", {}).values()]  # proxies too
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        if pool is not None and hasattr(pool, "_network_backend"):  # httpx builds the pool; no public way to pass one
            pool._network_backend = GuardedNetworkBackend(pool._network_backend)
    return client

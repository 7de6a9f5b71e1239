"""An ASGI middleware in front of Gradio's routes: upload quotas, and API calls that Gradio would answer
with ``{"error": null}``.

- ``POST …/gradio_api/upload``: the declared length is admitted against the visitor's and the
  server's upload budget (:class:`workbench.deployment.uploads.UploadLedger`) before Gradio reads a
  byte; a refusal is a 413 whose text says why in words (the page shows it in its error toast). The files the upload wrote are
  recorded from Gradio's answer, counted, and reclaimed early.
- ``POST …/gradio_api/call|run|api/<name>`` and ``…/queue/join``: Gradio checks the number of
  arguments and refuses a ``FileData`` outside its uploads itself, and answers both with an error that
  has no words. For the public API endpoints (``ui.endpoints``) missing trailing arguments get the
  endpoint's defaults (``null`` for a required one) and a ``FileData`` that is not an upload loses its file marker, so the endpoint's own checks
  answer in words ("text must be text", "images[0] is not a file uploaded to this app"); for the
  page's events, too few values are refused here in words. A body larger than :data:`MAX_CALL_BYTES`
  is refused before it is read whole.

It also notes which sessions are pages open in a browser (:class:`OpenPages`, from Gradio's heartbeat
stream), so the sessions Gradio would keep for ever can be dropped (:func:`ui.launch.sweep_sessions`).

Added by :func:`ui.launch.launch` through ``app_kwargs`` (Starlette builds it when the app starts).
"""

from __future__ import annotations

import inspect
import json
import logging
import re
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from gradio.utils import get_upload_folder

from ui.visitors import visitor_key
from workbench.deployment.uploads import UploadLedger, UploadQuotaError
from workbench.files import file_inside

__all__ = ["MAX_CALL_BYTES", "OpenPages", "RequestGuard"]

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MAX_CALL_BYTES = 8 << 20
"""The largest JSON body of one call (files come as uploads; prompts and model outputs are far smaller)."""
_CALL = re.compile(r"/gradio_api/(?:call|run|api)/([^/]+)/?$")
_JOIN = re.compile(r"/gradio_api/queue/join/?$")
_UPLOAD = re.compile(r"/gradio_api/upload/?$")


async def _answer(send: Send, status: int, detail: str, *, plain: bool = False) -> None:
    """A refusal in words: JSON ``{"detail", "error"}``, or plain text where the page shows the body as it is
    (Gradio's upload error toast reads "HTTP 413: <body>")."""
    body = detail.encode() if plain else json.dumps({"detail": detail, "error": detail}).encode()
    kind = b"text/plain; charset=utf-8" if plain else b"application/json"
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class _Scoped:
    """Just enough of a request for :func:`ui.visitors.visitor_key`: its scope, headers and client."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}
        client = scope.get("client")
        self.client = type("Client", (), {"host": client[0] if client else None})()


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or []:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _is_file_data(value: Any) -> bool:
    meta = value.get("meta") if isinstance(value, dict) else None
    return isinstance(meta, dict) and meta.get("_type") == "gradio.FileData"


def _unmark_outside(value: Any, folder: str) -> Any:
    """``value`` with every FileData whose path is not an upload turned into a plain dict (no file marker)."""
    if isinstance(value, list):
        return [_unmark_outside(v, folder) for v in value]
    if _is_file_data(value):
        path = value.get("path")
        if not (isinstance(path, str) and path and file_inside(path, folder) is not None):
            return {k: v for k, v in value.items() if k != "meta"}
        return value
    if isinstance(value, dict):
        return {k: _unmark_outside(v, folder) for k, v in value.items()}
    return value


def _defaults(fn: Any) -> list[Any]:
    """The endpoint's parameters' default values, in order (None for one without a default)."""
    try:
        parameters = inspect.signature(fn.fn).parameters.values()
    except (TypeError, ValueError, AttributeError):
        return []
    return [None if p.default is inspect.Parameter.empty else p.default for p in parameters
            if p.name != "request" and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


class OpenPages:
    """Which sessions are pages open in a browser right now: Gradio's page keeps a heartbeat stream open
    (``GET …/gradio_api/heartbeat/<session>``) for as long as it is shown. A session that never had one is
    an API call's, or a crafted event's (:func:`ui.launch.sweep_sessions` drops those soon)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[str, int] = {}
        self._seen: set[str] = set()

    def opened(self, session: str) -> None:
        with self._lock:
            self._open[session] = self._open.get(session, 0) + 1
            self._seen.add(session)

    def closed(self, session: str) -> None:
        with self._lock:
            left = self._open.get(session, 0) - 1
            if left > 0:
                self._open[session] = left
            else:
                self._open.pop(session, None)

    def is_open(self, session: str) -> bool:
        with self._lock:
            return session in self._open

    def was_page(self, session: str) -> bool:
        with self._lock:
            return session in self._seen

    def forget(self, session: str) -> None:
        with self._lock:
            if session not in self._open:
                self._seen.discard(session)


_HEARTBEAT = re.compile(r"/gradio_api/heartbeat/([^/]+)/?$")


class RequestGuard:
    """The middleware: ``blocks`` is the app's Blocks, ``api_names`` its public API endpoints (``ui.endpoints``)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], *, blocks: Any, api_names: set[str],
                 ledger: UploadLedger | None, proxy_hops: int = 0, reclaim_every_s: float = 60.0,
                 pages: OpenPages | None = None) -> None:
        self.app, self.blocks, self.api_names, self.ledger, self.proxy_hops = app, blocks, api_names, ledger, proxy_hops
        self.pages = pages
        if ledger is not None and reclaim_every_s > 0:
            self._reclaimer = threading.Thread(target=self._reclaim, args=(ledger, reclaim_every_s), daemon=True,
                                               name="upload-reclaimer")
            self._reclaimer.start()

    def _reclaim(self, ledger: UploadLedger, every_s: float) -> None:
        stop = threading.Event()
        while not stop.wait(every_s):
            try:
                ledger.reclaim()
            except Exception:  # never let the reclaimer die on one odd file
                log.exception("reclaiming uploads failed")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            return await self.app(scope, receive, send)
        if scope.get("method") == "GET" and self.pages is not None:
            beat = _HEARTBEAT.search(scope.get("path", ""))
            if beat:  # a page is open for as long as its heartbeat stream is
                self.pages.opened(beat.group(1))
                try:
                    return await self.app(scope, receive, send)
                finally:
                    self.pages.closed(beat.group(1))
        if scope.get("method") != "POST":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        if self.ledger is not None and _UPLOAD.search(path):
            return await self._upload(scope, receive, send)
        call = _CALL.search(path)
        if call or _JOIN.search(path):
            return await self._call(scope, receive, send, call.group(1) if call else None)
        return await self.app(scope, receive, send)

    # -- uploads -----------------------------------------------------------------------------
    async def _upload(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = _header(scope, b"content-length")
        if declared is None or not declared.isdigit():
            return await _answer(send, 411, "an upload must declare its length (Content-Length)", plain=True)
        key = visitor_key(_Scoped(scope), api=True, proxy_hops=self.proxy_hops) or "unknown"
        assert self.ledger is not None
        try:
            ticket = self.ledger.admit(key, int(declared))
        except UploadQuotaError as exc:
            return await _answer(send, 413, str(exc), plain=True)
        status: list[int] = []
        body: list[bytes] = []

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            elif message["type"] == "http.response.body" and sum(map(len, body)) < 1 << 20:
                body.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            paths = self._written(status, b"".join(body))
            if paths:
                self.ledger.finish(ticket, paths)
            else:
                self.ledger.release(ticket)

    @staticmethod
    def _written(status: list[int], body: bytes) -> list[str]:
        """The upload's files, from Gradio's answer (a JSON list of paths), inside its upload folder only."""
        if not status or status[0] != 200:
            return []
        try:
            paths = json.loads(body)
        except ValueError:
            return []
        folder = get_upload_folder()
        return [p for p in paths if isinstance(p, str) and file_inside(p, folder) is not None] \
            if isinstance(paths, list) else []

    # -- calls -------------------------------------------------------------------------------
    def _function(self, api_name: str | None, payload: dict) -> Any:
        fns = getattr(self.blocks, "fns", {}) or {}
        if api_name is not None:
            return next((fn for fn in fns.values() if getattr(fn, "api_name", None) == api_name), None)
        index = payload.get("fn_index")
        return fns.get(index) if isinstance(index, int) else None

    async def _call(self, scope: Scope, receive: Receive, send: Send, api_name: str | None) -> None:
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            more = bool(message.get("more_body"))
            if size > MAX_CALL_BYTES:
                while more and size < 8 * MAX_CALL_BYTES:  # read the rest unkept, so the client hears the answer
                    message = await receive()
                    size += len(message.get("body", b""))
                    more = message["type"] == "http.request" and bool(message.get("more_body"))
                return await _answer(send, 413, f"a call's JSON body may have at most {MAX_CALL_BYTES >> 20} MB; "
                                                "send images as uploads (gradio_client.handle_file)")
            chunks.append(chunk)
        body = b"".join(chunks)
        try:
            payload = json.loads(body) if body else None
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            return await self._replay(scope, body, receive, send)  # Gradio answers a malformed body itself
        fn = self._function(api_name, payload)
        data = payload.get("data")
        if fn is not None and isinstance(data, list):
            needed = len(getattr(fn, "inputs", []) or [])
            name = getattr(fn, "api_name", None) or getattr(fn, "name", "this event")
            if name in self.api_names:  # the public API: its own checks answer every argument in words
                pad = (_defaults(fn) + [None] * needed)[len(data):needed]
                data = _unmark_outside(data + pad, get_upload_folder())
                body = json.dumps({**payload, "data": data}).encode()
            elif len(data) < needed:
                return await _answer(send, 422, f"{name} takes {needed} values, got {len(data)}")
        await self._replay(scope, body, receive, send)

    async def _replay(self, scope: Scope, body: bytes, receive: Receive, send: Send) -> None:
        headers = [(k, v) for k, v in scope.get("headers") or [] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app({**scope, "headers": headers}, replay, send)

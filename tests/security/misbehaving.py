"""A loopback "model server" that misbehaves on purpose: it trickles, stays silent, or answers what no chat
completion is. Each request is answered by the mode the server has when it arrives.

Modes: ``trickle-head`` (one byte of the status line every ``pace_s``), ``trickle-body`` (headers of a
stream, then one byte every ``pace_s``), ``silent`` (accepts and says nothing until :meth:`release`),
``json`` (200 with a JSON object that is not a chat completion, to a streamed request too), ``huge``
(200, a JSON string of ``huge_bytes`` bytes), ``chat`` (a well-formed streamed chat completion).
Every mode ends by itself after ``give_up_s`` so that a failing test cannot hang for ever.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
import time


class MisbehavingServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, mode: str, *, pace_s: float = 0.3, give_up_s: float = 120.0, huge_bytes: int = 64 << 20,
                 answer: str = "[]") -> None:
        self.mode, self.pace_s, self.give_up_s, self.huge_bytes, self.answer = mode, pace_s, give_up_s, huge_bytes, answer
        self.requests = 0
        self.bytes_sent = 0
        self.stopped = threading.Event()
        super().__init__(("127.0.0.1", 0), _Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def release(self) -> None:
        """Let every waiting (``silent``) request end, now and later, until :meth:`hold`."""
        self.stopped.set()

    def hold(self) -> None:
        self.stopped.clear()

    def close(self) -> None:
        self.release()
        self.shutdown()
        self.server_close()


def _chunk(content: str, finish: str | None = None) -> bytes:
    body = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": content}, "finish_reason": finish}]}
    return f"data: {json.dumps(body)}\n\n".encode()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        server: MisbehavingServer = self.server  # type: ignore[assignment]
        server.requests += 1
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        until = time.monotonic() + server.give_up_s
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            getattr(self, "_" + server.mode.replace("-", "_"))(server, until)

    def _send(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()
        self.server.bytes_sent += len(data)  # type: ignore[attr-defined]

    def _trickle(self, server: MisbehavingServer, until: float, data: bytes) -> None:
        for byte in data:
            if time.monotonic() > until or server.stopped.is_set():
                return
            self._send(bytes([byte]))
            time.sleep(server.pace_s)

    def _trickle_head(self, server: MisbehavingServer, until: float) -> None:
        self._trickle(server, until, b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n" + b"X-Pad: " + b"a" * 4096)

    def _trickle_body(self, server: MisbehavingServer, until: float) -> None:
        self._send(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n")
        self._trickle(server, until, _chunk("[" + " " * 4096))

    def _silent(self, server: MisbehavingServer, until: float) -> None:
        server.stopped.wait(max(0.0, until - time.monotonic()))

    def _json(self, server: MisbehavingServer, until: float) -> None:
        body = json.dumps({"status": "ok", "detail": "this is not a chat completion"}).encode()
        self._send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                   + str(len(body)).encode() + b"\r\n\r\n" + body)

    def _huge(self, server: MisbehavingServer, until: float) -> None:
        self._send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                   + str(server.huge_bytes + 2).encode() + b"\r\n\r\n\"")
        block = b"x" * (1 << 20)
        for _ in range(server.huge_bytes >> 20):
            if time.monotonic() > until or server.stopped.is_set():
                return
            self._send(block)
        self._send(b"\"")

    def _chat(self, server: MisbehavingServer, until: float) -> None:
        body = _chunk(server.answer, "stop") + b"data: [DONE]\n\n"
        self._send(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: "
                   + str(len(body)).encode() + b"\r\n\r\n" + body)

    def log_message(self, *args) -> None:
        pass

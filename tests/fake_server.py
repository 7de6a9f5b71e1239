"""A fake OpenAI-compatible server on loopback whose answers are known: for tests and benchmarks that need a
model whose output is decided in advance (an evaluation with known metrics), not a real one.

It speaks the parts of the protocol the workbench uses — ``POST /v1/chat/completions`` (plain or streamed
server-sent events, with ``usage``), ``GET /v1/models``, ``GET /health`` — reads the pixel limits a request
carries in any of the limit styles (vLLM's ``mm_processor_kwargs``, ``transformers serve``'s processor size,
DashScope's per-image fields; else the family's checkpoint limits), and reports ``prompt_tokens`` as a real
Qwen-VL server would: the images' visual tokens under those limits plus a fixed count per word of text, so the
workbench's geometry check passes exactly when the limits agree. ``delay_s`` makes every answer take that
long (requests overlap, as on a server that batches them; with ``serial`` one answer at a time, as one model
on one device).

The answer comes from a function of the request (:class:`FakeRequest`); :func:`boxes_answer` writes the
boxes you give per image (in original pixels) as the family writes them, in the model's coordinates under
the request's limits.
"""

from __future__ import annotations

import base64
import http.server
import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from hashlib import sha256

from grounding import ModelFamily, PixelLimits, process_size, read_image_size, to_model

__all__ = ["FakeRequest", "FakeServer", "boxes_answer"]


@dataclass(frozen=True)
class FakeRequest:
    model: str
    prompt: str
    """The text parts of the last user message, joined by newlines."""
    images: tuple[bytes, ...]
    limits: PixelLimits
    max_tokens: int

    @property
    def digests(self) -> tuple[str, ...]:
        """SHA-256 of each image's bytes (the store keeps images under the same digest)."""
        return tuple(sha256(image).hexdigest() for image in self.images)


Answer = Callable[[FakeRequest], str]


def boxes_answer(boxes: Mapping[str, Sequence[tuple[str, Sequence[float]]]], family: ModelFamily | str,
                 request: FakeRequest) -> str:
    """The family's JSON answer with the boxes given per image digest (label, xyxy in original pixels)."""
    family = ModelFamily.from_name(family)
    objects = []
    for image, digest in zip(request.images, request.digests):
        geometry = process_size(read_image_size(image).wh, family, request.limits)
        for label, box in boxes.get(digest, ()):
            model = [round(v) for v in to_model(box, geometry)]
            objects.append({"bbox_2d": model, "label": label})
    return "```json\n" + json.dumps(objects) + "\n```"


def _limits(body: dict, family: ModelFamily) -> PixelLimits:
    kwargs = body.get("mm_processor_kwargs") or {}
    if "min_pixels" in kwargs or "max_pixels" in kwargs:
        return PixelLimits.default_for(family, kwargs.get("min_pixels"), kwargs.get("max_pixels"))
    size = ((body.get("chat_template_kwargs") or {}).get("processor_kwargs") or {}).get("size") or {}
    if size:
        return PixelLimits.default_for(family, size.get("shortest_edge"), size.get("longest_edge"))
    for message in body.get("messages") or []:
        for part in message.get("content") or [] if isinstance(message.get("content"), list) else []:
            if part.get("type") == "image_url" and ("min_pixels" in part or "max_pixels" in part):
                return PixelLimits.default_for(family, part.get("min_pixels"), part.get("max_pixels"))
    return PixelLimits.default_for(family)


def _request(body: dict, family: ModelFamily) -> FakeRequest:
    messages = body.get("messages") or []
    last = messages[-1] if messages else {"content": ""}
    content = last.get("content")
    parts: list[dict] = content if isinstance(content, list) else [{"type": "text", "text": str(content or "")}]
    texts, images = [], []
    for part in parts:
        if part.get("type") == "text":
            texts.append(str(part.get("text") or ""))
        elif part.get("type") == "image_url":
            url = str((part.get("image_url") or {}).get("url") or "")
            images.append(base64.b64decode(url.split(",", 1)[1]) if "," in url else b"")
    return FakeRequest(str(body.get("model") or ""), "\n".join(t for t in texts if t), tuple(images),
                       _limits(body, family), int(body.get("max_tokens") or 1024))


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeServer

    def log_message(self, *args: object) -> None:
        pass

    def _json(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            self._json(200, {"object": "list", "data": [{"id": m, "object": "model"} for m in self.server.models or []]})
        elif self.path.startswith("/health"):
            self._json(200, {"status": "ok"})
        else:
            self._json(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._json(404, {"error": {"message": f"no route {self.path}"}})
            return
        request = _request(body, self.server.family)
        if self.server.models is not None and request.model not in self.server.models:
            self._json(404, {"error": {"message": f"The model `{request.model}` does not exist."}})
            return
        self.server.requests.append(request)
        if self.server.delay_s:
            if self.server.serial:
                with self.server.turn:  # one answer at a time, as one model on one device
                    time.sleep(self.server.delay_s)
            else:
                time.sleep(self.server.delay_s)
        text = self.server.answer(request)
        words = len(request.prompt.split())
        visual = sum(process_size(read_image_size(image).wh, self.server.family, request.limits).tokens
                     for image in request.images)
        completion = max(1, len(text) // 4)
        finish = "stop"
        if completion > request.max_tokens:
            text, completion, finish = text[: request.max_tokens * 4], request.max_tokens, "length"
        usage = {"prompt_tokens": visual + words + 10, "completion_tokens": completion,
                 "total_tokens": visual + words + 10 + completion}
        if not body.get("stream"):
            self._json(200, {"id": "fake", "object": "chat.completion", "model": request.model,
                             "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                          "finish_reason": finish}], "usage": usage})
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        chunks: list[dict] = [
            {"choices": [{"index": 0, "delta": {"role": "assistant", "content": text}, "finish_reason": None}]},
            {"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]},
            {"choices": [], "usage": usage}]
        for chunk in chunks:
            self.wfile.write(b"data: " + json.dumps({"id": "fake", "object": "chat.completion.chunk", **chunk}).encode()
                             + b"\n\n")
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
        self.close_connection = True


class FakeServer(http.server.ThreadingHTTPServer):
    """``with FakeServer(answer) as server: ... server.url``; ``models`` (None: any name) are the models it
    serves — asking for another is answered 404, as vLLM does."""

    daemon_threads = True

    def __init__(self, answer: Answer, *, family: ModelFamily | str = "qwen2.5-vl",
                 models: Sequence[str] | None = None, delay_s: float = 0.0, serial: bool = False,
                 port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.answer = answer
        self.family = ModelFamily.from_name(family)
        self.models = set(models) if models is not None else None
        self.delay_s = delay_s
        self.serial = serial
        self.turn = threading.Lock()
        self.requests: list[FakeRequest] = []
        self._thread = threading.Thread(target=self.serve_forever, name="fake-openai-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def __enter__(self) -> FakeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()

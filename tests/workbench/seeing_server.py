"""An OpenAI-compatible server on loopback that "sees": it finds the red square in the image it is sent and
answers with its box in a chosen coordinate convention (test helper for the convention probe).

It stands in for a grounding model (none can run here): the answer is computed from the image's pixels, as a
perfect model of that convention would write it, with the server's own pixel limits (the resize rule is
grounding's, tested against transformers). It reports ``usage.prompt_tokens`` (a fixed text part plus the
image's visual tokens under its limits) unless told not to, streams when asked to, and counts the calls.
"""

from __future__ import annotations

import base64
import http.server
import io
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from grounding import CoordinateConvention, ModelFamily, PixelLimits, process_size, to_model

TEXT_TOKENS = 57


@dataclass
class Answering:
    """How the server answers: the family its geometry follows, the convention it writes, its limits."""

    family: ModelFamily
    convention: CoordinateConvention
    limits: PixelLimits | None = None
    usage: bool = True
    garbage: bool = False
    calls: list[dict] = field(default_factory=list)

    def answer(self, image: Image.Image) -> tuple[str, int]:
        pixels = np.asarray(image.convert("RGB")).astype(int)
        red = (pixels[..., 0] > 180) & (pixels[..., 1] < 80) & (pixels[..., 2] < 80)
        ys, xs = np.nonzero(red)
        box = (float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))
        geometry = process_size(image.size, self.family.with_convention(self.convention), self.limits)
        written = to_model(box, geometry)
        digits = 3 if self.convention.x_first is CoordinateConvention.RELATIVE_1 else 0
        numbers = [round(v, digits) if digits else round(v) for v in written]
        text = (json.dumps([{"bbox_2d": numbers, "label": "red square"}]) if not self.garbage
                else "I see a red square and a circle.")
        return f"```json\n{text}\n```" if not self.garbage else text, TEXT_TOKENS + geometry.tokens


def _image(body: dict) -> Image.Image:
    for message in body["messages"]:
        for part in message.get("content") or []:
            if isinstance(part, dict) and part.get("type") == "image_url":
                data = part["image_url"]["url"].split(",", 1)[1]
                return Image.open(io.BytesIO(base64.b64decode(data)))
    raise ValueError("no image in the request")


def _handler(answering: Answering) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            answering.calls.append(body)
            text, prompt_tokens = answering.answer(_image(body))
            usage = {"prompt_tokens": prompt_tokens, "completion_tokens": 20, "total_tokens": prompt_tokens + 20}
            if not body.get("stream"):
                payload = {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                           "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                        "finish_reason": "stop"}]}
                if answering.usage:
                    payload["usage"] = usage
                self._send(json.dumps(payload).encode(), "application/json")
                return
            chunks = [{"choices": [{"index": 0, "delta": {"role": "assistant", "content": text}, "finish_reason": None}]},
                      {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}]
            if answering.usage:
                chunks.append({"choices": [], "usage": usage})
            stream = "".join(f"data: {json.dumps({'id': 'x', 'object': 'chat.completion.chunk', 'created': 0, 'model': body['model'], **c})}\n\n"
                             for c in chunks) + "data: [DONE]\n\n"
            self._send(stream.encode(), "text/event-stream")

        def _send(self, payload: bytes, kind: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@contextmanager
def seeing_server(answering: Answering) -> Iterator[str]:
    """Serve ``answering`` on loopback; yields the base URL (``…/v1``)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(answering))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()

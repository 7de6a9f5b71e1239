"""A loopback OpenAI-compatible server that answers with a function of the request, in vLLM's response shape.

For tests and benchmarks of what travels over HTTP (token log-probabilities above all) where no real
server with logprobs can run: ``transformers serve`` ignores ``logprobs``, and vLLM needs a GPU. The
answers follow vLLM's own models (``vllm/entrypoints/openai/protocol.py``): a choice's ``logprobs`` is
``{"content": [{"token", "logprob", "bytes", "top_logprobs": [{"token", "logprob", "bytes"}]}]}``, with
``bytes`` the UTF-8 of the token and ``logprob`` floored at -9999.0; the sampled token comes first in
``top_logprobs`` and the others follow, most likely first, ``top_logprobs`` entries in all; streamed
chunks carry each token's entry beside its text. Without ``logprobs: true`` in the request there is no
``logprobs`` field (``refuse_logprobs`` answers such a request 400, as a server without the feature may).

>>> from grounding.confidence import TokenLogprob
>>> server = FakeChatServer(lambda body: [TokenLogprob("[]", -0.1)])
>>> with server:
...     import json, urllib.request
...     body = json.dumps({"model": "m", "messages": [], "logprobs": True, "top_logprobs": 1}).encode()
...     answer = json.load(urllib.request.urlopen(urllib.request.Request(server.url + "/chat/completions", body)))
>>> answer["choices"][0]["message"]["content"], answer["choices"][0]["logprobs"]["content"][0]["bytes"]
('[]', [91, 93])
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from grounding.confidence.tokens import TokenLogprob

__all__ = ["FakeChatServer", "vllm_logprob"]

Answer = Callable[[dict[str, Any]], Sequence[TokenLogprob]]


def _entry(token: str, logprob: float) -> dict[str, Any]:
    return {"token": token, "logprob": max(float(logprob), -9999.0), "bytes": list(token.encode("utf-8", "replace"))}


def vllm_logprob(token: TokenLogprob, top: int) -> dict[str, Any]:
    """One ``ChatCompletionLogProbsContent`` as vLLM writes it: the token, then ``top`` entries, the sampled
    token first."""
    alternatives = [(text, lp) for text, lp in token.top if text != token.text]
    listed = [_entry(token.text, token.logprob), *(_entry(t, lp) for t, lp in alternatives)][:top] if top else []
    return {**_entry(token.text, token.logprob), "top_logprobs": listed}


class FakeChatServer:
    """``/v1/chat/completions`` on 127.0.0.1: ``answer(request_body)`` gives the tokens of the reply."""

    def __init__(self, answer: Answer, *, refuse_logprobs: bool = False, finish_reason: str = "stop") -> None:
        self.answer = answer
        self.refuse_logprobs = refuse_logprobs
        self.finish_reason = finish_reason
        self.requests: list[dict[str, Any]] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start the server first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> FakeChatServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                fake.requests.append(body)
                if fake.refuse_logprobs and (body.get("logprobs") or body.get("top_logprobs")):
                    self._json(400, {"object": "error", "message": "logprobs is not supported by this server",
                                     "type": "BadRequestError", "code": 400})
                    return
                tokens = list(fake.answer(body))
                top = int(body.get("top_logprobs") or 0) if body.get("logprobs") else None
                if body.get("stream"):
                    self._stream(body, tokens, top)
                else:
                    self._json(200, fake._completion(body, tokens, top))

            def _json(self, status: int, data: Any) -> None:
                raw = json.dumps(data).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _stream(self, body: dict[str, Any], tokens: list[TokenLogprob], top: int | None) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for chunk in fake._chunks(body, tokens, top):
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _completion(self, body: dict[str, Any], tokens: list[TokenLogprob], top: int | None) -> dict[str, Any]:
        choice: dict[str, Any] = {"index": 0, "message": {"role": "assistant", "content": "".join(t.text for t in tokens)},
                                  "finish_reason": self.finish_reason, "stop_reason": None}
        if top is not None:
            choice["logprobs"] = {"content": [vllm_logprob(t, top) for t in tokens]}
        return {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
                "model": body.get("model", ""), "choices": [choice],
                "usage": {"prompt_tokens": 1, "completion_tokens": len(tokens), "total_tokens": 1 + len(tokens)}}

    def _chunks(self, body: dict[str, Any], tokens: list[TokenLogprob], top: int | None) -> list[dict[str, Any]]:
        head = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
                "model": body.get("model", "")}
        chunks = [{**head, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": None,
                                        "finish_reason": None}]}]
        for n, token in enumerate(tokens):
            choice: dict[str, Any] = {"index": 0, "delta": {"content": token.text},
                                      "finish_reason": self.finish_reason if n == len(tokens) - 1 else None}
            if top is not None:
                choice["logprobs"] = {"content": [vllm_logprob(token, top)]}
            chunks.append({**head, "choices": [choice]})
        return chunks

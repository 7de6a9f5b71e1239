"""OpenAICompatibleBackend against a real ``transformers serve`` on 127.0.0.1 serving the tiny model.

Retries and timeouts are checked with real loopback servers in front of it: a proxy that
answers 503/429 first and then forwards, and a socket that accepts and never answers.
"""

from __future__ import annotations

import base64
import dataclasses
import http.server
import io
import socket
import threading
import urllib.request
from pathlib import Path

import pytest
from PIL import Image

from grounding import PixelLimits, process_size
from tests.factories import write_image
from workbench.backends import GroundingRequest, OpenAICompatibleBackend, TextDelta
from workbench.backends.media import data_url
from workbench.errors import BackendError

PROMPT = "Locate every cat in the image and output the bbox coordinates in JSON format."


def backend_for(serve_url: str, model: Path, **kwargs) -> OpenAICompatibleBackend:
    options = {"family": "qwen2.5-vl", "limits_style": "transformers", "timeout": 60, "max_retries": 0} | kwargs
    return OpenAICompatibleBackend(str(model), base_url=serve_url, **options)


def local_prompt_tokens(qwen25_backend, request: GroundingRequest) -> int:
    """What the local processor counts for the same request (same chat template, same limits)."""
    _, inputs, _, _ = qwen25_backend.prepare(request)
    return int(inputs["input_ids"].shape[1])


def test_streams_from_a_real_server_and_geometry_matches_its_token_count(serve_url, tiny_qwen25, qwen25_backend, two_images):
    backend = backend_for(serve_url, tiny_qwen25)
    request = GroundingRequest(images=two_images, prompt=PROMPT, max_new_tokens=8)
    *pieces, output = list(backend.stream(request))
    assert all(isinstance(p, TextDelta) for p in pieces)
    assert "".join(p.text for p in pieces) == output.text
    assert output.finish_reason == "length" and output.warnings[0].startswith("output cut at max_new_tokens=8")
    assert list(output.images) == [process_size(wh, "qwen2.5-vl") for wh in [(640, 480), (300, 500)]]
    # the server expanded each image into exactly the visual tokens our geometry predicts, and
    # the "Picture N: " text parts rendered like the local add_vision_id prompt
    usage = backend._client.chat.completions.create(
        model=str(tiny_qwen25), messages=backend.messages(request), max_tokens=1, **backend.limit_fields()
    ).usage
    assert usage.prompt_tokens == local_prompt_tokens(qwen25_backend, request)


@pytest.mark.parametrize("per_request", [pytest.param(False, id="backend-limits"), pytest.param(True, id="request-limits")])
def test_limits_sent_the_transformers_way_change_what_the_server_sees(
    serve_url, tiny_qwen25, qwen25_backend, tmp_path, per_request
):
    image = write_image(tmp_path, 1920, 1080)
    small = PixelLimits(3136, 128 * 28 * 28)
    request = GroundingRequest(images=(image,), prompt=PROMPT, max_new_tokens=1)
    default_out = backend_for(serve_url, tiny_qwen25).generate(request)
    small_request = dataclasses.replace(request, limits=small) if per_request else request
    small_backend = backend_for(serve_url, tiny_qwen25, **({} if per_request else {"limits": small}))
    usage = small_backend._client.chat.completions.create(
        model=str(tiny_qwen25), messages=small_backend.messages(small_request), max_tokens=1,
        **small_backend.limit_fields(small_request),
    ).usage
    small_out = small_backend.generate(small_request)
    assert small_out.images[0] == process_size((1920, 1080), "qwen2.5-vl", small)
    assert small_out.limits == small
    assert usage.prompt_tokens == local_prompt_tokens(qwen25_backend, dataclasses.replace(request, limits=small))
    assert usage.prompt_tokens < local_prompt_tokens(qwen25_backend, request)
    assert default_out.images[0] == process_size((1920, 1080), "qwen2.5-vl")


def test_vllm_fields_are_refused_by_transformers_serve_with_a_clear_error(serve_url, tiny_qwen25, two_images):
    backend = backend_for(serve_url, tiny_qwen25, limits_style="vllm")
    with pytest.raises(BackendError, match=r"answered 422: .*mm_processor_kwargs"):
        backend.generate(GroundingRequest(images=two_images[:1], prompt=PROMPT, max_new_tokens=2))


def test_wrong_model_name_is_reported_with_the_server_message(serve_url, two_images):
    backend = OpenAICompatibleBackend("Qwen/Qwen2.5-VL-7B-Instruct", base_url=serve_url, limits_style="none", max_retries=0)
    with pytest.raises(BackendError, match=r"answered 400: Server is pinned to"):
        backend.generate(GroundingRequest(images=two_images[:1], prompt=PROMPT, max_new_tokens=2))


def test_models_endpoint_works_offline(serve_url):
    with urllib.request.urlopen(serve_url + "/models", timeout=30) as response:
        assert response.status == 200


class _FlakyProxy(http.server.BaseHTTPRequestHandler):
    """Answers the first ``failures`` POSTs with an error status, then forwards to ``upstream``."""

    failures: list[int] = []
    upstream = ""
    seen: list[int] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.failures:
            status = self.failures.pop(0)
            self.seen.append(status)
            payload = b'{"error": {"message": "busy"}}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("retry-after-ms", "10")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        self.seen.append(200)
        forward = urllib.request.Request(
            self.upstream + self.path.removeprefix("/v1"), data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(forward, timeout=60) as answer:
            data = answer.read()
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.headers.get("Content-Type", "application/json"))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def flaky_proxy(serve_url):
    handler = type("Proxy", (_FlakyProxy,), {"failures": [], "seen": [], "upstream": serve_url})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield handler, f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_retries_with_backoff_on_429_and_5xx(flaky_proxy, tiny_qwen25, two_images):
    handler, url = flaky_proxy
    handler.failures.extend([503, 429])
    backend = backend_for(url, tiny_qwen25, max_retries=2)
    output = backend.generate(GroundingRequest(images=two_images[:1], prompt=PROMPT, max_new_tokens=3))
    assert handler.seen == [503, 429, 200]
    assert output.images[0] == process_size((640, 480), "qwen2.5-vl")


def test_gives_up_after_the_retries_with_the_status(flaky_proxy, tiny_qwen25, two_images):
    handler, url = flaky_proxy
    handler.failures.extend([503, 503, 503])
    backend = backend_for(url, tiny_qwen25, max_retries=1)
    with pytest.raises(BackendError, match="answered 503: busy"):
        backend.generate(GroundingRequest(images=two_images[:1], prompt=PROMPT, max_new_tokens=3))
    assert handler.seen == [503, 503]


def test_timeout_is_a_clear_error(two_images):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/v1"
        backend = OpenAICompatibleBackend("qwen2.5-vl-3b", base_url=url, timeout=0.5, max_retries=0)
        with pytest.raises(BackendError, match=r"did not answer within 0.5 s"):
            backend.generate(GroundingRequest(images=two_images[:1], prompt=PROMPT))


def test_unreachable_server_is_a_clear_error(two_images):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = OpenAICompatibleBackend("qwen2.5-vl-3b", base_url=f"http://127.0.0.1:{port}/v1", max_retries=0)
    with pytest.raises(BackendError, match="cannot reach"):
        backend.generate(GroundingRequest(images=two_images[:1], prompt=PROMPT))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param({"base_url": None}, "no server URL", id="no-url"),
        pytest.param({"model": "my-finetune"}, "cannot tell the model family", id="unknown-family"),
        pytest.param({"limits_style": "sglang"}, "unknown limits style", id="bad-style"),
    ],
)
def test_bad_settings_are_refused(monkeypatch, options, message):
    monkeypatch.delenv("WORKBENCH_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    fields = {"model": "qwen2.5-vl-7b", "base_url": "http://127.0.0.1:1/v1"} | options
    with pytest.raises(BackendError, match=message):
        OpenAICompatibleBackend(**fields)


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("WORKBENCH_MODEL", "Qwen/Qwen3-VL-8B-Instruct")
    monkeypatch.setenv("WORKBENCH_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("WORKBENCH_API_KEY", "secret")
    backend = OpenAICompatibleBackend()
    assert (backend.model, backend.family().name, backend.base_url) == ("Qwen/Qwen3-VL-8B-Instruct", "qwen3-vl", "http://127.0.0.1:9/v1")
    assert backend._client.api_key == "secret"
    assert backend.limits == PixelLimits(64 * 32 * 32, 16384 * 32 * 32)


@pytest.mark.parametrize(
    ("style", "fields"),
    [
        pytest.param("vllm", {"extra_body": {"mm_processor_kwargs": {"min_pixels": 3136, "max_pixels": 1003520}}}, id="vllm"),
        pytest.param("transformers", {"extra_body": {"chat_template_kwargs": {"processor_kwargs": {
            "size": {"shortest_edge": 3136, "longest_edge": 1003520}}}}}, id="transformers"),
        pytest.param("dashscope", {}, id="dashscope"),
        pytest.param("none", {}, id="none"),
    ],
)
def test_limit_fields_per_server(style, fields, two_images):
    backend = OpenAICompatibleBackend(
        "qwen2.5-vl-72b-instruct", base_url="http://127.0.0.1:1/v1", limits=PixelLimits(3136, 1003520), limits_style=style
    )
    assert backend.limit_fields() == fields
    parts = backend.messages(GroundingRequest(images=two_images, prompt=PROMPT, image_ids=("b", "a")))[0]["content"]
    assert [p["type"] for p in parts] == ["text", "image_url", "text", "image_url", "text"]
    assert [parts[0]["text"], parts[2]["text"], parts[4]["text"]] == ["Picture 1: ", "Picture 2: ", PROMPT]
    per_image = {k: parts[1][k] for k in ("min_pixels", "max_pixels") if k in parts[1]}
    assert per_image == ({"min_pixels": 3136, "max_pixels": 1003520} if style == "dashscope" else {})


def test_vision_ids_can_be_turned_off(two_images):
    backend = OpenAICompatibleBackend("qwen2.5-vl-7b", base_url="http://127.0.0.1:1/v1")
    request = GroundingRequest(images=two_images, prompt=PROMPT, add_vision_id=False)
    assert [p["type"] for p in backend.messages(request)[0]["content"]] == ["image_url", "image_url", "text"]


def _decode(url: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))


def test_data_urls_send_upright_pixels(tmp_path):
    upright = write_image(tmp_path, 64, 48, fmt="JPEG")
    rotated = write_image(tmp_path, 48, 64, fmt="JPEG", orientation=6, name="rotated.jpg")
    as_is = data_url(upright)
    assert as_is.startswith("data:image/jpeg;base64,")
    assert base64.b64decode(as_is.split(",", 1)[1]) == upright.read_bytes()
    turned = data_url(rotated)
    assert turned.startswith("data:image/png;base64,")
    assert _decode(turned).size == (64, 48)


def test_complete_answers_like_stream_in_one_response(serve_url, tiny_qwen25, two_images):
    backend = backend_for(serve_url, tiny_qwen25)
    request = GroundingRequest(images=two_images, prompt=PROMPT, max_new_tokens=6)
    whole, streamed = backend.complete(request), backend.generate(request)
    assert whole.images == streamed.images == tuple(process_size(wh, "qwen2.5-vl") for wh in [(640, 480), (300, 500)])
    assert (whole.prompt_tokens, whole.completion_tokens, whole.finish_reason) == (
        streamed.prompt_tokens, streamed.completion_tokens, "length")
    assert whole.text.rstrip("\ufffd") == streamed.text.rstrip("\ufffd")  # a cut-off last byte stays as U+FFFD unstreamed
    body = backend.body(request)
    assert body["max_tokens"] == 6 and body["chat_template_kwargs"] == {"processor_kwargs": {"size": {
        "shortest_edge": 3136, "longest_edge": 12845056}}}
    with pytest.raises(BackendError, match=r"answered 400: Server is pinned to"):
        OpenAICompatibleBackend("Qwen/Qwen2.5-VL-7B-Instruct", base_url=serve_url, limits_style="none",
                                max_retries=0).complete(request)

"""Token log-probabilities over HTTP: vLLM's response shape (a loopback fake), servers without them, and what
``transformers serve`` does with the fields (the real server)."""

from __future__ import annotations

import math

import pytest

from grounding import process_size
from grounding.confidence import TokenLogprob, box_signals
from grounding.parse import parse_grounding
from tests.factories import write_image
from workbench.backends import GroundingRequest, OpenAICompatibleBackend
from workbench.backends.fake_server import FakeChatServer

TEXT = '[{"bbox_2d": [12, 40, 300, 290], "label": "cup 2"}, {"bbox_2d": [300, 40, 580, 296], "label": "cup"}]'


def answer_tokens() -> list[TokenLogprob]:
    """The answer one character per token (as Qwen writes digits), the second box's y2 tens digit unsure."""
    weak = TEXT.rindex("296") + 1
    tokens = []
    for i, c in enumerate(TEXT):
        if i == weak:
            tokens.append(TokenLogprob("9", math.log(0.55), (("9", math.log(0.55)), ("8", math.log(0.3)),
                                                             ("7", math.log(0.1)))))
        else:
            tokens.append(TokenLogprob(c, -0.002, ((c, -0.002), ("x", -7.0))))
    return tokens


@pytest.fixture
def image(tmp_path):
    return write_image(tmp_path, 644, 476, name="cups.png")


def expected_signals(image_wh=(644, 476)):
    geometry = process_size(image_wh, "qwen2.5-vl")
    detections = parse_grounding(TEXT, "qwen2.5-vl", geometry).detections
    return box_signals(TEXT, detections, [geometry], tokens=answer_tokens())


@pytest.mark.parametrize("streamed", [True, False], ids=["stream", "complete"])
def test_vllm_shaped_logprobs_give_the_same_per_box_numbers(image, streamed):
    with FakeChatServer(lambda body: answer_tokens()) as server:
        backend = OpenAICompatibleBackend("Qwen/Qwen2.5-VL-7B-Instruct", base_url=server.url, api_key="x",
                                          limits_style="none")
        request = GroundingRequest(images=(image,), prompt="Find cups.", logprobs=3)
        output = backend.generate(request) if streamed else backend.complete(request)
        sent = server.requests[-1]
    assert sent["logprobs"] is True and sent["top_logprobs"] == 3
    assert output.text == TEXT and output.token_logprobs is not None and not output.notes
    detections = parse_grounding(output.text, "qwen2.5-vl", list(output.images)).detections
    got = box_signals(output.text, detections, list(output.images), tokens=output.token_logprobs)
    expected = expected_signals()
    assert got == expected
    first, second = got
    assert second["logprob_min"] == pytest.approx(math.log(0.55))
    assert second["error_max_px"] > 5 * first["error_max_px"]  # the tens place of y2 was unsure


def test_a_server_without_logprobs_is_answered_and_said(image):
    with FakeChatServer(lambda body: answer_tokens()) as server:
        backend = OpenAICompatibleBackend("Qwen/Qwen2.5-VL-7B-Instruct", base_url=server.url, api_key="x",
                                          limits_style="none")
        output = backend.generate(GroundingRequest(images=(image,), prompt="Find cups."))
    assert output.token_logprobs is None and output.notes == ()  # not asked: nothing said


@pytest.mark.parametrize("streamed", [True, False], ids=["stream", "complete"])
def test_a_server_refusing_the_fields_is_asked_again_without_them(image, streamed):
    with FakeChatServer(lambda body: answer_tokens(), refuse_logprobs=True) as server:
        backend = OpenAICompatibleBackend("Qwen/Qwen2.5-VL-7B-Instruct", base_url=server.url, api_key="x",
                                          limits_style="none", max_retries=0)
        request = GroundingRequest(images=(image,), prompt="Find cups.", logprobs=5)
        output = backend.generate(request) if streamed else backend.complete(request)
        bodies = list(server.requests)
    assert output.text == TEXT and output.token_logprobs is None
    assert [("logprobs" in b) for b in bodies] == [True, False]
    assert any("refused the log-probability fields" in note for note in output.notes)


def test_transformers_serve_takes_the_fields_and_returns_no_logprobs(serve_url, tiny_qwen25, tmp_path):
    """transformers serve (5.x) lists logprobs/top_logprobs as accepted-but-unused: it answers without them."""
    image = write_image(tmp_path, 320, 240, name="a.png")
    backend = OpenAICompatibleBackend(str(tiny_qwen25), base_url=serve_url, api_key="x", family="qwen2.5-vl",
                                      limits_style="none")
    for call in (backend.generate, backend.complete):
        output = call(GroundingRequest(images=(image,), prompt="Find cats.", max_new_tokens=8, logprobs=5))
        assert output.token_logprobs is None
        assert any("returned no token log-probabilities" in note for note in output.notes)

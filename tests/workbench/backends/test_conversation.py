"""Image naming and chat history in requests: checks, the messages each backend builds, and the exact
prompt on the tiny model (chat template) and a real ``transformers serve`` (messages)."""

from __future__ import annotations

import copy
import dataclasses
from contextlib import nullcontext as does_not_raise

import pytest

from grounding.prompts import ImageNaming
from workbench.backends import GroundingRequest, OpenAICompatibleBackend
from workbench.backends.conversation import processor_messages, request_messages
from workbench.backends.media import data_url, upright_rgb
from workbench.errors import BackendError
from workbench.runs.prompt_view import exact_prompt

TURN_1 = [
    {"role": "user", "content": [{"type": "image", "image_id": "front"}, {"type": "text", "text": "Find cats."}]},
    {"role": "assistant", "content": '[{"bbox_2d": [1, 2, 3, 4], "label": "cat"}]'},
]


def summary(messages: list[dict]) -> list[tuple[str, list[str] | str]]:
    return [
        (m["role"], m["content"] if isinstance(m["content"], str)
         else [p.get("text") or p.get("image_id") or p["type"] for p in m["content"]])
        for m in messages
    ]


@pytest.mark.parametrize(
    ("kwargs", "naming", "context"),
    [
        pytest.param({}, ImageNaming.PICTURE, does_not_raise(), id="default-several"),
        pytest.param({"add_vision_id": False}, ImageNaming.NONE, does_not_raise(), id="vision-id-off"),
        pytest.param({"naming": "ids"}, ImageNaming.IDS, does_not_raise(), id="ids"),
        pytest.param({"naming": "picture", "add_vision_id": True}, ImageNaming.PICTURE, does_not_raise(), id="agree"),
        pytest.param({"naming": "ids", "add_vision_id": True}, None,
                     pytest.raises(BackendError, match="contradicts image naming 'ids'"), id="contradiction"),
        pytest.param({"naming": "names"}, None, pytest.raises(BackendError, match="unknown image naming 'names'"),
                     id="unknown"),
    ],
)
def test_naming_is_resolved_and_checked(kwargs, naming, context):
    with context:
        request = GroundingRequest(images=(b"a", b"b"), prompt="Find.", **kwargs)
        assert request.image_naming is naming
        assert request.vision_ids == (naming is ImageNaming.PICTURE)


def test_single_image_is_unnamed_by_default():
    assert GroundingRequest(images=(b"a",), prompt="Find.").image_naming is ImageNaming.NONE


@pytest.mark.parametrize(
    ("history", "message"),
    [
        pytest.param([{"role": "robot", "content": "x"}], "needs a role", id="bad-role"),
        pytest.param([TURN_1[1], {"role": "system", "content": "x"}], "system message can only come first", id="late-system"),
        pytest.param([{"role": "user", "content": 3}], "content must be text or a list", id="bad-content"),
        pytest.param([{"role": "user", "content": [{"type": "video"}]}], "parts are", id="bad-part"),
        pytest.param([{"role": "user", "content": [{"type": "image", "image_id": "back"}]}],
                     r"must be the request's first images in order \(\['front'\]\)", id="wrong-image"),
    ],
)
def test_bad_history_is_refused_in_words(history, message):
    with pytest.raises(BackendError, match=message):
        GroundingRequest(images=(b"a", b"b"), prompt="Find.", image_ids=("front", "back"), history=tuple(history))


def test_history_goes_first_and_the_new_turn_holds_the_other_images():
    history = copy.deepcopy(TURN_1)
    request = GroundingRequest(images=(b"a", b"b"), prompt="And here?", image_ids=("front", "back"),
                               history=tuple(history), naming="picture")
    history[0]["content"].append({"type": "text", "text": "changed later"})  # the request keeps its own copy
    assert request.new_image_ids == ("back",)
    assert summary(request_messages(request)) == [
        ("user", ["Picture 1: ", "front", "Find cats."]),
        ("assistant", TURN_1[1]["content"]),
        ("user", ["Picture 2: ", "back", "And here?"]),
    ]
    assert summary(processor_messages(request)) == [
        ("user", ["image", "Find cats."]), ("assistant", TURN_1[1]["content"]), ("user", ["image", "And here?"]),
    ]


def test_local_chat_text_names_images_by_id_and_renders_the_history(qwen25_backend, two_images):
    ids = GroundingRequest(images=two_images, prompt="Find.", image_ids=("front", "back"), naming="ids")
    text = exact_prompt(qwen25_backend, ids)["text"]
    assert "front: <|vision_start|><|image_pad|><|vision_end|>back: <|vision_start|>" in text
    assert "Picture" not in text
    turn = GroundingRequest(images=two_images, prompt="And here?", image_ids=("front", "back"), history=tuple(TURN_1),
                            naming="picture")
    view = exact_prompt(qwen25_backend, turn)
    assert view["format"] == "chat-template" and view["naming"] == "picture"
    assert view["text"].endswith(
        "Picture 1: <|vision_start|><|image_pad|><|vision_end|>Find cats.<|im_end|>\n"
        f"<|im_start|>assistant\n{TURN_1[1]['content']}<|im_end|>\n"
        "<|im_start|>user\nPicture 2: <|vision_start|><|image_pad|><|vision_end|>And here?<|im_end|>\n"
        "<|im_start|>assistant\n"
    )
    # the shown text is exactly what prepare() tokenizes
    loaded, inputs, geometry, limits = qwen25_backend.prepare(turn)
    again = loaded.processor(text=[view["text"]], images=[upright_rgb(i) for i in two_images],
                             size=limits.as_processor_size(), return_tensors="pt")
    assert again["input_ids"].tolist() == inputs["input_ids"].tolist()
    assert [g.original_wh for g in geometry] == [(640, 480), (300, 500)]


def test_server_messages_carry_the_history_with_its_images(two_images):
    backend = OpenAICompatibleBackend("qwen2.5-vl-7b", base_url="http://127.0.0.1:1/v1", limits_style="none")
    request = GroundingRequest(images=two_images, prompt="And here?", image_ids=("front", "back"),
                               history=tuple(TURN_1), naming="ids")
    messages = backend.messages(request)
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[0]["content"][0] == {"type": "text", "text": "front: "}
    assert messages[0]["content"][1]["image_url"]["url"] == data_url(two_images[0])
    assert messages[2]["content"][1]["image_url"]["url"] == data_url(two_images[1])
    view = exact_prompt(backend, request)
    assert view["format"] == "messages" and view["body"]["max_tokens"] == request.max_new_tokens
    assert view["messages"][0]["content"][1]["image_url"]["url"].startswith("data:image/png;base64,… (")
    exact = exact_prompt(backend, request, elide_images=False)
    assert exact["messages"] == messages


@pytest.mark.slow
def test_server_prompt_with_history_counts_like_the_local_one(serve_url, tiny_qwen25, qwen25_backend, two_images):
    backend = OpenAICompatibleBackend(str(tiny_qwen25), base_url=serve_url, family="qwen2.5-vl",
                                      limits_style="transformers", timeout=60, max_retries=0)
    for naming in ImageNaming:
        request = GroundingRequest(images=two_images, prompt="And here?", image_ids=("front", "back"),
                                   history=tuple(TURN_1), naming=naming, max_new_tokens=1)
        usage = backend._client.chat.completions.create(**backend.request_body(request)).usage
        _, inputs, _, _ = qwen25_backend.prepare(request)
        assert usage.prompt_tokens == int(inputs["input_ids"].shape[1]), naming
        output = backend.generate(dataclasses.replace(request, max_new_tokens=2))
        assert [g.original_wh for g in output.images] == [(640, 480), (300, 500)]

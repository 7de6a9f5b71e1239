"""``workbench ground`` end to end on the tiny model (local) and through a real ``transformers serve``."""

from __future__ import annotations

import importlib.util
import json

import pytest
from typer.testing import CliRunner

from grounding import PixelLimits, process_size
from tests.cli_text import plain
from workbench.cli import app


def invoke(*args: str):
    return CliRunner().invoke(app, ["ground", *args])


def test_local_raw_prints_geometry_and_text(tiny_qwen25, two_images):
    result = invoke(*map(str, two_images), "--target", "cat", "--model", str(tiny_qwen25), "--ids", "front,back",
                    "--max-new-tokens", "4", "--raw")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["family"] == "qwen2.5-vl"
    assert [(i["id"], i["resized"], i["grid_thw"]) for i in report["images"]] == [
        ("front", [644, 476], [1, 34, 46]), ("back", [308, 504], [1, 36, 22]),
    ]
    assert report["finish_reason"] == "length" and report["warnings"][0].startswith("output cut at max_new_tokens=4")


def test_openai_backend_through_a_real_server(serve_url, tiny_qwen25, two_images):
    result = invoke(str(two_images[1]), "--prompt", "Find the cat.", "--backend", "openai", "--base-url", serve_url,
                    "--model", str(tiny_qwen25), "--limits-style", "transformers", "--max-pixels", str(128 * 28 * 28),
                    "--max-new-tokens", "3", "--raw")
    assert result.exit_code == 0, result.output
    (image,) = json.loads(result.stdout)["images"]
    small = process_size((300, 500), "qwen2.5-vl", PixelLimits(3136, 128 * 28 * 28))
    assert image["original"] == [300, 500] and image["resized"] == list(small.resized_wh) == [224, 392]
    assert small.resized_wh != process_size((300, 500), "qwen2.5-vl").resized_wh


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--target", "cat", "--prompt", "x"], "either --target", id="both-prompts"),
        pytest.param(["--target", "cat", "--model", "/no/such/model"], "cannot load model", id="missing-model"),
        pytest.param(["--target", "cat", "--backend", "openai", "--model", "qwen2.5-vl", "--base-url",
                      "http://127.0.0.1:1/v1"], "cannot reach", id="no-server"),
    ],
)
def test_errors_exit_1_with_a_message(two_images, monkeypatch, args, message):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = invoke(str(two_images[0]), *args, "--max-new-tokens", "2")
    assert result.exit_code == 1
    assert message in plain(result.stderr)


def test_missing_image_file_is_refused_before_loading(tmp_path):
    result = invoke(str(tmp_path / "nope.png"), "--target", "cat", "--model", "/no/such/model")
    assert result.exit_code == 2
    assert "does not exist" in plain(result.output)


@pytest.mark.skipif(importlib.util.find_spec("grounding.parse") is None, reason="parser not merged yet")
def test_parsed_output_has_detections(tiny_qwen25, two_images):
    result = invoke(*map(str, two_images), "--target", "cat", "--model", str(tiny_qwen25), "--max-new-tokens", "8")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert isinstance(report["detections"], list) and report["warnings"]


def test_show_prompt_prints_the_exact_prompt_with_the_chosen_naming(tiny_qwen25, two_images):
    local = invoke(*map(str, two_images), "--target", "cat", "--model", str(tiny_qwen25), "--ids", "front,back",
                   "--naming", "ids", "--show-prompt")
    assert local.exit_code == 0, local.output
    view = json.loads(local.stdout)
    assert view["format"] == "chat-template" and view["naming"] == "ids"
    assert "front: <|vision_start|><|image_pad|><|vision_end|>back: <|vision_start|>" in view["text"]
    assert 'with the name of the image it is in ("front" or "back")' in view["text"]
    # a server's messages are built here: nothing is sent
    server = invoke(*map(str, two_images), "--target", "cat", "--backend", "openai", "--base-url", "http://127.0.0.1:1/v1",
                    "--model", "qwen2.5-vl-7b", "--no-vision-id", "--show-prompt")
    assert server.exit_code == 0, server.output
    parts = json.loads(server.stdout)["messages"][0]["content"]
    assert [p["type"] for p in parts] == ["image_url", "image_url", "text"]
    assert "numbered 1 to 2 in the order given" in parts[2]["text"]
    assert parts[0]["image_url"]["url"].startswith("data:image/png;base64,… (")


def test_naming_that_contradicts_vision_id_is_refused(two_images):
    result = invoke(*map(str, two_images), "--target", "cat", "--backend", "openai", "--base-url", "http://127.0.0.1:1/v1",
                    "--model", "qwen2.5-vl-7b", "--vision-id", "--naming", "ids", "--show-prompt")
    assert result.exit_code == 1
    assert "contradicts image naming 'ids'" in plain(result.stderr)

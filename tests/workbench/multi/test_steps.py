"""Step by step: each turn's boxes on its own image, the history passed on; known answers (FakeBackend),
the tiny model (its prompt grows by exactly the earlier turns), a real server and the CLI."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from grounding import to_model
from workbench.backends import (
    FakeBackend,
    GroundingRequest,
    LocalTransformersBackend,
    OpenAICompatibleBackend,
)
from workbench.cli import app
from workbench.errors import WorkbenchError
from workbench.multi.steps import ground_step_by_step

KNOWN = [(100.0, 50.0, 300.0, 250.0), (20.0, 40.0, 220.0, 240.0), (5.0, 5.0, 60.0, 70.0)]


def test_each_turn_is_parsed_on_its_own_image_and_sees_the_earlier_turns(two_images):
    images = [*two_images, two_images[0]]
    seen_history: list[list[tuple[str, object]]] = []

    def answer(request, geometry):
        turn = len(request.images)
        seen_history.append([(m["role"], m["content"] if isinstance(m["content"], str) else
                              [p.get("image_id", p.get("text")) for p in m["content"]]) for m in request.history])
        box = [float(v) for v in to_model(KNOWN[turn - 1], geometry[-1])]
        return json.dumps([{"bbox_2d": box, "label": f"turn{turn}"}])

    result = ground_step_by_step(FakeBackend(answer), images, target="cat", image_ids=["a", "b", "c"])
    assert [(d["image"], d["image_id"], d["label"]) for d in result["detections"]] == [
        (1, "a", "turn1"), (2, "b", "turn2"), (3, "c", "turn3")]
    for detection, box in zip(result["detections"], KNOWN):
        assert detection["original"] == pytest.approx(list(box))
    assert seen_history[0] == []
    first_answer = result["turns"][0]["text"]
    assert seen_history[2] == [
        ("user", ["a", result["turns"][0]["prompt"]]), ("assistant", first_answer),
        ("user", ["b", result["turns"][1]["prompt"]]), ("assistant", result["turns"][1]["text"]),
    ]
    assert result["turns"][1]["prompt"] == "Locate every cat in the image and output the bbox coordinates in JSON format."
    assert [i["original"] for i in result["images"]] == [[640, 480], [300, 500], [640, 480]]
    json.dumps(result)


def test_empty_input_and_bad_ids_are_refused(two_images):
    backend = FakeBackend(lambda request, geometry: "[]")
    with pytest.raises(WorkbenchError, match="at least one image"):
        ground_step_by_step(backend, [], target="cat")
    with pytest.raises(WorkbenchError, match="2 images but 1 image IDs"):
        ground_step_by_step(backend, two_images, target="cat", image_ids=["a"])


@pytest.mark.slow
@pytest.mark.parametrize("model_fixture", ["tiny_qwen25", "tiny_qwen3"])
def test_tiny_model_gets_the_history_in_its_prompt(request, two_images, model_fixture):
    backend = LocalTransformersBackend(str(request.getfixturevalue(model_fixture)), local_files_only=True)
    result = ground_step_by_step(backend, two_images, target="cat", max_new_tokens=4)
    first, second = result["turns"]
    # turn 2's prompt is exactly turn 1 (image, question, the model's answer) followed by turn 2
    history = ({"role": "user", "content": [{"type": "image", "image_id": "img1"}, {"type": "text", "text": first["prompt"]}]},
               {"role": "assistant", "content": first["text"]})
    again = GroundingRequest(images=two_images, prompt=second["prompt"], history=history, naming="picture")
    _, inputs, geometry, _ = backend.prepare(again)
    assert second["prompt_tokens"] == int(inputs["input_ids"].shape[1]) > first["prompt_tokens"]
    text = backend.chat_text(again)
    assert text.count("Picture 1: ") == 1 and text.count("Picture 2: ") == 1 and first["text"] in text
    assert [i["resized"] for i in result["images"]] == [list(g.resized_wh) for g in geometry]


@pytest.mark.slow
def test_real_server_and_cli(serve_url, tiny_qwen25, two_images, qwen25_backend):
    backend = OpenAICompatibleBackend(str(tiny_qwen25), base_url=serve_url, family="qwen2.5-vl",
                                      limits_style="transformers", timeout=60, max_retries=0)
    result = ground_step_by_step(backend, two_images, target="cat", naming="ids", image_ids=["front", "back"],
                                 max_new_tokens=3)
    first, second = result["turns"]
    history = ({"role": "user", "content": [{"type": "image", "image_id": "front"}, {"type": "text", "text": first["prompt"]}]},
               {"role": "assistant", "content": first["text"]})
    again = GroundingRequest(images=two_images, prompt=second["prompt"], image_ids=("front", "back"), history=history,
                             naming="ids")
    _, inputs, _, _ = qwen25_backend.prepare(again)
    assert second["prompt_tokens"] == int(inputs["input_ids"].shape[1])  # the server saw the same conversation
    cli = CliRunner().invoke(app, ["steps", *map(str, two_images), "--target", "cat", "--model", str(tiny_qwen25),
                                   "--max-new-tokens", "2", "--naming", "none"])
    assert cli.exit_code == 0, cli.output
    assert [t["image"] for t in json.loads(cli.stdout)["turns"]] == [1, 2]

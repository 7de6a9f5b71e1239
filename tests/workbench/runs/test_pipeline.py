"""Prompt -> generate -> parse on the tiny model: detections come back in each image's original pixels.

Random weights write junk, so known answers are fed through the same path: the real
backend's output (with its real per-call geometry) with the text replaced.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json

import pytest

from grounding import to_original
from grounding.prompts import grounding_instruction
from workbench.backends import GroundingRequest, LocalTransformersBackend
from workbench.runs.pipeline import (
    detection_dict,
    image_table,
    parse_output,
    run_grounding,
)

needs_parser = pytest.mark.skipif(
    importlib.util.find_spec("grounding.parse") is None, reason="grounding.parse (parser issue) is not merged yet"
)


def two_image_request(backend, two_images, **kw) -> GroundingRequest:
    prompt = grounding_instruction("cat", backend.family(), image_ids=["img1", "img2"])
    return GroundingRequest(images=two_images, prompt=prompt, image_ids=("img1", "img2"), **kw)


def test_geometry_and_raw_text_of_a_two_image_run(qwen25_backend, two_images):
    request = two_image_request(qwen25_backend, two_images, max_new_tokens=8)
    output = qwen25_backend.generate(request)
    rows = image_table(output, request.image_ids, request.image_names())
    assert [(r["id"], r["picture"], r["original"], r["resized"]) for r in rows] == [
        ("img1", 1, [640, 480], [644, 476]),
        ("img2", 2, [300, 500], [308, 504]),
    ]
    assert isinstance(output.text, str) and output.completion_tokens == 8


def test_detection_dict_names_the_users_image_id():
    @dataclasses.dataclass(frozen=True)
    class Found:
        label: str
        image: int
        original: tuple[float, ...]

    assert detection_dict(Found("cat", 2, (1.0, 2.0, 3.0, 4.0)), ("front", "back")) == {
        "label": "cat", "image": 2, "original": [1.0, 2.0, 3.0, 4.0], "image_id": "back",
    }


@needs_parser
def test_end_to_end_run_on_junk_text_never_raises(qwen25_backend, two_images):
    run = run_grounding(qwen25_backend, two_image_request(qwen25_backend, two_images, max_new_tokens=16))
    assert run.warnings[0].startswith("output cut at max_new_tokens=16")
    assert isinstance(run.detections, tuple)
    json.dumps(run.as_dict())


@needs_parser
@pytest.mark.parametrize(
    ("model_fixture", "boxes"),
    [
        pytest.param("tiny_qwen25", [[161, 119, 483, 357], [77, 126, 231, 378]], id="qwen2.5-absolute-resized"),
        pytest.param("tiny_qwen3", [[250, 250, 750, 750], [100, 200, 900, 800]], id="qwen3-relative-1000"),
    ],
)
def test_known_answer_is_rescaled_per_image(request, two_images, model_fixture, boxes):
    backend = LocalTransformersBackend(str(request.getfixturevalue(model_fixture)), local_files_only=True)
    call = two_image_request(backend, two_images, max_new_tokens=1)
    output = backend.generate(call)
    answer = [{"bbox_2d": boxes[0], "label": "cat", "image": 1}, {"bbox_2d": boxes[1], "label": "cat", "image": 2}]
    known = dataclasses.replace(output, text="```json\n" + json.dumps(answer) + "\n```", finish_reason="stop")
    run = parse_output(call, known)
    assert [d.image for d in run.detections] == [1, 2]
    for detection, box, geometry in zip(run.detections, boxes, output.images):
        assert tuple(detection.original) == pytest.approx(to_original(box, geometry))
    assert run.as_dict()["detections"][1]["image_id"] == "img2"

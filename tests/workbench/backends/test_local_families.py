"""Every Qwen model type end to end on its tiny random checkpoint, through the local backend.

For each family: the geometry the run reports is the real image processor's own (and the checkpoint's facts
read from its files), the model generates, a known answer in the family's convention is parsed back onto the
original pixels, drawn, and exported with the trainers' template names and the family's question wording.
Random weights write junk; the known answer stands in for what a trained model would write.
"""

from __future__ import annotations

import json

import pytest
from PIL import Image, ImageOps

from grounding import ModelFamily, process_size, round_half_up, to_model
from grounding.draw import draw_file
from grounding.parse import parse_grounding
from grounding.prompts import grounding_instruction
from tests.factories import write_image
from workbench.backends import GroundingRequest, LocalTransformersBackend, Thinking
from workbench.export import ExportSettings, export_dataset
from workbench.run_settings import Reading
from workbench.runs.items import paste_on_item, run_on_item
from workbench.store import DatasetStore, ImageSource

FAST = ["qwen3.5"]
SLOW = ["qwen3-vl-moe", "qwen3.5-moe", "qwen2.5-omni", "qwen3-omni", "qwen4-exp"]
FAMILIES = [*FAST, *(pytest.param(name, marks=pytest.mark.slow) for name in SLOW)]

BOXES = ((64.0, 48.0, 320.0, 240.0), (30.0, 250.0, 270.0, 480.0))  # one per picture, original pixels
LABEL = "red square"


@pytest.fixture
def pictures(tmp_path):
    first = write_image(tmp_path, 640, 480, seed=1)
    second = write_image(tmp_path, 500, 300, fmt="JPEG", orientation=6, seed=2)  # shown upright as 300 x 500
    return first, second


def _upright(path):
    with Image.open(path) as image:
        return ImageOps.exif_transpose(image).convert("RGB")


def _answer(family: ModelFamily, geometry) -> str:
    """What a trained model of ``family`` would write for BOXES, in its own convention (integers)."""
    objects = [{"bbox_2d": [round_half_up(v) for v in to_model(box, image)], "label": LABEL, "image": n}
               for n, (box, image) in enumerate(zip(BOXES, geometry, strict=True), start=1)]
    return "```json\n" + json.dumps(objects) + "\n```"


@pytest.mark.parametrize("name", FAMILIES)
def test_tiny_model_end_to_end(tiny_checkpoint, tmp_path, pictures, name):
    folder = tiny_checkpoint(name)
    backend = LocalTransformersBackend(str(folder), device="cpu", local_files_only=True)
    family = backend.family()
    assert family.name == name
    assert family == ModelFamily.from_checkpoint(folder)  # the files say what the loaded processor does

    with DatasetStore(tmp_path / "db.sqlite3") as store:
        item = store.add_item(store.create_dataset("d"), [ImageSource(pictures[0], "a"), ImageSource(pictures[1], "b")])
        prompt = "Locate every red square. Add an image key."
        outcome = run_on_item(store, backend, item.id, prompt, limits=None, max_new_tokens=6)
        assert isinstance(outcome.text, str)

        # geometry = the real image processor's, for each picture, and = grounding's resize rule
        request = GroundingRequest(images=pictures, prompt=prompt, max_new_tokens=1)
        output = backend.generate(request)
        image_processor = backend.load().processor.image_processor
        for path, seen in zip(pictures, output.images, strict=True):
            upright = _upright(path)
            grid = image_processor(images=[upright], return_tensors="pt")["image_grid_thw"].tolist()[0]
            assert list(seen.grid_thw) == grid
            assert seen.original_wh == upright.size
            assert seen == process_size(upright.size, family, output.limits)

        # a known answer in the family's convention lands on the original pixels
        pasted = paste_on_item(store, item.id, _answer(family, output.images), Reading(name))
        tolerance = max(max(image.original_wh) / min(image.model_wh) for image in output.images)
        for picture, box in zip(pasted.item.images, BOXES, strict=True):
            (annotation,) = picture.annotations
            assert annotation.label == LABEL
            assert annotation.coords == pytest.approx(box, abs=tolerance)

        # drawn on the original file
        parsed = parse_grounding(_answer(family, output.images), family, output.images)
        drawn = draw_file(pictures[0], parsed.for_image(1))
        assert drawn.size == (640, 480) and drawn.tobytes() != _upright(pictures[0]).tobytes()

        # exported: the trainers' template names and the family's question wording
        store.set_status(item.id, "accepted")
        settings = ExportSettings.create(name)
        question = grounding_instruction(LABEL, family, image_ids=["a", "b"]).split("\n")[0]  # the official line
        for fmt, tool in (("llamafactory", "llamafactory"), ("swift", "swift")):
            result = export_dataset(store, "d", fmt, settings, tmp_path / "out")
            template = family.trainer_templates.get(tool)
            if template:
                assert template in result.manifest["usage"]
            text = (result.folder / ("llamafactory.json" if fmt == "llamafactory" else "swift.jsonl")).read_text()
            assert json.dumps(question)[1:-1] in text


def test_qwen3_5_thinks_only_when_asked_and_the_budget_grows(tiny_checkpoint, pictures):
    backend = LocalTransformersBackend(str(tiny_checkpoint("qwen3.5")), device="cpu", local_files_only=True)
    off = GroundingRequest(images=pictures[:1], prompt="Find the square.", max_new_tokens=3)
    on = GroundingRequest(images=pictures[:1], prompt="Find the square.", max_new_tokens=3, thinking=True,
                          thinking_tokens=2)
    assert backend.chat_text(off).endswith("<think>\n\n</think>\n\n")  # the template closes it: no reasoning
    assert backend.chat_text(on).endswith("<think>\n")
    quiet, thinking = backend.generate(off), backend.generate(on)
    assert (quiet.thinking, quiet.max_new_tokens) == (Thinking.OFF, 3)
    assert (thinking.thinking, thinking.max_new_tokens) == (Thinking.ON, 5)
    assert thinking.completion_tokens <= 5


def test_a_model_without_the_switch_is_left_alone(tiny_checkpoint, pictures):
    backend = LocalTransformersBackend(str(tiny_checkpoint("qwen3-vl")), device="cpu", local_files_only=True)
    request = GroundingRequest(images=pictures[:1], prompt="Find the square.", max_new_tokens=2, thinking=True)
    assert "think" not in backend.chat_text(request)
    assert backend.generate(request).thinking is Thinking.NONE

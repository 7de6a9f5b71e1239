"""Training questions ask for exactly what their answers contain (issue 12)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grounding.prompts import grounding_instruction
from tests.factories import write_image
from workbench.errors import ExportError
from workbench.export import ExportSettings, export_dataset
from workbench.export.base import parse_json_answer
from workbench.export.questions import conversation
from workbench.export.samples import ExportImage, ExportObject, ExportSample
from workbench.store import AnnotationDraft, DatasetStore, ImageSource

BOTH = ("box", "point")

DOG_PROMPT = "Locate every dog in the image and output the bbox coordinates in JSON format."

def _image(image_id, position, *objects, wh=(640, 480)):
    return ExportImage(image_id, position, Path("a.png"), "images/a.png", f"s-{image_id}.png", wh, tuple(objects))


def _box(label, kind="box"):
    return ExportObject(kind, (10.0, 10.0, 50.0, 50.0) if kind == "box" else (20.0, 20.0), label)


def test_a_dog_prompt_answered_with_garden_tools_asks_for_the_tools():
    sample = ExportSample(1, 1, DOG_PROMPT, (_image("img1", 1, _box("flower pot"), _box("trowel head")),))
    [turn] = conversation(sample, "qwen2.5-vl").turns
    assert turn.question == ("Locate every flower pot and trowel head in the image and output the bbox "
                             "coordinates in JSON format.")
    assert [obj.label for _, obj in turn.objects] == ["flower pot", "trowel head"]


def test_multi_image_questions_name_the_pictures():
    sample = ExportSample(1, 1, "", (_image("kitchen", 1, _box("bowl")), _image("street", 2, _box("car"))))
    [turn] = conversation(sample, "qwen3-vl").turns
    assert turn.question == grounding_instruction("bowl, car", "qwen3-vl", image_ids=["kitchen", "street"])
    assert "Picture 1 is kitchen, Picture 2 is street" in turn.question


def test_the_own_prompt_is_kept_only_when_it_asked_for_exactly_these_labels():
    extra = DOG_PROMPT + "\nIgnore reflections."
    dogs = ExportSample(1, 1, extra, (_image("img1", 1, _box("dog")),))
    assert conversation(dogs, "qwen2.5-vl").turns[0].question == extra  # with the user's own line
    dog_and_cat = ExportSample(1, 1, extra, (_image("img1", 1, _box("dog"), _box("cat")),))
    assert conversation(dog_and_cat, "qwen2.5-vl").turns[0].question.startswith("Locate every dog and cat ")
    other_family = ExportSample(1, 1, DOG_PROMPT, (_image("img1", 1, _box("dog")),))
    assert conversation(other_family, "qwen3-vl").turns[0].question.startswith(
        'Locate every instance that belongs to the following categories: "dog"')


def test_boxes_and_points_each_get_their_line():
    sample = ExportSample(1, 1, "", (_image("img1", 1, _box("bowl"), _box("spoon", "point")),))
    assert conversation(sample, "qwen2.5-vl").turns[0].question.split("\n") == [
        "Locate every bowl in the image and output the bbox coordinates in JSON format.",
        "Locate every spoon in the image and output the point coordinates in JSON format."]


def test_referring_gives_one_pair_per_object_and_templates_override():
    sample = ExportSample(1, 1, "", (_image("a", 1, _box("red car")), _image("b", 2, _box("tree"))))
    turns = conversation(sample, "qwen2-vl", "referring", {"referring": "Where is the {label} in {picture}?"}).turns
    assert [t.question.split("\n")[0] for t in turns] == ["Where is the red car in Picture 1 (a)?",
                                                          "Where is the tree in Picture 2 (b)?"]
    assert [len(t.objects) for t in turns] == [1, 1]


@pytest.mark.parametrize(("options", "message"), [
    pytest.param({"task": "boxes"}, "unknown question task 'boxes'", id="unknown-task"),
    pytest.param({"question_templates": {"objects": "Find {animal}"}}, "uses {animal}", id="unknown-placeholder"),
    pytest.param({"question_templates": {"objects": "Find {labels"}}, "not a valid template", id="broken"),
    pytest.param({"family": "qwen2-vl", "task": "points"}, "no official point format", id="qwen2-points"),
])
def test_bad_question_settings_are_refused(options, message):
    family = options.pop("family", "qwen2.5-vl")
    with pytest.raises(ExportError, match=message):
        ExportSettings.create(family, **options)


@pytest.fixture
def garden_store(tmp_path):
    with DatasetStore(tmp_path / "db.sqlite3") as store:
        store.create_dataset("garden")
        photo = write_image(tmp_path, 640, 480, name="garden.png")
        sample = store.add_item("garden", [ImageSource(photo, "garden")], DOG_PROMPT)
        store.set_annotations(sample.id, 1, kinds=BOTH, drafts=[AnnotationDraft.box((10, 10, 100, 100), "flower pot"),
                                                    AnnotationDraft.box((200, 200, 300, 260), "trowel head"),
                                                    AnnotationDraft.point((50, 400), "seed")])
        store.set_status(sample.id, "accepted")
        yield store


@pytest.mark.parametrize(("fmt", "question_of"), [
    pytest.param("qwen_finetune", lambda f: json.loads((f / "qwen_finetune.json").read_text())[0]
                 ["conversations"][0]["value"], id="qwen_finetune"),
    pytest.param("llamafactory", lambda f: json.loads((f / "llamafactory.json").read_text())[0]
                 ["messages"][0]["content"], id="llamafactory"),
    pytest.param("swift", lambda f: json.loads((f / "swift.jsonl").read_text().splitlines()[0])
                 ["messages"][0]["content"], id="swift"),
    pytest.param("xcomposer2", lambda f: json.loads((f / "xcomposer2.json").read_text())[0]
                 ["conversations"][0]["value"], id="xcomposer2"),
    pytest.param("vlmr1", lambda f: json.loads((f / "vlmr1_ovd.jsonl").read_text().splitlines()[0])
                 ["conversations"][0]["value"], id="vlmr1-ovd"),
])
def test_every_trainer_format_asks_for_what_it_answers(garden_store, tmp_path, fmt, question_of):
    result = export_dataset(garden_store, "garden", fmt, ExportSettings.create("qwen2.5-vl", vlmr1_task="ovd"),
                            tmp_path)
    question = question_of(result.folder)
    assert "flower pot and trowel head" in question and "dog" not in question
    assert ("seed" in question) == (fmt not in ("swift", "vlmr1"))  # box-only formats leave the point out
    assert result.manifest["questions"]["generated"] >= 1
    assert result.manifest["questions"]["templates"]["objects"].startswith("Locate every {labels}")


def test_referring_export_has_one_turn_per_object(garden_store, tmp_path):
    settings = ExportSettings.create("qwen2.5-vl", task="referring",
                                     question_templates={"referring": "Where is the {label}?"})
    result = export_dataset(garden_store, "garden", "qwen_finetune", settings, tmp_path)
    turns = json.loads((result.folder / "qwen_finetune.json").read_text())[0]["conversations"]
    assert [t["from"] for t in turns] == ["human", "gpt"] * 3
    assert turns[0]["value"] == "<image>\nWhere is the flower pot?" and turns[2]["value"] == "Where is the trowel head?"
    assert turns[4]["value"].startswith("Locate every seed in the image and output the point")
    assert [e["label"] for t in turns[1::2] for e in parse_json_answer(t["value"])] == [
        "flower pot", "trowel head", "seed"]
    assert result.manifest["questions"]["templates"]["referring"] == "Where is the {label}?"

"""Grounding prompts: official phrasing per family, multi-image mapping, message layout."""

from __future__ import annotations

from contextlib import nullcontext as does_not_raise

import pytest

from grounding.prompts import (
    GroundingTask,
    ImageNaming,
    build_messages,
    default_image_ids,
    grounding_instruction,
    image_key_instruction,
    label_images,
    picture_numbers,
    request_text,
)


@pytest.mark.parametrize(
    ("family", "task", "expected", "context"),
    [
        pytest.param("qwen2.5-vl", "boxes", "Locate every cake in the image and output the bbox coordinates in JSON format.",
                     does_not_raise(), id="qwen2.5-boxes"),
        pytest.param("qwen2.5-vl", "points", "Locate every cake in the image and output the point coordinates in JSON format.",
                     does_not_raise(), id="qwen2.5-points"),
        pytest.param("qwen3-vl", "boxes", 'Locate every instance that belongs to the following categories: "cake". '
                     "Report bbox coordinates in JSON format.", does_not_raise(), id="qwen3-boxes"),
        pytest.param("qwen3-vl", "points", 'Locate every instance that belongs to the following categories: "cake". '
                     "Report point coordinates in JSON format.", does_not_raise(), id="qwen3-points"),
        pytest.param("qwen2-vl", "boxes", "Detect the bounding box of <|object_ref_start|>cake<|object_ref_end|>.",
                     does_not_raise(), id="qwen2-special-tokens"),
        pytest.param("qwen2-vl", "points", None, pytest.raises(ValueError, match="no official points"), id="qwen2-points"),
    ],
)
def test_single_image_instruction(family, task, expected, context):
    with context:
        assert grounding_instruction("  cake ", family, task=task) == expected


def test_empty_target_is_refused():
    with pytest.raises(ValueError, match="target must not be empty"):
        grounding_instruction("   ", "qwen2.5-vl")


def test_multi_image_instruction_maps_user_ids_to_picture_numbers():
    text = grounding_instruction("dog", "qwen2.5-vl", image_ids=["front", "back", "side"], extra="Ignore toys.")
    lines = text.splitlines()
    assert lines[0] == "Locate every dog in the images and output the bbox coordinates in JSON format."
    assert lines[1] == ("There are 3 images: Picture 1 is front, Picture 2 is back, Picture 3 is side. "
                        'Add an "image" key to every object with the number of the picture it is in (1 to 3).')
    assert lines[2] == "Ignore toys."


def test_qwen2_vl_is_asked_for_picture_prefixes_not_json_keys():
    text = image_key_instruction(["a", "b"], "qwen2-vl")
    assert 'Write "Picture N:" before every box' in text
    assert '"image" key' not in text


@pytest.mark.parametrize(
    ("ids", "context"),
    [
        pytest.param(["img1", "img2"], does_not_raise(), id="ok"),
        pytest.param(["img1", "img1"], pytest.raises(ValueError, match="used twice"), id="duplicate"),
        pytest.param(["img1", " "], pytest.raises(ValueError, match="must not be empty"), id="empty"),
    ],
)
def test_picture_numbers(ids, context):
    with context:
        assert picture_numbers(ids) == {"img1": 1, "img2": 2}


def test_messages_keep_user_order_with_and_without_labels():
    plain = build_messages(["b", "a"], "Find.")[0]["content"]
    assert plain == [{"type": "image", "image_id": "b"}, {"type": "image", "image_id": "a"}, {"type": "text", "text": "Find."}]
    labelled = build_messages(["b", "a"], "Find.", picture_labels=True)[0]["content"]
    assert [p.get("text", p.get("image_id")) for p in labelled] == ["Picture 1: ", "b", "Picture 2: ", "a", "Find."]


def test_system_message_goes_first():
    messages = build_messages(default_image_ids(1), "Find.", system="Be precise.")
    assert [m["role"] for m in messages] == ["system", "user"]
    assert GroundingTask("points") is GroundingTask.POINTS


@pytest.mark.parametrize(
    ("naming", "family", "expected"),
    [
        pytest.param("picture", "qwen2.5-vl", 'There are 2 images: Picture 1 is front, Picture 2 is back. Add an "image" key '
                     "to every object with the number of the picture it is in (1 to 2).", id="picture-json"),
        pytest.param("none", "qwen3-vl", 'There are 2 images, numbered 1 to 2 in the order given. Add an "image" key '
                     "to every object with the number of the image it is in (1 to 2).", id="none-json"),
        pytest.param("ids", "qwen2.5-vl", 'There are 2 images, each written after its name: front, back. Add an "image" '
                     'key to every object with the name of the image it is in ("front" or "back").', id="ids-json"),
        pytest.param("ids", "qwen2-vl", "There are 2 images, each written after its name: front, back. Write the name "
                     "of the image and a colon before every box.", id="ids-qwen2"),
        pytest.param("none", "qwen2-vl", 'There are 2 images, numbered 1 to 2 in the order given. Write "Image N:" '
                     "before every box, N being the number of the image it is in.", id="none-qwen2"),
    ],
)
def test_image_key_instruction_follows_the_naming(naming, family, expected):
    assert image_key_instruction(["front", "back"], family, naming) == expected


def test_ids_naming_lists_three_or_more_names_with_commas():
    text = grounding_instruction("cup", "qwen2.5-vl", image_ids=["a", "img10", "c"], naming=ImageNaming.IDS)
    assert text.splitlines()[1].endswith('with the name of the image it is in ("a", "img10", "c").')


def test_labels_count_images_across_turns_and_skip_picture_for_the_template():
    turns = [
        {"role": "user", "content": [{"type": "image", "image_id": "x"}, {"type": "text", "text": "Find."}]},
        {"role": "assistant", "content": "[]"},
        {"role": "user", "content": [{"type": "image", "image_id": "y"}, {"type": "text", "text": "Find."}]},
    ]
    texts = lambda messages: [p.get("text") for m in messages if isinstance(m["content"], list)  # noqa: E731
                              for p in m["content"] if p["type"] == "text"]
    assert texts(label_images(turns, "picture")) == ["Picture 1: ", "Find.", "Picture 2: ", "Find."]
    assert texts(label_images(turns, "ids")) == ["x: ", "Find.", "y: ", "Find."]
    assert texts(label_images(turns, "picture", skip_picture=True)) == ["Find.", "Find."]
    assert texts(label_images(turns, "none")) == ["Find.", "Find."]
    assert turns[0]["content"][0] == {"type": "image", "image_id": "x"}  # the input is not changed


@pytest.mark.parametrize(
    ("kwargs", "expected", "context"),
    [
        pytest.param({"target": "cup"}, "Locate every cup in the images and output the bbox coordinates in JSON format.",
                     does_not_raise(), id="target"),
        pytest.param({"prompt": "Find the cup."}, "Find the cup.", does_not_raise(), id="prompt"),
        pytest.param({}, None, pytest.raises(ValueError, match="either a target"), id="neither"),
        pytest.param({"target": "cup", "prompt": "x"}, None, pytest.raises(ValueError, match="either a target"), id="both"),
        pytest.param({"prompt": "  "}, None, pytest.raises(ValueError, match="prompt is empty"), id="empty-prompt"),
    ],
)
def test_request_text(kwargs, expected, context):
    with context:
        lines = request_text("qwen2.5-vl", ["a", "b"], naming="ids", **kwargs).splitlines()
        assert lines[0] == expected
        assert lines[1].startswith("There are 2 images, each written after its name: a, b.")

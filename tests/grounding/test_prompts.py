"""Grounding prompts: official phrasing per family, multi-image mapping, message layout."""

from __future__ import annotations

from contextlib import nullcontext as does_not_raise

import pytest

from grounding.prompts import (
    GroundingTask,
    build_messages,
    default_image_ids,
    grounding_instruction,
    image_key_instruction,
    picture_numbers,
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

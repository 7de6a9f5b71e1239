"""Explicit empty answers ("nothing there") versus answers the parser could not read."""

from __future__ import annotations

import pytest

from grounding import process_size
from grounding.parse import NOTHING_FOUND, parse_grounding
from grounding.prompts import grounding_instruction

IMAGE = process_size((640, 480), "qwen2.5-vl")


@pytest.mark.parametrize("text", ["[]", "```json\n[]\n```", "None", "none.", "Not present.", "[ ]", '{"objects": []}',
                                  "There is no cat in the image.", "No cats were found.", "<think>look</think>[]",
                                  "null", '"none"', "I cannot find any cat."])
def test_an_explicit_empty_answer_is_an_answer(text):
    result = parse_grounding(text, "qwen2.5-vl", IMAGE)
    assert result.empty and result.detections == () and NOTHING_FOUND not in result.warnings
    assert result.as_dict()["empty"] is True


@pytest.mark.parametrize("text", ["", "garbage", '[{"bbox_2d": [1, 2', "The cat sits on the mat near the window." * 5,
                                  "Here is the answer: blah"])
def test_unreadable_answers_stay_failures(text):
    result = parse_grounding(text, "qwen2.5-vl", IMAGE)
    assert not result.empty


def test_an_answer_with_boxes_is_never_empty():
    result = parse_grounding('none of them but [{"bbox_2d": [1, 2, 3, 4], "label": "a"}]', "qwen2.5-vl", IMAGE)
    assert result.detections and not result.empty


@pytest.mark.parametrize("family", ["qwen2-vl", "qwen2.5-vl", "qwen3-vl"])
def test_each_family_has_a_wording_that_allows_none(family):
    assert grounding_instruction("cat", family, allow_none=True) != grounding_instruction("cat", family)

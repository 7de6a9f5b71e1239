"""``workbench.api.parse_output`` (behind the app's ``/parse``): the parser's new parameters pass through."""

from __future__ import annotations

import pytest

from workbench.api import parse_output


def test_coordinate_keys_and_image_ids_pass_through():
    text = '[{"result": [500, 500], "label": "a", "image": "img10"}, {"result": [500, 500], "label": "b", "image": "front"}]'
    plain = parse_output(text, "qwen3-vl", [[640, 480], [1000, 2000]])
    assert plain["detections"] == []
    result = parse_output(text, "qwen3-vl", [[640, 480], [1000, 2000]], coordinate_keys=["result"],
                          image_ids=["front", "img10"])
    assert [(d["label"], d["image"], d["original"]) for d in result["detections"]] == [
        ("a", 2, [500.0, 1000.0]), ("b", 1, [320.0, 240.0])]


def test_bad_ids_are_a_value_error():
    with pytest.raises(ValueError, match="image_ids"):
        parse_output("[]", "qwen3-vl", [[640, 480], [1000, 2000]], image_ids=["only-one"])


def test_a_huge_output_is_cut_and_said():
    result = parse_output("(1,2)," * 500_000, "qwen2-vl", [[640, 480]])
    assert any("read the first" in w for w in result["warnings"])
    assert len(result["detections"]) <= 5_000

"""parse_grounding: every output style, geometry per image, multi-image mapping, bad arguments."""

from __future__ import annotations

import math

import pytest

from grounding import ProcessedImage, UnknownFamilyError, process_size, to_original
from grounding.parse import Detection, ParseResult, parse_grounding
from tests.grounding.parse_cases import STYLE_CASES, StyleCase, geometry


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in STYLE_CASES])
def test_style(case: StyleCase):
    image = geometry(case.family)
    result = parse_grounding(case.text, case.family, image)
    assert [(d.kind, d.label, d.model) for d in result.detections] == case.expected
    for d in result.detections:
        assert d.original == to_original(d.model, image)
        assert d.image == 1
    if case.warning:
        assert any(case.warning in w for w in result.warnings), result.warnings
    if case.attributes:
        assert case.attributes.items() <= result.detections[0].attributes.items()


def test_original_coordinates_follow_each_family():
    q25 = parse_grounding('[{"bbox_2d": [322, 238, 644, 476], "label": "cat"}]', "qwen2.5-vl",
                          process_size((640, 480), "qwen2.5-vl"))
    q3 = parse_grounding('[{"bbox_2d": [500, 500, 1000, 1000], "label": "cat"}]', "qwen3-vl",
                         process_size((640, 480), "qwen3-vl"))
    assert q25.detections[0].original == (320.0, 240.0, 640.0, 480.0)
    assert q3.detections[0].original == (320.0, 240.0, 640.0, 480.0)


def test_outside_is_flagged_in_model_space_and_kept_unclamped():
    image = process_size((640, 480), "qwen2.5-vl")  # 644 x 476
    text = '[{"bbox_2d": [0, 0, 644, 476], "label": "edge"}, {"bbox_2d": [-1, 0, 645, 476], "label": "beyond"}]'
    edge, beyond = parse_grounding(text, "qwen2.5-vl", image).detections
    assert (edge.outside, beyond.outside) == (False, True)
    assert beyond.original[0] < 0 and beyond.original[2] > 640


# --- several images ---------------------------------------------------------------------------------------------

TWO = (process_size((640, 480), "qwen3-vl"), process_size((1000, 2000), "qwen3-vl"))


def _pictures(text: str, **kwargs) -> list[tuple[str, int, tuple[float, ...]]]:
    return [(d.label, d.image, d.original) for d in parse_grounding(text, "qwen3-vl", TWO, **kwargs).detections]


def test_image_key_is_one_based_and_uses_that_images_geometry():
    text = '[{"bbox_2d": [0, 0, 500, 500], "label": "a", "image": 1}, {"bbox_2d": [0, 0, 500, 500], "label": "b", "image": 2}]'
    assert _pictures(text) == [("a", 1, (0.0, 0.0, 320.0, 240.0)), ("b", 2, (0.0, 0.0, 500.0, 1000.0))]


def test_img_idx_is_zero_based():
    text = '{"bbox_2d": [0, 0, 500, 500], "label": "b", "img_idx": 1}'
    assert _pictures(text) == [("b", 2, (0.0, 0.0, 500.0, 1000.0))]


def test_picture_n_in_the_prose_before_each_block():
    text = ('Picture 1: ```json\n[{"point_2d": [500, 500], "label": "a"}]\n```\n'
            'In Picture 2 the same:\n```json\n[{"point_2d": [500, 500], "label": "b"}]\n```')
    assert _pictures(text) == [("a", 1, (320.0, 240.0)), ("b", 2, (500.0, 1000.0))]


def test_target_image_when_the_output_does_not_say():
    assert _pictures('[{"point_2d": [500, 500], "label": "a"}]', target_image=2) == [("a", 2, (500.0, 1000.0))]


def test_an_image_key_beats_the_target_with_a_warning():
    result = parse_grounding('[{"point_2d": [500, 500], "label": "a", "image": 1}]', "qwen3-vl", TWO, target_image=2)
    assert result.detections[0].image == 1
    assert any("target is 2" in w for w in result.warnings)


def test_picture_out_of_range_falls_back_with_a_warning():
    result = parse_grounding('[{"point_2d": [500, 500], "label": "a", "image": 7}]', "qwen3-vl", TWO)
    assert result.detections[0].image == 1
    assert any("picture 7" in w for w in result.warnings)


def test_several_images_and_no_hint_warns():
    result = parse_grounding('[{"point_2d": [500, 500], "label": "a"}]', "qwen3-vl", TWO)
    assert result.detections[0].image == 1
    assert any("put on picture 1" in w for w in result.warnings)


def test_for_image_and_as_dict():
    text = '[{"point_2d": [1, 2], "label": "a", "image": 2}, {"point_2d": [3, 4], "label": "b", "image": 1}]'
    result = parse_grounding(text, "qwen3-vl", TWO)
    assert [d.label for d in result.for_image(2)] == ["a"]
    data = result.as_dict()
    assert data["detections"][0] == {"kind": "point", "label": "a", "image": 2, "model": [1.0, 2.0],
                                     "original": [1.0, 4.0], "outside": False, "attributes": {"image": 2}}


# --- bad arguments raise, bad text never does -------------------------------------------------------------------

@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        pytest.param({"family": "qwen9-vl"}, UnknownFamilyError, id="unknown-family"),
        pytest.param({"images": []}, ValueError, id="no-images"),
        pytest.param({"images": [(640, 480)]}, TypeError, id="not-processed-image"),
        pytest.param({"target_image": 2}, ValueError, id="target-out-of-range"),
        pytest.param({"text": None}, TypeError, id="text-none"),
        pytest.param({"family": "qwen3-vl"}, ValueError, id="images-sized-for-another-family"),
    ],
)
def test_bad_arguments(kwargs, error):
    arguments = {"text": "[]", "family": "qwen2.5-vl", "images": process_size((640, 480), "qwen2.5-vl"), **kwargs}
    with pytest.raises(error):
        parse_grounding(arguments.pop("text"), arguments.pop("family"), arguments.pop("images"), **arguments)


def test_result_types_are_frozen():
    result = parse_grounding('[{"point_2d": [1, 2], "label": "a"}]', "qwen3-vl", TWO[0])
    assert isinstance(result, ParseResult) and isinstance(result.detections[0], Detection)
    with pytest.raises(AttributeError):
        result.detections[0].label = "b"  # type: ignore[misc]


def test_huge_coordinates_are_skipped_not_raised():
    result = parse_grounding('[{"bbox_2d": [1e308, 0, 1e308, 10], "label": "x"}]', "qwen2.5-vl",
                             ProcessedImage((4000, 10), (28, 28), process_size((640, 480), "qwen2.5-vl").family))
    assert all(math.isfinite(v) for d in result.detections for v in d.original)
    assert result.detections == () and any("too large" in w for w in result.warnings)

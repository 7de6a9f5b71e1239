"""parse_grounding: every output style, geometry per image, multi-image mapping, bad arguments."""

from __future__ import annotations

import math

import pytest

from grounding import QWEN3_5, ProcessedImage, UnknownFamilyError, process_size, to_original
from grounding.parse import LABEL_MISSING, Detection, ParseResult, parse_grounding
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


def test_pixels_given_to_a_0_to_1000_family_suggest_checking_the_family():
    text = '[{"bbox_2d": [1098, 1304, 1576, 1900], "label": "origami"}]'  # a Qwen2.5-VL answer on a large image
    relative = parse_grounding(text, "qwen3-vl", process_size((600, 400), "qwen3-vl"))
    assert relative.warnings[0].startswith("1 detection(s) reach beyond their image (partly or wholly)")
    assert any("values above 1000, where qwen3-vl writes 0-1000" in w and "check the family" in w
               for w in relative.warnings)
    absolute = parse_grounding(text, "qwen2.5-vl", process_size((2000, 2000), "qwen2.5-vl"))
    assert absolute.warnings == ()  # pixels inside the image: nothing to say


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


# --- image IDs (answers that name images by ID are mapped by ID, never by the digits in it) -----------------------

THREE = (process_size((640, 480), "qwen3-vl"), process_size((1000, 2000), "qwen3-vl"), process_size((800, 800), "qwen3-vl"))
IDS = ("front", "img10", "img2")  # after a removal: img10 is picture 2, img2 is picture 3


def _placed(text: str, **kwargs) -> tuple[list[tuple[str, int]], tuple[str, ...]]:
    result = parse_grounding(text, "qwen3-vl", THREE, image_ids=IDS, **kwargs)
    return [(d.label, d.image) for d in result.detections], result.warnings


@pytest.mark.parametrize(
    ("image", "picture"),
    [
        pytest.param('"img10"', 2, id="id-with-digits"),
        pytest.param('"img2"', 3, id="id-whose-digits-name-another-picture"),
        pytest.param('"front"', 1, id="word-id"),
        pytest.param('"IMG10"', 2, id="id-ignoring-case"),
        pytest.param("2", 2, id="number-is-a-position"),
        pytest.param('"Picture 3"', 3, id="picture-n-is-a-position"),
        pytest.param('"3"', 3, id="numeric-string-is-a-position"),
    ],
)
def test_image_ids_map_by_id_and_numbers_by_position(image, picture):
    placed, _ = _placed(f'[{{"point_2d": [500, 500], "label": "a", "image": {image}}}]')
    assert placed == [("a", picture)]


def test_zero_based_key_with_an_id():
    assert _placed('[{"point_2d": [1, 2], "label": "a", "img_idx": "img10"}]')[0] == [("a", 2)]


def test_an_unknown_id_is_a_warning_and_lands_on_no_other_picture():
    placed, warnings = _placed('[{"point_2d": [1, 2], "label": "a", "image": "img7"}, {"point_2d": [1, 2], "label": "b", "image": 3}]')
    assert placed == [("b", 3)]
    assert any("'img7'" in w and "not one of the image IDs" in w and "skipped" in w for w in warnings), warnings


def test_an_unknown_id_goes_to_the_target_the_caller_named():
    placed, warnings = _placed('[{"point_2d": [1, 2], "label": "a", "image": "img7"}]', target_image=2)
    assert placed == [("a", 2)] and any("'img7'" in w for w in warnings)


def test_without_ids_the_old_reading_stays():
    result = parse_grounding('[{"point_2d": [1, 2], "label": "a", "image": "img2"}]', "qwen3-vl", THREE)
    assert result.detections[0].image == 2


def test_ids_written_in_the_prose():
    text = ('img10: ```json\n[{"point_2d": [1, 2], "label": "a"}]\n```\n'
            'Picture 3: ```json\n[{"point_2d": [1, 2], "label": "b"}]\n```\n'
            'img1: ```json\n[{"point_2d": [1, 2], "label": "c"}]\n```')
    placed, _ = _placed(text)
    # "img1" is no ID here: it is not read as picture 1, so "c" stays with the last mention (Picture 3)
    assert placed == [("a", 2), ("b", 3), ("c", 3)]


def test_a_plain_word_equal_to_an_id_is_not_a_mention():
    placed, warnings = _placed('The cat in front of the car:\n[{"point_2d": [1, 2], "label": "cat"}]')
    assert placed == [("cat", 1)] and any("put on picture 1" in w for w in warnings)


@pytest.mark.parametrize(
    "ids",
    [pytest.param(("a", "b"), id="too-few"), pytest.param(("a", "a", "b"), id="duplicates"),
     pytest.param(("a", "", "b"), id="empty"), pytest.param(("a", 2, "b"), id="not-a-string")],
)
def test_bad_image_ids(ids):
    with pytest.raises(ValueError):
        parse_grounding("[]", "qwen3-vl", THREE, image_ids=ids)


# --- keys the user's prompt defined -----------------------------------------------------------------------------

def test_coordinate_keys_name_extra_keys():
    text = '{"result": [500, 250]}\n{"result": [100, 200, 300, 400], "label": "cat"}'
    image = process_size((640, 480), "qwen3-vl")
    assert parse_grounding(text, "qwen3-vl", image).detections == ()
    kinds = [(d.kind, d.model) for d in parse_grounding(text, "qwen3-vl", image, coordinate_keys=("result",)).detections]
    assert kinds == [("point", (500.0, 250.0)), ("box", (100.0, 200.0, 300.0, 400.0))]
    assert parse_grounding(text, "qwen3-vl", image, coordinate_keys="result").detections  # one key as a string


def test_coordinate_keys_must_be_names():
    with pytest.raises(ValueError):
        parse_grounding("[]", "qwen3-vl", TWO[0], coordinate_keys=("",))


# --- a missing label ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "family"),
    [
        pytest.param('```json\n[{"bbox_2d": [1, 2, 3, 4]}, {"bbox_2d": [1, 2, 3, 4], "label": "cat"}]\n```', "qwen2.5-vl", id="json"),
        pytest.param("<|box_start|>(1,2),(3,4)<|box_end|><|object_ref_start|>cat<|object_ref_end|><|box_start|>(1,2),(3,4)<|box_end|>",
                     "qwen2-vl", id="tokens"),
    ],
)
def test_a_missing_label_is_kept_marked_and_said_once(text, family):
    result = parse_grounding(text, family, process_size((640, 480), family))
    unlabelled, labelled = result.detections
    assert (unlabelled.label, unlabelled.attributes.get(LABEL_MISSING), unlabelled.label_missing) == ("", True, True)
    assert LABEL_MISSING not in labelled.attributes and not labelled.label_missing
    assert [w for w in result.warnings if LABEL_MISSING in w] == [
        "1 detection(s) have no label: kept with the attribute label_missing=true (name them, e.g. after the prompt's target)"]


# --- issue 22: thinking answers, labels that copy the question -------------------------------------------------

ANSWER = '```json\n[{"bbox_2d": [10, 20, 110, 120], "label": "cat"}]\n```'


@pytest.mark.parametrize(
    ("text", "reasoning"),
    [
        pytest.param("<think>\nThe cat is left, near [1, 2, 3, 4].\n</think>\n\n" + ANSWER,
                     "The cat is left, near [1, 2, 3, 4].", id="think-block"),
        pytest.param("The cat is left, near [1, 2, 3, 4].\n</think>\n\n" + ANSWER,
                     "The cat is left, near [1, 2, 3, 4].", id="closing-tag-only"),
        pytest.param("<think>Hmm, (1, 2, 3, 4)?</think><answer>" + ANSWER + "</answer>", "Hmm, (1, 2, 3, 4)?",
                     id="answer-tags"),
        pytest.param("Looking closely, the cat spans about (1, 2, 3, 4).\nFinal answer:\n" + ANSWER,
                     "Looking closely, the cat spans about (1, 2, 3, 4).", id="final-answer-line"),
        pytest.param(ANSWER, "", id="no-reasoning"),
    ],
)
def test_reasoning_is_kept_and_the_final_answer_wins(text, reasoning):
    result = parse_grounding(text, "qwen3.5", geometry("qwen3.5"))
    assert [(d.label, d.model) for d in result.detections] == [("cat", (10.0, 20.0, 110.0, 120.0))]
    assert result.reasoning == reasoning
    assert ("reasoning" in result.as_dict()) == bool(reasoning)


def test_output_cut_inside_the_reasoning_keeps_it_and_says_so():
    result = parse_grounding("<think>The cat is near [10, 20, 110, 120], but let me", "qwen3.5", geometry("qwen3.5"))
    assert result.reasoning.startswith("The cat is near")
    assert any("stops inside <think>" in w for w in result.warnings)


def test_a_label_that_copies_the_prompt_is_set_aside():
    prompt = "Find the small red square in the top left corner."
    text = '[{"bbox_2d": [10, 20, 110, 120], "label": "the small red square in the top left corner"}]'
    (detection,) = parse_grounding(text, "qwen3-vl", geometry("qwen3-vl"), prompt=prompt).detections
    assert detection.label == "" and detection.label_missing
    assert detection.attributes["copied_label"] == "the small red square in the top left corner"
    kept = parse_grounding(text, "qwen3-vl", geometry("qwen3-vl")).detections[0]  # no prompt: a fine label
    assert kept.label == "the small red square in the top left corner"


def test_y_first_convention_reads_x_first():
    image = process_size((2000, 1000), QWEN3_5.with_convention("relative-1000-yx"))
    (detection,) = parse_grounding('[{"bbox_2d": [20, 10, 120, 110], "label": "cat"}]', image.family, image).detections
    assert detection.model == (10.0, 20.0, 110.0, 120.0)
    assert detection.original == (20.0, 20.0, 220.0, 120.0)


def test_an_assumed_convention_is_said_in_every_parse():
    image = process_size((640, 480), "exaone-4.5")
    result = parse_grounding('[{"bbox_2d": [10, 20, 110, 120], "label": "cat"}]', "exaone-4.5", image)
    assert any("convention is not documented" in w and "probe-convention" in w for w in result.warnings)

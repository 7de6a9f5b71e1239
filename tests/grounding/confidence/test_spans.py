"""Digits mapped to boxes: each detection's coordinates found in the answer, when several boxes and labels share
a line, labels hold numbers, corners are written swapped, boxes repeat, or drafts come first."""

from __future__ import annotations

import pytest

from grounding import process_size
from grounding.confidence.spans import coordinate_spans, number_spans
from grounding.parse import parse_grounding

QWEN25 = process_size((1000, 800), "qwen2.5-vl")
QWEN2 = process_size((1000, 800), "qwen2-vl")

CASES = [
    pytest.param('[{"bbox_2d": [10, 20, 30, 40], "label": "car 2"}, {"bbox_2d": [2, 40, 30, 10], "label": "car 3"}, '
                 '{"bbox_2d": [10, 20, 30, 40], "label": "car 2"}]', "qwen2.5-vl", QWEN25,
                 [[10, 20, 30, 40], [2, 10, 30, 40], [10, 20, 30, 40]], id="json-one-line-numbers-in-labels-swapped-repeat"),
    pytest.param('<|object_ref_start|>cup 1<|object_ref_end|><|box_start|>(100,200),(300,400)<|box_end|> and '
                 '<|object_ref_start|>cup 2<|object_ref_end|><|box_start|>(300,400),(500,600)<|box_end|>', "qwen2-vl",
                 QWEN2, [[100, 200, 300, 400], [300, 400, 500, 600]], id="qwen2-tokens-shared-values"),
    pytest.param('<think>maybe [10, 20, 30, 40]</think>[{"bbox_2d": [10, 20, 30, 40], "label": "a"}]', "qwen2.5-vl",
                 QWEN25, [[10, 20, 30, 40]], id="think-draft-skipped"),
    pytest.param('<points x1="120" y1="80" alt="cup">cup</points> <points x1="12" y1="8" alt="cup 120">cup</points>',
                 "qwen2.5-vl", QWEN25, [[120, 80], [12, 8]], id="point-tags-names-with-digits"),
    pytest.param('10,20,30,40 cat 5\n50,60,70,80 dog', "qwen2.5-vl", QWEN25, [[10, 20, 30, 40], [50, 60, 70, 80]],
                 id="plain-lines"),
    pytest.param('[{"bbox_2d": [1.5, 20, 3e1, 40], "label": "x"}]', "qwen2.5-vl", QWEN25, [[1.5, 20, 30, 40]],
                 id="decimals-exponents"),
]


@pytest.mark.parametrize(("text", "family", "image", "expected"), CASES)
def test_each_detection_gets_its_own_digits(text, family, image, expected):
    detections = parse_grounding(text, family, image).detections
    assert [list(d.model) for d in detections] == expected
    spans = coordinate_spans(text, detections)
    assert all(s is not None for s in spans)
    for detection, found in zip(detections, spans):
        assert [float(text[a:b]) for a, b in found] == list(detection.model)
    flat = [span for found in spans for span in found]
    assert len(set(flat)) == len(flat), "two detections share digits"
    firsts = [min(found)[0] for found in spans]
    assert firsts == sorted(firsts), "detections are found in the order written"


def test_swapped_corners_map_back_to_model_order():
    text = '[{"bbox_2d": [300, 400, 100, 200], "label": "a"}]'
    (detection,) = parse_grounding(text, "qwen2.5-vl", QWEN25).detections
    (found,) = coordinate_spans(text, detection and [detection])
    assert [text[a:b] for a, b in found] == ["100", "200", "300", "400"]
    assert found[0][0] > found[2][0]  # x1 (100) was written after x2 (300)


def test_several_images_keep_their_order():
    images = [process_size((640, 480), "qwen2.5-vl"), process_size((320, 240), "qwen2.5-vl")]
    text = ('[{"bbox_2d": [1, 2, 3, 4], "label": "a", "image": 2}, {"bbox_2d": [1, 2, 3, 4], "label": "a", "image": 1}]')
    detections = parse_grounding(text, "qwen2.5-vl", images).detections
    spans = coordinate_spans(text, detections)
    assert spans[0][0][0] < spans[1][0][0]


def test_names_holding_digits_are_not_numbers():
    assert [text for text in ("bbox_2d", "x1", "img10")
            if number_spans(f'"{text}": 5')[0][2] != 5.0] == []


def test_missing_or_quad_detections_get_none():
    from grounding.parse import Detection

    text = '[{"bbox_2d": [1, 2, 3, 4], "label": "a"}]'
    absent = Detection("box", "b", 1, (7.0, 8.0, 9.0, 10.0), (7.0, 8.0, 9.0, 10.0), False)
    quad = Detection("box", "q", 1, (1.0, 2.0, 3.0, 4.0), (1.0, 2.0, 3.0, 4.0), False, {"quad": [[1, 2]] * 4})
    assert coordinate_spans(text, [absent, quad]) == [None, None]

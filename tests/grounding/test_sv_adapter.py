"""to_sv_detections: one picture's detections as sv.Detections, class ids stable per label."""

from __future__ import annotations

import numpy as np
import pytest

from grounding import process_size
from grounding.parse import parse_grounding
from grounding.sv_adapter import class_ids, to_sv_detections

TWO = (process_size((640, 480), "qwen3-vl"), process_size((1000, 2000), "qwen3-vl"))
TEXT = ('[{"bbox_2d": [0, 0, 500, 500], "label": "cat", "image": 1, "confidence": 0.5},'
        ' {"bbox_2d": [500, 500, 1100, 1000], "label": "dog", "image": 2, "confidence": 0.9},'
        ' {"point_2d": [250, 250], "label": "cat", "image": 2, "confidence": "0.7"}]')


def test_one_picture_with_stable_class_ids():
    result = parse_grounding(TEXT, "qwen3-vl", TWO)
    second = to_sv_detections(result.detections, 2)
    assert second.xyxy.tolist() == [[500.0, 1000.0, 1100.0, 2000.0], [250.0, 500.0, 250.0, 500.0]]
    assert second.class_id.tolist() == [1, 0]  # "cat" is 0 everywhere: first seen on picture 1
    assert second.data["class_name"].tolist() == ["dog", "cat"]
    assert second.data["kind"].tolist() == ["box", "point"]
    assert second.data["outside"].tolist() == [True, False]
    assert second.confidence.tolist() == [0.9, 0.7]


def test_clamp_for_drawing():
    result = parse_grounding(TEXT, "qwen3-vl", TWO)
    clamped = to_sv_detections(result.detections, 2, clamp_wh=(1000, 2000))
    assert clamped.xyxy[0].tolist() == [500.0, 1000.0, 1000.0, 2000.0]


def test_given_classes_fix_the_ids():
    result = parse_grounding(TEXT, "qwen3-vl", TWO)
    assert to_sv_detections(result.detections, 1, classes=["dog", "cat"]).class_id.tolist() == [1]
    assert class_ids(result.detections, ["bird"]) == {"bird": 0, "cat": 1, "dog": 2}


def test_empty_picture_is_empty_not_none():
    result = parse_grounding("no boxes", "qwen3-vl", TWO)
    empty = to_sv_detections(result.detections, 1)
    assert empty.xyxy.shape == (0, 4) and empty.class_id.shape == (0,) and empty.data["class_name"].shape == (0,)
    assert empty.confidence is None and len(empty) == 0


def test_picture_numbers_are_one_based():
    with pytest.raises(ValueError):
        to_sv_detections([], 0)


def test_round_trip_into_supervision_tools():
    import supervision as sv

    result = parse_grounding(TEXT, "qwen3-vl", TWO)
    detections = to_sv_detections(result.detections, 2)
    assert np.allclose(sv.Detections.merge([detections, detections]).xyxy[2:], detections.xyxy)


def test_parser_drawing_and_adapter_stay_free_of_torch_and_gradio():
    import subprocess
    import sys

    code = ("import sys, grounding.parse, grounding.draw, grounding.sv_adapter; "
            "print(sorted(m for m in ('torch', 'torchvision', 'gradio') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"

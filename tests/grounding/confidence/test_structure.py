"""Structure signals: duplicates, overlaps, the border, loops, truncated answers."""

from __future__ import annotations

from grounding import process_size
from grounding.confidence import box_signals, raw_score, repeating_tail
from grounding.parse import parse_grounding

IMAGE = process_size((644, 476), "qwen2.5-vl")


def signals(text, finish_reason="stop"):
    detections = parse_grounding(text, "qwen2.5-vl", IMAGE).detections
    return box_signals(text, detections, [IMAGE], finish_reason=finish_reason)


def test_a_loop_of_the_same_object_is_flagged_on_every_box():
    text = "[" + ", ".join(['{"bbox_2d": [10, 10, 50, 50], "label": "cup"}'] * 5) + "]"
    found = signals(text)
    assert all(s["loop"] for s in found)
    assert [s["duplicate"] for s in found] == [False, True, True, True, True]
    assert raw_score(found[1]) < raw_score(found[0])


def test_different_labels_are_no_duplicates():
    found = signals('[{"bbox_2d": [10, 10, 50, 50], "label": "cup"}, {"bbox_2d": [10, 10, 50, 50], "label": "mug"}]')
    assert [s["duplicate"] for s in found] == [False, False] and not found[0]["loop"]


def test_a_truncated_answer_marks_its_last_box():
    text = ('[{"bbox_2d": [10, 10, 50, 50], "label": "cup"}, {"bbox_2d": [60, 60, 90, 90], "label": "cup"}, '
            '{"bbox_2d": [100, 100, 150, 15')
    found = signals(text, finish_reason="length")
    assert [s["last_cut"] for s in found] == [False, True]
    assert all(s["truncated"] for s in found)
    assert [s["last_cut"] for s in signals(text)] == [False, False]


def test_border_and_area():
    first, second = signals('[{"bbox_2d": [0, 10, 50, 50], "label": "a"}, {"bbox_2d": [100, 100, 200, 200], "label": "a"}]')
    assert first["border"] and not second["border"]
    assert second["area"] == round(100 * 100 / (644 * 476), 6)


def test_repeating_tail():
    assert not repeating_tail('[{"bbox_2d": [1, 2, 3, 4], "label": "a"}]')
    assert repeating_tail("the cat " * 10)

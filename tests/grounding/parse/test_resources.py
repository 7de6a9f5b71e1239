"""Resources: time linear in the text, a size limit, bounded detections, warnings, labels and attributes.

Time is compared, never limited: one text of 8n characters against eight texts of n characters
(the same amount of text), measured in the same test. Linear parsing takes about as long for
both; a quadratic path takes about 8 times as long for the single long text.
"""

from __future__ import annotations

import json
import time

import pytest

from grounding import process_size
from grounding.parse import (
    MAX_DETECTIONS,
    MAX_LABEL_CHARS,
    MAX_OUTPUT_CHARS,
    MAX_WARNINGS,
    parse_grounding,
)
from tests.grounding.mutations import ADVERSARIAL, check_result

IMAGE = process_size((640, 480), "qwen2.5-vl")
TWO = (IMAGE, process_size((300, 1200), "qwen2.5-vl"))


def _best(texts: list[str], images, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for text in texts:
            parse_grounding(text, IMAGE.family, images)
        best = min(best, time.perf_counter() - start)
    return best


def one_long_over_eight_short(make, n: int, images=TWO) -> float:
    """Time for one text of 8n characters over time for eight of n (about 1 when linear, 8 when quadratic)."""
    short, long = [make(n)] * 8, [make(8 * n)]
    _best(short, images, 1)  # warm up
    ratios = []
    for _ in range(2):  # interleaved, so a burst of load on the machine hits both sides
        ratios.append(_best(long, images) / _best(short, images))
    return min(ratios)


@pytest.mark.parametrize("name", ["{[] repeated", "(1,2), repeated"])
def test_the_reported_inputs_take_linear_time(name):
    assert one_long_over_eight_short(ADVERSARIAL[name], 4_000) < 3.0


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_adversarial_inputs_take_linear_time(name):
    ratio = one_long_over_eight_short(ADVERSARIAL[name], 8_000)
    assert ratio < 3.0, f"{name}: one text of 64k characters took {ratio:.1f}x eight of 8k"


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_adversarial_inputs_never_raise(name):
    check_result(parse_grounding(ADVERSARIAL[name](20_000), IMAGE.family, TWO), TWO)


def test_text_beyond_the_limit_is_cut_with_a_warning():
    text = " " * MAX_OUTPUT_CHARS + '[{"point_2d": [1, 2], "label": "late"}]'
    result = parse_grounding(text, IMAGE.family, IMAGE)
    assert result.detections == ()
    assert any(f"read the first {MAX_OUTPUT_CHARS:,}" in w for w in result.warnings), result.warnings
    small = parse_grounding('[{"point_2d": [1, 2], "label": "a"}] [{"point_2d": [3, 4], "label": "b"}]', IMAGE.family,
                            IMAGE, max_chars=40)
    assert [d.label for d in small.detections] == ["a"]


def test_ten_megabytes_of_pairs_give_a_bounded_answer():
    result = parse_grounding("(1,2)," * 1_750_000, IMAGE.family, IMAGE)
    assert len(result.detections) <= MAX_DETECTIONS
    assert len(json.dumps(result.as_dict())) < 2_000_000
    assert any("read the first" in w for w in result.warnings)


def test_detections_beyond_the_bound_are_dropped_with_a_warning():
    text = "(1,2),(3,4)\n" * 50
    result = parse_grounding(text, IMAGE.family, IMAGE, max_detections=10)
    assert len(result.detections) == 10
    assert any("kept the first 10" in w for w in result.warnings)
    fast = parse_grounding('[' + ', '.join(['{"point_2d": [1, 2], "label": "a"}'] * 50) + ']', IMAGE.family, IMAGE,
                           max_detections=10)
    assert len(fast.detections) == 10 and any("kept the first 10" in w for w in fast.warnings)


def test_warnings_are_bounded():
    text = "[" + ", ".join(f'{{"bbox_2d": "x{i}", "label": "a"}}' for i in range(400)) + "]"
    warnings = parse_grounding(text, IMAGE.family, IMAGE).warnings
    assert len(warnings) == MAX_WARNINGS and warnings[-1].endswith("more warnings")


def test_long_labels_are_cut():
    result = parse_grounding(f'[{{"point_2d": [1, 2], "label": "{"x" * 5000}"}}]', IMAGE.family, IMAGE)
    assert result.detections[0].label == "x" * MAX_LABEL_CHARS + "…"
    assert any("were cut" in w for w in result.warnings)


def test_large_extra_keys_are_not_copied_onto_thousands_of_boxes():
    text = json.dumps({"bboxes": [[1, 2, 3, 4]] * 3000, "label": "a", "note": "n" * 50_000})
    result = parse_grounding(text, IMAGE.family, IMAGE)
    assert len(result.detections) == 3000
    assert result.detections[0].attributes["note"] == "n" * 50_000
    assert all("note" not in d.attributes for d in result.detections[1:])
    assert len(json.dumps(result.as_dict())) < 1_000_000


def test_json_repair_takes_a_bounded_number_of_characters(monkeypatch):
    """json-repair's time grows faster than the square of some inputs: it never sees more than its share."""
    import grounding.parse.json_style as json_style

    handed: list[int] = []
    real = json_style.json_repair.loads

    def counting(source, *args, **kwargs):
        handed.append(len(source))
        return real(source, *args, **kwargs)

    monkeypatch.setattr(json_style.json_repair, "loads", counting)
    for name, make in ADVERSARIAL.items():
        for size in (500, 1_400, 4_000, 30_000):
            handed.clear()
            parse_grounding(make(size), IMAGE.family, TWO)
            assert sum(handed) <= json_style.MAX_REPAIR_CHARS, (name, size, handed)


def test_a_long_malformed_list_is_read_without_json_repair(monkeypatch):
    import grounding.parse.json_style as json_style

    monkeypatch.setattr(json_style.json_repair, "loads", lambda *a, **k: pytest.fail("json-repair was called"))
    objects = [f'{{"bbox_2d": [{i}, 2, 30, 40], "label": "a"}}' for i in range(80)]
    objects.insert(40, "{")  # a stray brace, as in the corpus's anime case
    result = parse_grounding("[" + ",\n".join(objects) + "]", IMAGE.family, IMAGE)
    assert len(result.detections) == 80
    assert any("repaired malformed JSON" in w for w in result.warnings)

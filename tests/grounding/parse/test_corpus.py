"""The real corpus (../shared/reference/qwen-outputs): every case with ``expected`` is matched exactly.

Families: a case's ``model`` starts with its family; Qwen-VL v1 (``<ref><box>``) writes 0-1000
coordinates like Qwen2-VL, so it is read as qwen2-vl. Sizes come from the case (``resized_wh`` is
what the model saw, e.g. supervision's 640x640 vectors); without sizes a 1000x1000 stand-in is used.
Expected Qwen2.5-VL values are round-half-up integers; 0-1000 values have two decimals.
"""

from __future__ import annotations

import pytest

from grounding import (
    ModelFamily,
    PixelLimits,
    ProcessedImage,
    process_size,
    round_half_up,
)
from grounding.parse import parse_grounding
from grounding.parse.objects import clean_label

FAMILY_OF_MODEL = {"qwen2.5-vl": "qwen2.5-vl", "qwen3-vl": "qwen3-vl", "qwen2-vl": "qwen2-vl", "qwen-vl": "qwen2-vl"}


def case_family(case: dict) -> ModelFamily:
    return ModelFamily.from_name(FAMILY_OF_MODEL[case["model"].split(" ")[0]])


def case_geometry(case: dict) -> ProcessedImage:
    family = case_family(case)
    if case["original_wh"] is None:
        return process_size((1000, 1000), family)
    if case["resized_wh"]:
        return ProcessedImage(tuple(case["original_wh"]), tuple(case["resized_wh"]), family)
    limits = PixelLimits(case["min_pixels"], case["max_pixels"]) if case["min_pixels"] else None
    return process_size(tuple(case["original_wh"]), family, limits)


def _matches(expected: list[float], got: tuple[float, ...]) -> bool:
    if all(isinstance(v, int) for v in expected):
        return [round_half_up(v) for v in got] == expected
    return all(abs(e - g) <= 0.0051 for e, g in zip(expected, got, strict=True))


def test_every_expected_case_is_matched(corpus):
    checked = 0
    for case in corpus:
        if not case["expected"]:
            continue
        result = parse_grounding(case["raw_output"], case_family(case), case_geometry(case))
        got = result.detections
        assert len(got) == len(case["expected"]), (case["id"], result.warnings)
        for expected, detection in zip(case["expected"], got):
            key = "bbox_original" if "bbox_original" in expected else "point_original"
            assert detection.kind == ("box" if key == "bbox_original" else "point"), case["id"]
            assert detection.label == expected["label"], case["id"]
            assert _matches(expected[key], detection.original), (case["id"], expected, detection.original)
        checked += 1
    assert checked == sum(1 for c in corpus if c["expected"]) >= 29


def test_model_space_coordinates_are_kept_as_written(corpus):
    for case in corpus:
        if not case.get("expected_model_space"):
            continue
        got = parse_grounding(case["raw_output"], case_family(case), case_geometry(case)).detections
        written = [tuple(float(v) for v in e.get("bbox") or e.get("point")) for e in case["expected_model_space"]]
        assert [d.model for d in got] == written, case["id"]
        # model-space labels are verbatim (' Woman', '"击掌"'); ours are trimmed of spaces and quotes
        assert [d.label for d in got] == [clean_label(e["label"]) for e in case["expected_model_space"]], case["id"]


@pytest.mark.parametrize(
    ("case_id", "count", "warning"),
    [
        pytest.param("supervision-qwen25-01-no-snippet", 0, "no boxes or points", id="no-snippet"),
        pytest.param("supervision-qwen25-02-invalid-JSON", 0, "no boxes or points", id="invalid-json"),
        pytest.param("supervision-qwen25-03-empty-list", 0, None, id="empty-list"),  # an explicit empty answer
        pytest.param("supervision-qwen25-04-missing-keys", 2, "without coordinates", id="missing-keys-kept-unlabelled"),
        pytest.param("q3-cookbook-omni-anime-malformed", 9, "repaired malformed JSON", id="stray-brace-all-nine"),
        pytest.param("supervision-qwen25-10-truncated-response", 2, "stops inside", id="truncated"),
    ],
)
def test_cases_without_or_with_special_expectations(corpus, case_id, count, warning):
    case = next(c for c in corpus if c["id"] == case_id)
    result = parse_grounding(case["raw_output"], case_family(case), case_geometry(case))
    assert len(result.detections) == count
    if warning is None:  # the model said there is nothing: an answer, not a failure
        assert result.empty and not result.warnings
        return
    assert any(warning in w for w in result.warnings), result.warnings


def test_attributes_keep_the_extra_keys(corpus):
    food = next(c for c in corpus if c["id"] == "q3-cookbook-omni-food")
    first = parse_grounding(food["raw_output"], case_family(food), case_geometry(food)).detections[0]
    assert first.attributes == {"name_zh": "米饭", "name_en": "Rice"}
    ocr = next(c for c in corpus if c["id"] == "q25-cookbook-ocr-text-spotting")
    first = parse_grounding(ocr["raw_output"], case_family(ocr), case_geometry(ocr)).detections[0]
    assert first.attributes == {"text_content": "UNIHAKKA INTERNATIONAL SDN BHD"}

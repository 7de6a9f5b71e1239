"""The qwen-vl-utils double-resize pitfall, checked against the real qwen-vl-utils + processor pipeline."""

from __future__ import annotations

import random

import pytest

from grounding import (
    FAMILIES,
    GeometryError,
    PixelLimits,
    check_double_resize,
    process_size,
)
from grounding.double_resize import (
    qwen_vl_utils_default_limits,
    qwen_vl_utils_resize_wh,
)

BUDGET = PixelLimits(256 * 28 * 28, 256 * 28 * 28)


def test_cookbook_1920x1080_is_resized_twice_to_the_same_grid():
    report = check_double_resize((1920, 1080), "qwen2.5-vl", PixelLimits(3136, 1280 * 28 * 28))
    assert report.pre_resized_wh == (1932, 1092)
    assert report.final_wh == (1316, 728) and report.final_grid_thw == (1, 52, 94)
    assert report.resized_twice and not report.grid_differs and not report.overshoots_budget


def test_matching_limits_resize_once():
    limits = PixelLimits(3136, 256 * 28 * 28)
    report = check_double_resize((1000, 700), "qwen2.5-vl", limits, limits)
    assert not report.resized_twice and not report.grid_differs
    assert "resized once" in report.message()


def test_fixed_token_budget_is_overshot():
    report = check_double_resize((308, 1094), "qwen2.5-vl", BUDGET, BUDGET)
    assert report.pre_resized_wh == (224, 840)
    assert report.final_wh == (252, 868) and report.direct.resized_wh == (224, 840)
    assert report.final.tokens == 279 > 256 >= report.direct.tokens
    assert report.grid_differs and report.overshoots_budget
    assert "exceed the budget" in report.message()


def test_thin_image_gets_a_zero_side_in_qwen_vl_utils_only():
    report = check_double_resize((6000, 30), "qwen2-vl", PixelLimits(3136, 1280 * 28 * 28),
                                 PixelLimits(3136, 128 * 28 * 28))
    assert report.pre_resized_wh == (4480, 0)
    assert report.final is None and "zero size" in report.error
    assert report.direct.resized_wh == (5992, 28)  # transformers keeps one row of patches
    with pytest.raises(GeometryError):
        process_size(report.pre_resized_wh, "qwen2-vl")


def test_defaults_follow_the_family_factor():
    assert qwen_vl_utils_default_limits("qwen3-vl") == PixelLimits(4 * 32 * 32, 16384 * 32 * 32)


def test_loaded_rule_equals_imported_qwen_vl_utils():
    qwen_vl_utils = pytest.importorskip("qwen_vl_utils")
    rng = random.Random(7)
    for _ in range(3000):
        w, h = rng.randint(1, 9000), rng.randint(1, 9000)
        if max(w, h) / min(w, h) > 200:
            continue
        factor = rng.choice([28, 32])
        low = rng.choice([784, 3136, 200704])
        limits = PixelLimits(low, rng.choice([low, 50176 * 4, 1003520, 12845056]) if low <= 50176 * 4 else low)
        expected_h, expected_w = qwen_vl_utils.smart_resize(h, w, factor, limits.min_pixels, limits.max_pixels)
        assert qwen_vl_utils_resize_wh((w, h), factor=factor, limits=limits) == (expected_w, expected_h)


@pytest.mark.parametrize(
    ("size", "processor_limits", "vlu_limits"),
    [
        pytest.param((1920, 1080), PixelLimits(3136, 1280 * 28 * 28), None, id="cookbook"),
        pytest.param((308, 1094), BUDGET, BUDGET, id="budget-overshoot"),
        pytest.param((600, 2381), BUDGET, None, id="grid-differs"),
        pytest.param((640, 480), None, None, id="defaults"),
    ],
)
@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_report_matches_the_real_pipeline(size, processor_limits, vlu_limits, family):
    """qwen_vl_utils.fetch_image, then the real image processor: the report predicts both sizes."""
    qwen_vl_utils = pytest.importorskip("qwen_vl_utils")
    from PIL import Image
    from transformers import Qwen2VLImageProcessor

    from tests.factories import make_image

    processor_limits = processor_limits or PixelLimits.default_for(family)
    report = check_double_resize(size, family, processor_limits, vlu_limits)
    element = {"image": make_image(*size)}
    if vlu_limits:
        element.update(min_pixels=vlu_limits.min_pixels, max_pixels=vlu_limits.max_pixels)
    fetched: Image.Image = qwen_vl_utils.fetch_image(element, image_patch_size=family.patch_size)
    assert fetched.size == report.pre_resized_wh
    processor = Qwen2VLImageProcessor(patch_size=family.patch_size, merge_size=family.merge_size,
                                      size=processor_limits.as_processor_size())
    grid = processor(images=[fetched], return_tensors="pt")["image_grid_thw"].tolist()[0]
    assert tuple(grid) == report.final_grid_thw

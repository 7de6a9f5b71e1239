"""Geometry: transformers' resize rule, image_grid_thw and visual tokens, from the header alone."""

from __future__ import annotations

import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grounding import (
    FAMILIES,
    QWEN2_5_VL,
    GeometryError,
    PixelLimits,
    from_grid_thw,
    process_size,
    smart_resize_wh,
)
from tests.budget import examples

LIMITS_PER_FAMILY = {
    # checkpoint defaults, the transformers class default (cookbook 1280*28^2), small budgets,
    # and a fixed token budget (min == max)
    family.name: [
        PixelLimits.default_for(family),
        PixelLimits(56 * 56, 1280 * 28 * 28),
        PixelLimits(784, 50176),
        PixelLimits(256 * family.factor**2, 256 * family.factor**2),
        PixelLimits(4 * family.factor**2, 768 * 768),
    ]
    for family in FAMILIES
}


@pytest.mark.parametrize(
    ("family", "original", "limits", "resized", "grid", "tokens"),
    [
        pytest.param("qwen2.5-vl", (640, 480), None, (644, 476), (1, 34, 46), 391, id="640x480-defaults"),
        pytest.param("qwen2.5-vl", (1920, 1080), PixelLimits(3136, 1280 * 28 * 28), (1316, 728), (1, 52, 94), 1222,
                     id="1920x1080-cookbook-max"),
        pytest.param("qwen2.5-vl", (50, 40), None, (84, 56), (1, 4, 6), 6, id="50x40-upscaled"),
        pytest.param("qwen3-vl", (640, 480), None, (640, 480), (1, 30, 40), 300, id="qwen3-640x480"),
        pytest.param("qwen2-vl", (6000, 30), PixelLimits(3136, 128 * 28 * 28), (4480, 28), (1, 2, 320), 160,
                     id="thin-image-keeps-one-row"),
    ],
)
def test_worked_values(family, original, limits, resized, grid, tokens):
    image = process_size(original, family, limits)
    assert (image.resized_wh, image.grid_thw, image.tokens) == (resized, grid, tokens)


@pytest.mark.parametrize(
    ("size", "message"),
    [
        pytest.param((0, 100), "zero size", id="zero-width"),
        pytest.param((100, 0), "zero size", id="zero-height"),
        pytest.param((201, 1), "aspect ratio 201.0", id="aspect-201"),
        pytest.param((1, 20000), "over 200", id="aspect-20000-portrait"),
    ],
)
def test_sizes_the_model_refuses(size, message):
    with pytest.raises(GeometryError, match=message):
        process_size(size, "qwen2.5-vl")


def test_aspect_ratio_200_is_still_accepted():
    assert process_size((5600, 28), "qwen2.5-vl").grid_thw == (1, 2, 400)


@pytest.mark.parametrize(
    ("low", "high"), [pytest.param(0, 10, id="zero"), pytest.param(100, 10, id="min-above-max")]
)
def test_bad_limits(low, high):
    with pytest.raises(GeometryError):
        PixelLimits(low, high)


def test_grounding_does_not_import_torch_or_gradio():
    import subprocess

    code = "import grounding, sys; grounding.process_size((640, 480), 'qwen3-vl'); " \
           "print(sorted(m for m in ('torch', 'torchvision', 'gradio') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_from_grid_thw_is_the_size_the_model_saw():
    image = from_grid_thw((640, 480), [1, 34, 46], QWEN2_5_VL)
    assert image == process_size((640, 480), QWEN2_5_VL)
    with pytest.raises(GeometryError):
        from_grid_thw((640, 480), [1, 0, 46], QWEN2_5_VL)


# --- the rule equals transformers' own smart_resize, imported the normal way -----------------------------------

sizes = st.one_of(
    st.tuples(st.integers(1, 8000), st.integers(1, 8000)),           # anything
    st.tuples(st.integers(1, 64), st.integers(1, 64)),               # tiny
    st.integers(1, 60).flatmap(lambda short: st.tuples(               # extreme aspect ratios near 200
        st.just(short), st.integers(short * 150, short * 200))),
    st.tuples(st.integers(2000, 20000), st.integers(2000, 20000)),   # huge
)


@settings(max_examples=examples(3000), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(size=sizes, family=st.sampled_from(FAMILIES), limit_index=st.integers(0, 4), transpose=st.booleans())
def test_rule_matches_transformers_smart_resize(size, family, limit_index, transpose):
    from transformers.models.qwen2_vl.image_processing_qwen2_vl import smart_resize

    w, h = size[::-1] if transpose else size
    limits = LIMITS_PER_FAMILY[family.name][limit_index]
    try:
        expected_h, expected_w = smart_resize(h, w, family.factor, limits.min_pixels, limits.max_pixels)
    except ValueError:
        with pytest.raises(GeometryError):
            process_size((w, h), family, limits)
        return
    image = process_size((w, h), family, limits)
    assert image.resized_wh == (expected_w, expected_h)
    rw, rh = image.resized_wh
    assert rw % family.factor == 0 and rh % family.factor == 0
    assert image.grid_thw == (1, rh // family.patch_size, rw // family.patch_size)
    assert image.tokens * family.merge_size**2 == rh * rw // family.patch_size**2
    # No area invariant here on purpose: the max(f, .) guard exceeds max_pixels on thin images, and with
    # min == max the ceil in the upscale branch exceeds it on small ones (1x2 -> 644x336 for 200704).


def test_smart_resize_wh_is_width_first():
    assert smart_resize_wh((1000, 100), factor=28, min_pixels=3136, max_pixels=12845056) == (1008, 112)

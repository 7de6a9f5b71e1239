"""Coordinate transforms between model space and original pixels, both directions, every family."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grounding import (
    FAMILIES,
    GeometryError,
    PixelLimits,
    clamp_to,
    is_outside,
    order_corners,
    process_size,
    round_half_up,
    to_model,
    to_original,
)
from tests.budget import examples


def test_official_qwen2_vl_conversion_of_the_coco_bowl():
    # Qwen2-VL docs: 640x428 image, bowl [146, 137, 615, 415] in pixels -> [228, 320, 961, 970] on 0-1000.
    image = process_size((640, 428), "qwen2-vl")
    assert [round_half_up(v) for v in to_model((146, 137, 615, 415), image)] == [228, 320, 961, 970]


def test_qwen25_absolute_coordinates_of_the_resized_image():
    image = process_size((640, 480), "qwen2.5-vl")  # the model sees 644 x 476
    assert image.resized_wh == (644, 476)
    assert to_original((644, 476), image) == (640.0, 480.0)
    assert to_model((640, 480), image) == (644.0, 476.0)
    assert to_model((0, 0, 320, 240), image) == (0.0, 0.0, 322.0, 238.0)


@pytest.mark.parametrize("family", ["qwen2-vl", "qwen3-vl"])
def test_relative_families_use_0_to_1000(family):
    image = process_size((2048, 1365), family)
    assert to_original((536, 509, 588, 602), image) == pytest.approx((1097.728, 694.785, 1204.224, 821.73))
    assert to_original((1000, 1000), image) == (2048.0, 1365.0)


def test_qwen25_on_a_downscaled_image():
    image = process_size((4032, 3024), "qwen2.5-vl", PixelLimits(3136, 1280 * 28 * 28))
    assert image.resized_wh == (1148, 840)  # floor(3024/3.4857/28)*28
    x1, y1, x2, y2 = to_original((574, 420, 1148, 840), image)
    assert (x1, y1, x2, y2) == pytest.approx((2016.0, 1512.0, 4032.0, 3024.0))


def test_corner_order_is_fixed_and_clamping_is_optional():
    image = process_size((640, 480), "qwen2.5-vl")
    assert to_original((300, 200, 100, 50), image) == to_original((100, 50, 300, 200), image)
    outside = to_original((-10, 20, 700, 500), image)
    assert outside[0] < 0 and outside[2] > 640 and is_outside(outside, image.original_wh)
    assert to_original((-10, 20, 700, 500), image, clamp=True) == (0.0, pytest.approx(20 * 480 / 476), 640.0, 480.0)
    assert order_corners((5, 9, 1, 2)) == (1.0, 2.0, 5.0, 9.0)
    assert clamp_to((-1, 600), (640, 480)) == (0.0, 480.0)


@pytest.mark.parametrize(
    "values",
    [pytest.param((1, 2, 3), id="three-values"), pytest.param((1, float("nan")), id="nan"),
     pytest.param((), id="empty")],
)
def test_bad_coordinates_raise(values):
    with pytest.raises(ValueError):
        to_original(values, process_size((10, 10), "qwen3-vl"))


def test_round_half_up():
    assert [round_half_up(v) for v in (0.5, 1.5, 2.5, 2.4999, -0.5)] == [1, 2, 3, 2, 0]


sizes = st.tuples(st.integers(1, 6000), st.integers(1, 6000)).filter(lambda s: max(s) / min(s) <= 200)
limits = st.sampled_from([None, PixelLimits(3136, 1280 * 28 * 28), PixelLimits(784, 50176)])


@settings(max_examples=examples(2000), deadline=None)
@given(size=sizes, family=st.sampled_from(FAMILIES), limit=limits, data=st.data())
def test_round_trip_model_original_model(size, family, limit, data):
    image = process_size(size, family, limit)
    mw, mh = image.model_wh
    xs = sorted(data.draw(st.lists(st.integers(0, int(mw)), min_size=2, max_size=2)))
    ys = sorted(data.draw(st.lists(st.integers(0, int(mh)), min_size=2, max_size=2)))
    box = (xs[0], ys[0], xs[1], ys[1])
    back = to_model(to_original(box, image), image)
    assert all(abs(a - b) < 0.5 for a, b in zip(back, box))  # within half a model pixel...
    assert [round_half_up(v) for v in back] == list(box)      # ...so integer model boxes survive exactly
    point = (xs[0], ys[1])
    assert all(math.isclose(a, b, abs_tol=1e-9) for a, b in zip(to_model(to_original(point, image), image), point))


@settings(max_examples=examples(500), deadline=None)
@given(size=sizes, family=st.sampled_from(FAMILIES))
def test_round_trip_original_model_original(size, family):
    image = process_size(size, family)
    w, h = image.original_wh
    box = (w * 0.1, h * 0.2, w * 0.9, h * 0.7)
    assert to_original(to_model(box, image), image) == pytest.approx(box)


def test_pixel_limits_validate():
    with pytest.raises(GeometryError):
        PixelLimits(10, 5)

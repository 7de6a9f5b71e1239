"""Zoom crops: the region at the resolution the screen needs, upright, never enlarged, decoded once per scale."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageOps

from tests.factories import write_image
from workbench.zoom import ZoomCrops


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    """A 12 MP JPEG stored sideways (EXIF 6): upright it is 3024 x 4032."""
    return write_image(tmp_path_factory.mktemp("zoom"), 4032, 3024, fmt="JPEG", orientation=6, name="phone.jpg")


def _decoded(crop) -> np.ndarray:
    import io

    return np.asarray(Image.open(io.BytesIO(crop.jpeg)).convert("RGB"), dtype=np.int16)


def test_at_full_zoom_one_screen_pixel_shows_one_original_pixel_of_the_upright_image(photo):
    crops = ZoomCrops()
    crop = crops.crop(photo, (3024, 4032), (1000, 2000, 1300, 2200), (1200, 800))
    assert crop.size == (300, 200) and crop.scale == 1 and crop.box == (1000, 2000, 1300, 2200)
    with Image.open(photo) as image:
        upright = np.asarray(ImageOps.exif_transpose(image).convert("RGB"), dtype=np.int16)
    expected = upright[2000:2200, 1000:1300]
    assert np.abs(_decoded(crop) - expected).mean() < 4  # the same pixels, after one more JPEG encode


def test_a_wide_view_is_cut_from_a_reduced_decode_and_fits_the_screen(photo):
    crops = ZoomCrops()
    crop = crops.crop(photo, (3024, 4032), (0, 0, 3024, 4032), (600, 800))
    assert crop.scale == 4 and max(crop.size[0] / 600, crop.size[1] / 800) == pytest.approx(1, abs=0.01)
    half = crops.crop(photo, (3024, 4032), (0, 0, 1512, 2016), (1000, 1400))
    assert half.scale == 1 and half.size == (1000, 1333)  # 0.66 screen pixels per image pixel: full size, shrunk


def test_crops_of_one_image_and_scale_share_one_decode(photo, monkeypatch):
    import workbench.zoom as zoom

    calls = []
    real = zoom.decode_upright
    monkeypatch.setattr(zoom, "decode_upright", lambda *a, **k: calls.append(a) or real(*a, **k))
    crops = ZoomCrops()
    for x in range(0, 3000, 500):
        crops.crop(photo, (3024, 4032), (x, 0, x + 24, 24), (48, 48))
    assert len(calls) == 1


def test_the_cache_keeps_within_its_bytes(tmp_path):
    crops = ZoomCrops(cache_bytes=3 * 400 * 300 * 3)
    for seed in range(5):
        path = write_image(tmp_path, 400, 300, seed=seed, name=f"{seed}.png")
        crops.crop(path, (400, 300), (0, 0, 400, 300), (400, 300))
    assert len(crops._decoded) == 3


@pytest.mark.parametrize(("box", "out"), [
    pytest.param((10, 10, 10, 50), (100, 100), id="empty-region"),
    pytest.param((5000, 5000, 6000, 6000), (100, 100), id="outside-the-image"),
    pytest.param((0, 0, 100, 100), (0, 100), id="no-screen"),
])
def test_nothing_to_show_is_refused_in_words(tmp_path, box, out):
    path = write_image(tmp_path, 400, 300)
    with pytest.raises(ValueError, match="nothing to show"):
        ZoomCrops().crop(path, (400, 300), box, out)

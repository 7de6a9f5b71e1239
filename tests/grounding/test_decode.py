"""decode_upright: JPEGs decoded at reduced scale, orientation applied after, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageOps

from grounding import ImageReadError
from grounding.decode import decode_upright
from tests.factories import write_image


@pytest.mark.parametrize(
    ("orientation", "at_least", "decoded"),
    [
        pytest.param(None, (1000, 700), (1500, 1000), id="half-scale"),
        pytest.param(None, (300, 200), (375, 250), id="eighth-scale"),
        pytest.param(6, (700, 1000), (1000, 1500), id="rotated-asks-in-upright-pixels"),
        pytest.param(None, (2000, 1500), (3000, 2000), id="full-size-when-needed"),
    ],
)
def test_jpeg_is_decoded_at_the_smallest_scale_still_large_enough(tmp_path, orientation, at_least, decoded):
    path = write_image(tmp_path, 3000, 2000, fmt="JPEG", orientation=orientation)
    image = decode_upright(path, at_least)
    assert image.size == decoded and image.mode == "RGB"


def test_reduced_decode_shows_the_same_upright_picture(tmp_path):
    path = write_image(tmp_path, 1600, 1200, fmt="JPEG", orientation=6)
    small = decode_upright(path, resize_to=(300, 400))
    with Image.open(path) as image:
        reference = ImageOps.exif_transpose(image).convert("RGB").resize((300, 400), Image.Resampling.BICUBIC)
    assert small.size == (300, 400)
    difference = np.abs(np.asarray(small, dtype=int) - np.asarray(reference, dtype=int))
    assert difference.mean() < 6  # the gradient runs the same way: turned, not mirrored


def test_other_formats_decode_at_full_size(tmp_path):
    path = write_image(tmp_path, 640, 480, fmt="PNG")
    assert decode_upright(path, (100, 100)).size == (640, 480)
    assert decode_upright(path.read_bytes(), resize_to=(64, 48)).size == (64, 48)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(lambda tmp: tmp / "missing.jpg", "no such file", id="missing"),
        pytest.param(lambda tmp: tmp, "is a folder", id="folder"),
        pytest.param(lambda tmp: _write(tmp / "notes.jpg", b"not an image"), "not an image", id="not-an-image"),
        pytest.param(lambda tmp: _truncated(tmp), "unreadable image", id="truncated"),
    ],
)
def test_unreadable_files_raise_image_read_error_with_the_reason(tmp_path, make, message):
    with pytest.raises(ImageReadError, match=message):
        decode_upright(make(tmp_path), (100, 100))


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


def _truncated(folder):
    full = write_image(folder, 800, 600, fmt="JPEG")
    return _write(folder / "cut.jpg", full.read_bytes()[:3000])

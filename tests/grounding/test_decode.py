"""decode_upright: JPEGs decoded at reduced scale, orientation applied after, clear errors."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageOps

from grounding import ImageReadError
from grounding.decode import decode_upright, needs_rgb8, rgb8
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


# --- every mode to 8-bit RGB by its real range (issue 25: 16-bit PNGs turned white) ---------------------------

def _encoded(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def _ramp(mode: str, values: np.ndarray) -> Image.Image:
    return Image.fromarray(values.reshape(2, -1), mode) if mode != "I;16" else Image.fromarray(
        values.reshape(2, -1).astype(np.uint16), "I;16")


@pytest.mark.parametrize(("mode", "values", "expected"), [
    pytest.param("I;16", np.array([0, 257, 32896, 65535], np.uint16), [0, 1, 128, 255], id="16-bit-grey"),
    pytest.param("I", np.array([0, 1000, 40000, 65535], np.int32), [0, 4, 156, 255], id="32-bit-int-16-bit-values"),
    pytest.param("I", np.array([0, 10, 128, 255], np.int32), [0, 10, 128, 255], id="32-bit-int-8-bit-values"),
    pytest.param("I", np.array([-1000, 0, 1000, 3000], np.int32), [0, 64, 128, 255], id="32-bit-int-own-span"),
    pytest.param("F", np.array([0.0, 0.25, 0.5, 1.0], np.float32), [0, 64, 128, 255], id="float-0-1"),
    pytest.param("F", np.array([0.0, 10.5, 100.0, 255.0], np.float32), [0, 11, 100, 255], id="float-0-255"),
    pytest.param("F", np.array([-2.0, 0.0, 2.0, 6.0], np.float32), [0, 64, 128, 255], id="float-own-span"),
])
def test_wide_modes_are_scaled_not_clipped(mode, values, expected):
    image = _ramp(mode, values)
    assert image.mode == mode
    out = rgb8(image)
    assert out.mode == "RGB"
    assert [out.getpixel((i % 2, i // 2)) for i in range(4)] == [(v, v, v) for v in expected]


def test_sixteen_bit_png_is_shown_as_its_range_not_white(tmp_path):
    values = np.linspace(0, 65535, 64 * 48).reshape(48, 64).astype(np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(values, "I;16").save(path)
    with Image.open(path) as opened:
        assert opened.mode == "I;16"
        assert np.array(opened.convert("RGB")).min() == 255 or np.array(opened.convert("RGB")).mean() > 250  # clipped
    shown = np.array(decode_upright(path))
    assert shown.shape == (48, 64, 3)
    assert shown[..., 0] == pytest.approx(values / 257, abs=0.51)  # scaled by the 16-bit range
    assert needs_rgb8(path) and needs_rgb8(path.read_bytes())


def test_sixteen_bit_rgb_png_keeps_its_range(tmp_path):
    import cv2

    rgb = np.zeros((2, 2, 3), np.uint16)
    rgb[0, 0], rgb[0, 1], rgb[1, 0] = (65535, 32768, 0), (257, 514, 771), (65535, 65535, 65535)
    ok, data = cv2.imencode(".png", rgb[..., ::-1])  # OpenCV writes BGR
    assert ok
    shown = np.array(decode_upright(data.tobytes()))
    assert shown[0, 0].tolist() == [255, 128, 0] and shown[1, 0].tolist() == [255, 255, 255]
    assert shown[0, 1].tolist() == [1, 2, 3]
    assert not needs_rgb8(data.tobytes())  # Pillow opens it as 8-bit RGB already: a plain convert reads the same


@pytest.mark.parametrize(("mode", "colour", "expected"), [
    pytest.param("LA", (200, 0), (200, 200, 200), id="grey-alpha"),
    pytest.param("P", 7, None, id="palette"),
    pytest.param("CMYK", (0, 255, 255, 0), (255, 0, 0), id="cmyk"),
    pytest.param("1", 1, (255, 255, 255), id="bilevel"),
    pytest.param("RGBA", (10, 20, 30, 0), (10, 20, 30), id="rgba"),
    pytest.param("La", (200, 255), (200, 200, 200), id="premultiplied-grey-alpha"),
])
def test_other_modes_become_rgb_as_pillow_converts_them(mode, colour, expected):
    image = Image.new(mode, (3, 2), colour)
    if mode == "P":
        image.putpalette([v for n in range(256) for v in (n, 255 - n, 7)])
        expected = (7, 248, 7)
    out = rgb8(image)
    assert out.mode == "RGB" and out.size == (3, 2)
    assert out.getpixel((2, 1)) == expected


def test_rgb_images_come_back_unchanged():
    image = Image.new("RGB", (2, 2), (1, 2, 3))
    assert rgb8(image) is image

"""Rotated JPEGs are turned upright in the DCT domain (jpegtran): the same pixels, turned, no second JPEG loss;
re-encoded instead when jpegtran is missing or cannot turn the picture perfectly."""

from __future__ import annotations

import io
import subprocess

import numpy as np
import pytest
from PIL import ExifTags, Image, ImageOps

from tests.factories import make_image
from workbench.export.files import encode_upright
from workbench.store import lossless

needs_jpegtran = pytest.mark.skipif(lossless.jpegtran() is None, reason="jpegtran (libjpeg-turbo-progs) not installed")


def _jpeg(path, wh=(64, 48), orientation=6, **options):
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    make_image(*wh).save(path, "JPEG", quality=90, exif=exif.tobytes(), **options)
    return path


def _pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.array(image.convert("RGB")).astype(int)


def _upright_reference(path) -> np.ndarray:
    with Image.open(path) as image:
        return np.array(ImageOps.exif_transpose(image).convert("RGB")).astype(int)


@needs_jpegtran
@pytest.mark.parametrize("orientation", range(2, 9))
def test_every_orientation_is_turned_upright_in_the_dct_domain(tmp_path, orientation):
    source = _jpeg(tmp_path / "phone.jpg", orientation=orientation)
    turned = encode_upright(source)
    assert turned is not None and turned == lossless.rotate_upright(source.read_bytes(), orientation)
    with Image.open(io.BytesIO(turned)) as image:
        assert ExifTags.Base.Orientation not in image.getexif()  # shown as it is now, by any reader
        assert image.size == ((48, 64) if orientation >= 5 else (64, 48))
    # the same picture as Pillow's exif_transpose of the decoded original (the decoder's rounding aside)
    assert np.abs(_pixels(turned) - _upright_reference(source)).max() <= 3


@needs_jpegtran
def test_turning_is_lossless(tmp_path):
    source = _jpeg(tmp_path / "phone.jpg", orientation=6)
    original = source.read_bytes()
    turned = lossless.rotate_upright(original, 6)
    back = subprocess.run([lossless.jpegtran(), "-rotate", "270", "-perfect"], input=turned, capture_output=True,
                          check=True).stdout  # the inverse turn gives back the very same coefficients
    assert np.array_equal(_pixels(back), _pixels(original))
    with Image.open(io.BytesIO(turned)) as image, Image.open(source) as before:  # not re-encoded at another quality
        assert {k: sorted(v) for k, v in image.quantization.items()} == \
            {k: sorted(v) for k, v in before.quantization.items()}  # the same tables, transposed with the blocks


@needs_jpegtran
def test_a_picture_with_partial_edge_blocks_is_re_encoded(tmp_path):
    source = _jpeg(tmp_path / "odd.jpg", wh=(70, 50), orientation=6)  # 4:2:0: 16 px blocks, 70 is not a multiple
    assert lossless.rotate_upright(source.read_bytes(), 6) is None  # -perfect refuses
    written = encode_upright(source)
    assert written is not None and _pixels(written).shape == (70, 50, 3)
    assert np.abs(_pixels(written) - _upright_reference(source)).mean() < 2


def test_without_jpegtran_photos_are_re_encoded_upright(tmp_path, monkeypatch):
    monkeypatch.setenv(lossless.JPEGTRAN_ENV, "")
    lossless.jpegtran.cache_clear()
    try:
        source = _jpeg(tmp_path / "phone.jpg", orientation=8)
        assert lossless.rotate_upright(source.read_bytes(), 8) is None
        written = encode_upright(source)
        with Image.open(io.BytesIO(written)) as image:
            assert image.size == (48, 64) and image.getexif().get(ExifTags.Base.Orientation, 1) == 1
        assert np.abs(_pixels(written) - _upright_reference(source)).mean() < 2
    finally:
        lossless.jpegtran.cache_clear()


def test_an_orientation_outside_exif_is_left_to_the_re_encode():
    # a JPEG whose only orientation is XMP's: resetting EXIF would leave a viewer turning it again
    assert lossless._upright_markers(b"\xff\xd8\xff\xe0\x00\x04ab\xff\xda\x00\x02") is None

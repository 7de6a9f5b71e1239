"""Decode an image upright (EXIF orientation applied) and RGB, at reduced size when a smaller copy is all that is needed.

A 12 MP JPEG costs about twice as much to decode at full size as at half size, and a resize of the
full-size pixels on top. When the caller says how large its copy will be (``at_least_wh``, upright
pixels), a JPEG is decoded at the smallest of 1/1, 1/2, 1/4 or 1/8 scale that is still at least
that large (libjpeg's scaled decoding, Pillow's ``draft``); other formats decode at full size.
The orientation is applied to the decoded pixels afterwards, so only the reduced copy is transposed.
The result can be larger than ``at_least_wh`` (by less than 2x): the caller resizes it to the exact
size it needs, with the resampling that suits it, or passes ``resize_to``.

>>> import io
>>> from PIL import Image
>>> buffer = io.BytesIO(); Image.new("RGB", (4032, 3024), "gray").save(buffer, "JPEG")
>>> decode_upright(buffer.getvalue(), at_least_wh=(1600, 1200)).size
(2016, 1512)
>>> decode_upright(buffer.getvalue(), resize_to=(1600, 1200)).size
(1600, 1200)
"""

from __future__ import annotations

import io
import os
import warnings
from typing import BinaryIO

from PIL import ExifTags, Image, ImageOps

from grounding.image_size import SWAPPING_ORIENTATIONS, read_errors, require_regular_file

__all__ = ["decode_upright"]

DecodeSource = str | os.PathLike | bytes | BinaryIO



def _open(source: DecodeSource) -> Image.Image:
    if isinstance(source, (bytes, bytearray)):
        return Image.open(io.BytesIO(source))
    if isinstance(source, (str, os.PathLike)):
        require_regular_file(source)
    return Image.open(source)


def _decode(image: Image.Image, at_least_wh: tuple[int, int] | None) -> Image.Image:
    if at_least_wh is not None and image.format in ("JPEG", "MPO"):
        orientation = image.getexif().get(ExifTags.Base.Orientation, 1)  # what exif_transpose will apply
        w, h = at_least_wh
        image.draft("RGB", (h, w) if orientation in SWAPPING_ORIENTATIONS else (w, h))
    image.load()  # also closes a single-frame file Pillow opened itself
    ImageOps.exif_transpose(image, in_place=True)  # no copy when there is nothing to turn
    if image.mode != "RGB":
        return image.convert("RGB")
    if getattr(image, "fp", None) is not None:  # multi-frame files (MPO, GIF, TIFF) keep theirs open
        return image.copy()
    return image


def decode_upright(
    source: DecodeSource,
    at_least_wh: tuple[int, int] | None = None,
    *,
    resize_to: tuple[int, int] | None = None,
    resample: Image.Resampling = Image.Resampling.BICUBIC,
) -> Image.Image:
    """The image as the user sees it, RGB; at least ``at_least_wh`` (or exactly ``resize_to``) when given.

    Raises :class:`~grounding.ImageReadError` with the reason for a file that is missing, not an
    image, damaged or too large to decode safely.
    """
    name = os.fspath(source) if isinstance(source, (str, os.PathLike)) else "image"
    wanted = resize_to or at_least_wh
    with read_errors(name), warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        image = _open(source)
        try:
            upright = _decode(image, wanted)
        except BaseException:
            image.close()
            raise
        if upright is not image:
            image.close()
    if resize_to is not None and upright.size != tuple(resize_to):
        upright = upright.resize(resize_to, resample)
    return upright

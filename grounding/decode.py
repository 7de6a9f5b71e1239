"""Decode an image upright (EXIF orientation applied) and RGB, at reduced size when a smaller copy is all that is needed.

A 12 MP JPEG costs about twice as much to decode at full size as at half size, and a resize of the
full-size pixels on top. When the caller says how large its copy will be (``at_least_wh``, upright
pixels), a JPEG is decoded at the smallest of 1/1, 1/2, 1/4 or 1/8 scale that is still at least
that large (libjpeg's scaled decoding, Pillow's ``draft``); other formats decode at full size.
The orientation is applied to the decoded pixels afterwards, so only the reduced copy is transposed.
The result can be larger than ``at_least_wh`` (by less than 2x): the caller resizes it to the exact
size it needs, with the resampling that suits it, or passes ``resize_to``.

Every mode Pillow opens becomes 8-bit RGB in one place, :func:`rgb8`: Pillow's own
``convert("RGB")`` clips 16-bit, 32-bit and float pixels at 255 (a 16-bit PNG turns white), so
those are scaled from the range their values are written in instead. Every copy a person sees
(thumbnails, the editor, drawn results), every image sent to a model and every exported file of
such an image holds these same pixels.

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

import numpy as np
from PIL import ExifTags, Image, ImageOps

from grounding.image_size import SWAPPING_ORIENTATIONS, read_errors, require_regular_file

__all__ = ["WIDE_MODES", "decode_upright", "needs_rgb8", "rgb8"]

DecodeSource = str | os.PathLike[str] | bytes | BinaryIO

WIDE_MODES = frozenset({"I", "F", "I;16", "I;16L", "I;16B", "I;16N", "I;16S"})
"""Modes whose values Pillow's ``convert("RGB")`` clips at 255 instead of scaling."""
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _value_range(values: np.ndarray, mode: str) -> tuple[float, float]:
    """The range the values are written in: 16 bits for ``I;16``; for ``I`` and ``F`` the first of 0-1 (floats),
    0-255 and 0-65535 that holds them all, else their own span."""
    if mode.startswith("I;16"):
        return 0.0, 65535.0
    finite = values[np.isfinite(values)] if mode == "F" else values
    if finite.size == 0:
        return 0.0, 1.0
    low, high = float(finite.min()), float(finite.max())
    containers = ((0.0, 1.0), (0.0, 255.0), (0.0, 65535.0)) if mode == "F" else ((0.0, 255.0), (0.0, 65535.0))
    for start, end in containers:
        if start <= low and high <= end:
            return start, end
    return (low, high) if high > low else (low, low + 1.0)


def rgb8(image: Image.Image) -> Image.Image:
    """8-bit RGB pixels of an image in any mode Pillow opens, by the real range of its values (scaled, not clipped).

    ``I;16`` (16-bit PNG and TIFF) maps 0-65535 onto 0-255; ``I`` and ``F`` map the range their
    values are written in (:func:`_value_range`); 16-bit RGB PNGs Pillow already opens as 8-bit
    RGB (the high byte). Alpha is dropped, as ``convert("RGB")`` drops it, so what a trainer's
    plain ``convert("RGB")`` of an exported file gives is what this gave; ``P``, ``CMYK``,
    ``LA``, ``1`` and the rest go through Pillow's own conversion. An RGB image comes back as it is.

    >>> rgb8(Image.new("I;16", (2, 1), 65535)).getpixel((0, 0)), Image.new("I;16", (2, 1), 300).convert("RGB").getpixel((0, 0))
    ((255, 255, 255), (255, 255, 255))
    >>> rgb8(Image.new("I;16", (2, 1), 300)).getpixel((0, 0))
    (1, 1, 1)
    """
    if image.mode == "RGB":
        return image
    if image.mode in WIDE_MODES:
        values = np.asarray(image)
        if image.mode == "F":
            values = np.nan_to_num(values, nan=0.0, posinf=np.finfo(np.float32).max, neginf=np.finfo(np.float32).min)
        low, high = _value_range(values, image.mode)
        scaled = (values.astype(np.float64) - low) * (255.0 / (high - low)) + 0.5
        return Image.fromarray(np.clip(scaled, 0, 255).astype(np.uint8), "L").convert("RGB")
    if image.mode == "La":  # premultiplied grey: Pillow converts it to RGB only by way of LA
        image = image.convert("LA")
    return image.convert("RGB")


def needs_rgb8(source: bytes | str | os.PathLike[str]) -> bool:
    """True when a file's pixels are in a mode :func:`rgb8` scales (a plain ``convert("RGB")`` would clip them).

    Reads the header only (a PNG's IHDR, else Pillow's header parse); a JPEG never is.

    >>> import io
    >>> buffer = io.BytesIO(); Image.new("I;16", (4, 4)).save(buffer, "PNG"); needs_rgb8(buffer.getvalue())
    True
    """
    head = bytes(source[:32]) if isinstance(source, (bytes, bytearray)) else _head(source)
    if head[:3] == b"\xff\xd8\xff":
        return False
    if head[:8] == _PNG_SIGNATURE and head[12:16] == b"IHDR":
        depth, colour = head[24], head[25]
        return depth == 16 and colour == 0  # 16-bit grey: I;16 (16-bit RGB/alpha open as 8-bit modes)
    with read_errors(os.fspath(source) if not isinstance(source, (bytes, bytearray)) else "image"), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with _open(source) as image:
            return image.mode in WIDE_MODES


def _head(path: str | os.PathLike[str]) -> bytes:
    with read_errors(os.fspath(path)), open(path, "rb") as file:
        return file.read(32)



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
        return rgb8(image)
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
    """The image as the user sees it, 8-bit RGB (:func:`rgb8`); at least ``at_least_wh`` (or exactly ``resize_to``).

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

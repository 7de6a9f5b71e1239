"""Read an image's displayed size from its header, without decoding its pixels.

The displayed size is the size after EXIF orientation (tags 5-8 swap width and height), which
is what browsers, ``ImageOps.exif_transpose`` and the Qwen processors (after our loaders
transpose) work with. Pillow parses only the header on ``Image.open``; we never call
``load()``. The format is sniffed from the bytes, never taken from the file name.

Plain JPEG and PNG files (no EXIF, XMP or MPO segment: nothing that could carry an orientation)
are read by a few lines of header parsing instead (:func:`_plain_header`), about ten times
faster than building a Pillow image; anything else, or anything unusual, goes to Pillow.

>>> import io
>>> from PIL import Image
>>> buffer = io.BytesIO(); Image.new("RGB", (64, 32)).save(buffer, "PNG")
>>> read_image_size(buffer.getvalue())
ImageSize(width=64, height=32, orientation=1, format='PNG')
"""

from __future__ import annotations

import io
import os
import re
import stat
import struct
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from PIL import ExifTags, Image, UnidentifiedImageError

from grounding.errors import ImageReadError

__all__ = ["ImageReadError", "ImageSize", "ImageSource", "read_image_size", "require_regular_file"]

ImageSource = str | os.PathLike[str] | bytes | BinaryIO

SWAPPING_ORIENTATIONS = frozenset({5, 6, 7, 8})
"""EXIF orientations that swap width and height when applied."""



@dataclass(frozen=True)
class ImageSize:
    """Displayed size of an image (after EXIF orientation) and what the header said."""

    width: int
    height: int
    orientation: int
    format: str

    @property
    def wh(self) -> tuple[int, int]:
        return (self.width, self.height)


_XMP_ORIENTATION = re.compile(r'tiff:Orientation(="|>)([0-9])')


def _xmp_orientation(info: Mapping[Any, Any]) -> int:
    xmp = info.get("XML:com.adobe.xmp") or info.get("xmp") or ""
    if isinstance(xmp, bytes):
        xmp = xmp.decode("utf-8", "replace")
    match = _XMP_ORIENTATION.search(xmp) if isinstance(xmp, str) else None
    orientation = int(match.group(2)) if match else 1
    return orientation if 1 <= orientation <= 8 else 1


def _orientation(image: Image.Image) -> int:
    if image.format == "PNG":
        # PngImageFile.getexif() decodes the whole image when the eXIf chunk is not in the
        # header; the PNG spec puts eXIf before IDAT, so the header info is enough. Like
        # Pillow's getexif (and so exif_transpose), fall back to an XMP tiff:Orientation.
        raw = image.info.get("exif")
        exif = Image.Exif()
        if raw:
            try:
                exif.load(raw if isinstance(raw, bytes) else bytes(raw))
            except Exception:  # a broken EXIF block is not a broken image
                exif = Image.Exif()
        if ExifTags.Base.Orientation not in exif:
            return _xmp_orientation(image.info)
    else:
        try:
            exif = image.getexif()
        except Exception:
            return 1
    value = exif.get(ExifTags.Base.Orientation, 1)
    try:
        orientation = int(value)
    except (TypeError, ValueError):
        return 1
    return orientation if 1 <= orientation <= 8 else 1


def source_name(source: object) -> str:
    """How an image source is named in messages: its path, else ``<bytes>`` or the stream's name."""
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    if isinstance(source, (bytes, bytearray)):
        return "<bytes>"
    return str(getattr(source, "name", "<stream>"))


@contextmanager
def read_errors(name: str) -> Iterator[None]:
    """What goes wrong while Pillow reads ``name`` (missing, a folder, not an image, damaged, a decompression
    bomb), as :class:`ImageReadError` in words; the one place these errors are translated.

    >>> with read_errors("a.png"):
    ...     raise FileNotFoundError(2, "No such file")
    Traceback (most recent call last):
    grounding.errors.ImageReadError: a.png: no such file
    """
    try:
        yield
    except ImageReadError:
        raise
    except FileNotFoundError:
        raise ImageReadError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise ImageReadError(f"{name}: is a folder, not an image") from None
    except Image.DecompressionBombError as exc:
        raise ImageReadError(f"{name}: image too large to process safely ({exc})") from None
    except UnidentifiedImageError:
        raise ImageReadError(f"{name}: not an image, or a format Pillow cannot read") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ImageReadError(f"{name}: unreadable image ({exc})") from None


def require_regular_file(path: str | os.PathLike[str]) -> None:
    """Raise :class:`ImageReadError` unless ``path`` is a regular file, looked up without opening it: a FIFO
    would block the reader, ``/dev/zero`` never ends.

    >>> require_regular_file("/dev/zero")
    Traceback (most recent call last):
    grounding.errors.ImageReadError: /dev/zero: not a regular file (a device, pipe or socket)
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise ImageReadError(f"{os.fspath(path)}: no such file") from None
    except OSError as exc:
        raise ImageReadError(f"{os.fspath(path)}: cannot read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(mode):
        raise ImageReadError(f"{os.fspath(path)}: is a folder, not an image")
    if not stat.S_ISREG(mode):
        raise ImageReadError(f"{os.fspath(path)}: not a regular file (a device, pipe or socket)")


def _open(source: ImageSource) -> tuple[Image.Image, str]:
    if isinstance(source, (bytes, bytearray)):
        return Image.open(io.BytesIO(source)), "<bytes>"
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        require_regular_file(path)
        return Image.open(path), str(path)
    return Image.open(source), getattr(source, "name", "<stream>")


_HEAD = 1 << 16
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_PNG_TEXT = {b"tEXt", b"zTXt", b"iTXt"}


def _plain_jpeg(head: bytes) -> tuple[int, int] | None:
    position = 2
    while position + 4 <= len(head):
        if head[position] != 0xFF:
            return None
        marker = head[position + 1]
        length = struct.unpack(">H", head[position + 2:position + 4])[0]
        if marker == 0xE1 or (marker == 0xE2 and head[position + 4:position + 8] == b"MPF\x00"):
            return None  # EXIF/XMP (an orientation) or MPO: Pillow's answer
        if marker in _JPEG_SOF:
            if position + 9 > len(head):
                return None
            height, width = struct.unpack(">HH", head[position + 5:position + 9])
            return width, height
        if marker == 0xDA or length < 2:
            return None
        position += 2 + length
    return None


def _plain_png(head: bytes) -> tuple[int, int] | None:
    if head[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", head[16:24])
    position = 8
    while position + 8 <= len(head):
        length, kind = struct.unpack(">I4s", head[position:position + 8])
        if kind == b"eXIf" or (kind in _PNG_TEXT and head[position + 8:position + 25] == b"XML:com.adobe.xmp"):
            return None
        if kind == b"IDAT":
            return width, height
        position += 12 + length
    return None


def _plain_header(head: bytes) -> ImageSize | None:
    """Size of a JPEG or PNG that carries no orientation metadata, from its first bytes; else None.

    >>> buffer = io.BytesIO(); Image.new("RGB", (64, 32)).save(buffer, "JPEG")
    >>> _plain_header(buffer.getvalue())
    ImageSize(width=64, height=32, orientation=1, format='JPEG')
    """
    if head[:3] == b"\xff\xd8\xff":
        wh, fmt = _plain_jpeg(head), "JPEG"
    elif head[:8] == b"\x89PNG\r\n\x1a\n":
        wh, fmt = _plain_png(head), "PNG"
    else:
        return None
    if wh is None or not 0 < wh[0] * wh[1] <= (Image.MAX_IMAGE_PIXELS or 1 << 62):
        return None  # empty, unusual or huge: Pillow decides and explains
    return ImageSize(width=wh[0], height=wh[1], orientation=1, format=fmt)


def read_image_size(source: ImageSource) -> ImageSize:
    """Displayed (EXIF-transposed) size of an image file, bytes or binary stream."""
    name = source if isinstance(source, (str, os.PathLike)) else "image"
    if isinstance(source, (bytes, bytearray)):
        plain = _plain_header(bytes(source[:_HEAD]))
        if plain is not None:
            return plain
    elif isinstance(source, (str, os.PathLike)):
        require_regular_file(source)
        try:
            with open(source, "rb") as file:
                plain = _plain_header(file.read(_HEAD))
        except OSError:
            plain = None  # Pillow's path says what is wrong
        if plain is not None:
            return plain
    with read_errors(source_name(source)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image, name = _open(source)
        with image:
            width, height = image.size
            orientation = _orientation(image)
            fmt = image.format or "unknown"
    if width <= 0 or height <= 0:
        raise ImageReadError(f"{name}: image has zero size ({width}x{height})")
    if orientation in SWAPPING_ORIENTATIONS:
        width, height = height, width
    return ImageSize(width=width, height=height, orientation=orientation, format=fmt)

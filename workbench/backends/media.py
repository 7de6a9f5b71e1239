"""Images as backends need them: upright RGB pixels, or a data URL a server can read.

Original sizes are the displayed (EXIF-transposed) sizes, as everywhere in the project, so
pixels sent to a model are transposed first: a server may or may not apply EXIF itself.
A file that is already upright and in a format servers decode is sent as its own bytes
(no re-encoding); anything else is sent as PNG of the upright pixels.

>>> import io
>>> buffer = io.BytesIO(); Image.new("RGB", (4, 2)).save(buffer, "PNG")
>>> data_url(buffer.getvalue())[:22]
'data:image/png;base64,'
>>> upright_rgb(buffer.getvalue()).size
(4, 2)
"""

from __future__ import annotations

import base64
import io
import os
import warnings

from PIL import Image, ImageOps

from grounding import ImageReadError, read_image_size
from grounding.decode import rgb8
from grounding.image_size import read_errors
from workbench.backends.base import ImageInput
from workbench.errors import BackendError
from workbench.limits import ResourceLimits

__all__ = ["upright_rgb", "original_wh", "data_url"]

_SENT_AS_IS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


MAX_IMAGE_BYTES = ResourceLimits().upload_bytes
"""The most bytes of one image file a backend reads (the built-in upload bound)."""

def _name(image: ImageInput) -> str:
    return os.fspath(image) if isinstance(image, (str, os.PathLike)) else "image"


def _read_bytes(image: ImageInput) -> bytes:
    """The file's bytes: a regular file of at most :data:`MAX_IMAGE_BYTES`, never a device or FIFO (what reaches a
    backend has passed the deployment's own upload bound, :mod:`workbench.files`, on its way in)."""
    if isinstance(image, bytes):
        return image
    from workbench.files import ImageLimitError, read_bounded

    try:
        return read_bounded(image, MAX_IMAGE_BYTES)  # type: ignore[arg-type]  # a path here (bytes returned above)
    except ImageLimitError as exc:
        raise BackendError(str(exc)) from None


def _open(image: ImageInput) -> Image.Image:
    if isinstance(image, Image.Image):
        return image
    try:
        with read_errors(_name(image)), warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(_read_bytes(image)))
            opened.load()
        return opened
    except ImageReadError as exc:
        raise BackendError(str(exc)) from None


def upright_rgb(image: ImageInput) -> Image.Image:
    """The image as the user sees it: EXIF orientation applied, 8-bit RGB (:func:`grounding.decode.rgb8`: a 16-bit
    PNG is scaled, not clipped to white)."""
    opened = _open(image)
    if not isinstance(image, Image.Image):
        opened = ImageOps.exif_transpose(opened)
    return rgb8(opened)


def original_wh(image: ImageInput) -> tuple[int, int]:
    """Displayed (w, h) of an image input; files and bytes are read from the header only."""
    if isinstance(image, Image.Image):
        return image.size
    try:
        return read_image_size(image).wh
    except ImageReadError as exc:
        raise BackendError(str(exc)) from None


def data_url(image: ImageInput) -> str:
    """``data:<mime>;base64,...`` of the upright image; original bytes when they can go as they are."""
    if not isinstance(image, Image.Image):
        raw = _read_bytes(image)
        opened = _open(raw)
        orientation = opened.getexif().get(0x0112, 1)
        mime = _SENT_AS_IS.get(opened.format or "")
        if mime and orientation in (None, 1) and opened.mode in ("RGB", "L"):
            return f"data:{mime};base64,{base64.b64encode(raw).decode('ascii')}"
        if isinstance(image, (str, os.PathLike)):
            image = raw
    buffer = io.BytesIO()
    upright_rgb(image).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")

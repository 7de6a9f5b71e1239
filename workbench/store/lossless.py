"""EXIF-rotated JPEGs made upright in the DCT domain, by libjpeg-turbo's ``jpegtran`` (no decode, no loss).

Trainers open images with plain PIL, so an export writes a phone photo's pixels upright. A JPEG
can be turned without decoding it: ``jpegtran`` moves the DCT coefficients (``-rotate``,
``-flip``, ``-transpose``, ``-transverse``), so the pixels are exactly the original ones,
turned, with no second generation of JPEG loss, at a fraction of a decode and re-encode.
``-perfect`` refuses an image whose partial edge blocks would move (a side that is not a
multiple of the MCU, 8 or 16 px): it is re-encoded instead, as is everything when ``jpegtran``
is not installed (Debian's ``libjpeg-turbo-progs``; ``make install-test``, the Dockerfile and
``packages.txt`` install it). Metadata is kept (``-copy all``) but for the EXIF Orientation
tag, removed as ``exif_transpose`` removes it, and an MPO's index of its other pictures (only the
first is written).

Turning a 12 MP photo costs about 70-100 ms of CPU against a few ms to copy it, so a stored photo
is turned once: the store keeps the result beside the original (``<sha256>.upright.jpg``, made when
the image is stored; see :mod:`workbench.store.blobs`) and exports copy that.

>>> TRANSFORMS[6], TRANSFORMS[3]
(('-rotate', '90'), ('-rotate', '180'))
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from functools import cache

from PIL import ExifTags, Image

from workbench.environment import JPEGTRAN, jpegtran_setting

__all__ = ["TRANSFORMS", "jpegtran", "rotate_upright"]

TRANSFORMS: dict[int, tuple[str, ...]] = {
    2: ("-flip", "horizontal"), 3: ("-rotate", "180"), 4: ("-flip", "vertical"), 5: ("-transpose",),
    6: ("-rotate", "90"), 7: ("-transverse",), 8: ("-rotate", "270"),
}
"""EXIF orientation -> the jpegtran operation that makes the pixels upright (what ``exif_transpose`` does)."""
JPEGTRAN_ENV = JPEGTRAN
"""Names the jpegtran program (a path, or empty to turn lossless rotation off)."""


@cache
def jpegtran() -> str | None:
    """The jpegtran program, or None when it is not installed (or ``WORKBENCH_JPEGTRAN`` is empty)."""
    configured = jpegtran_setting()
    if configured is not None:
        return shutil.which(configured) if configured else None
    return shutil.which("jpegtran")


def rotate_upright(data: bytes, orientation: int) -> bytes | None:
    """``data`` (a JPEG with EXIF ``orientation``) turned upright losslessly, or None when that cannot be done
    (no jpegtran, an edge block that would move, an orientation kept elsewhere than EXIF): re-encode then."""
    tool = jpegtran()
    if tool is None or orientation not in TRANSFORMS:
        return None
    try:
        done = subprocess.run([tool, *TRANSFORMS[orientation], "-perfect", "-copy", "all"], input=data,
                              capture_output=True, check=False, timeout=120)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0 or not done.stdout.startswith(b"\xff\xd8"):
        return None
    return _upright_markers(done.stdout)


def _upright_markers(jpeg: bytes) -> bytes | None:
    """The header segments with the EXIF orientation set to 1 and an MPO index dropped; None without an EXIF
    orientation to reset (an XMP one would still turn the picture in a viewer)."""
    out, position, reset = [jpeg[:2]], 2, False
    while position + 4 <= len(jpeg) and jpeg[position] == 0xFF:
        marker = jpeg[position + 1]
        if marker == 0xDA:  # start of scan: the rest is image data
            break
        length = struct.unpack(">H", jpeg[position + 2:position + 4])[0]
        segment = jpeg[position:position + 2 + length]
        body = segment[4:]
        if marker == 0xE1 and body.startswith(b"Exif\x00\x00"):
            exif = _without_orientation(body)
            if exif is not None:
                segment, reset = b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif, True
        elif marker == 0xE2 and body.startswith(b"MPF\x00"):
            segment = b""  # the index of the other pictures of an MPO, which are not written
        out.append(segment)
        position += 2 + length
    if not reset:
        return None
    out.append(jpeg[position:])
    return b"".join(out)


def _without_orientation(body: bytes) -> bytes | None:
    """The APP1 EXIF body without its Orientation tag (as ``exif_transpose`` leaves it: a reader that sees no tag
    transposes nothing, not even a copy); None when it has none, or the rest would not fit a segment."""
    exif = Image.Exif()
    try:
        exif.load(body)
    except Exception:  # a broken EXIF block: leave the picture to the re-encode
        return None
    if ExifTags.Base.Orientation not in exif:
        return None
    del exif[ExifTags.Base.Orientation]
    data = exif.tobytes()
    return data if len(data) + 2 <= 0xFFFF else None

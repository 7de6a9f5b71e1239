"""Content-hashed copies of image files under the data dir: ``images/ab/abcdef….jpg``.

The same bytes are stored once, whatever their name; a copy is written to a temporary name
and renamed, so a crash or a full disk never leaves a half-written image under its hash
(the temporary file is removed and the failure comes back as a :class:`StoreError` in words).
Only regular files are read, and at most :data:`MAX_IMAGE_BYTES` of them.

>>> import tempfile, io
>>> from PIL import Image
>>> root = Path(tempfile.mkdtemp())
>>> buffer = io.BytesIO(); Image.new("RGB", (8, 4)).save(buffer, "PNG")
>>> blob = ImageBlobs(root).put_bytes(buffer.getvalue())
>>> blob.wh, blob.format, blob.file.name == blob.sha256 + ".png"
((8, 4), 'PNG', True)
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from grounding import ImageReadError, read_image_size
from workbench.errors import StoreError
from workbench.store.faults import write_failure

__all__ = ["Blob", "ImageBlobs", "MAX_IMAGE_BYTES"]

MAX_IMAGE_BYTES = 1 << 30
"""Largest image file the store copies (1 GiB)."""

_SUFFIX = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "GIF": ".gif", "BMP": ".bmp", "TIFF": ".tif"}


@dataclass(frozen=True)
class Blob:
    sha256: str
    file: Path
    width: int
    height: int
    format: str

    @property
    def wh(self) -> tuple[int, int]:
        return (self.width, self.height)


class ImageBlobs:
    """The image folder of a data dir."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str, fmt: str) -> Path:
        return self.root / sha256[:2] / (sha256 + _SUFFIX.get(fmt, "." + fmt.lower()))

    def put_file(self, path: Path, *, name: str | None = None) -> Blob:
        """Store a file's bytes (a regular file, at most ``MAX_IMAGE_BYTES``); ``name`` is how messages call it."""
        name = name or Path(path).name
        try:
            with open(path, "rb") as stream:
                info = os.fstat(stream.fileno())
                if not stat.S_ISREG(info.st_mode):
                    raise StoreError(f"{name}: not a regular file")
                # read(n) reserves n bytes at once: ask for the file's size (+1 to see growth), never the cap
                data = stream.read(min(info.st_size, MAX_IMAGE_BYTES) + 1)
        except OSError as exc:
            raise StoreError(f"{name}: cannot read image ({exc.strerror or exc})") from None
        if len(data) > MAX_IMAGE_BYTES:
            raise StoreError(f"{name}: larger than {MAX_IMAGE_BYTES >> 20} MB, not stored")
        return self.put_bytes(data, name=name)

    def put_bytes(self, data: bytes, *, name: str = "image") -> Blob:
        try:
            size = read_image_size(data)
        except ImageReadError as exc:
            raise StoreError(f"{name}: {str(exc).removeprefix('<bytes>: ')}") from None
        sha256 = hashlib.sha256(data).hexdigest()
        target = self.path_for(sha256, size.format)
        if not target.exists():
            tmp = None
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, target)
            except BaseException as exc:
                if tmp is not None:
                    Path(tmp).unlink(missing_ok=True)
                if isinstance(exc, OSError):
                    raise StoreError(f"{Path(name).name}: the image was not stored: {write_failure(exc)}") from None
                raise
        return Blob(sha256, target, size.width, size.height, size.format)

"""Content-hashed copies of image files under the data dir: ``images/ab/abcdef….jpg``.

The same bytes are stored once, whatever their name; a copy is written to a temporary name
and renamed, so a crash never leaves a half-written image under its hash.

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
import tempfile
from dataclasses import dataclass
from pathlib import Path

from grounding import ImageReadError, read_image_size
from workbench.errors import StoreError

__all__ = ["Blob", "ImageBlobs"]

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
        """Store a file's bytes; ``name`` is how messages call it (default: the path)."""
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise StoreError(f"{name or path}: cannot read image ({exc.strerror or exc})") from None
        return self.put_bytes(data, name=name or str(path))

    def put_bytes(self, data: bytes, *, name: str = "image") -> Blob:
        try:
            size = read_image_size(data)
        except ImageReadError as exc:
            raise StoreError(f"{name}: {str(exc).removeprefix('<bytes>: ')}") from None
        sha256 = hashlib.sha256(data).hexdigest()
        target = self.path_for(sha256, size.format)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return Blob(sha256, target, size.width, size.height, size.format)

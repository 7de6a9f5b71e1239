"""Content-hashed copies of image files under the data dir: ``images/ab/abcdef….jpg``.

The same bytes are stored once, whatever their name; a copy is written to a temporary name
and renamed, so a crash or a full disk never leaves a half-written image under its hash
(the temporary file is removed and the failure comes back as a :class:`StoreError` in words).
Only regular files are read, and at most :data:`MAX_IMAGE_BYTES` of them.

A JPEG with an EXIF orientation other than 1 (a phone photo) also gets its **upright copy**,
``images/ab/abcdef….upright.jpg``: the picture turned losslessly by ``jpegtran -perfect``
(:func:`workbench.store.lossless.rotate_upright`), made once when the image is stored, so that
every export copies it instead of turning the photo again. Its name derives from the original's
hash (no column records it); :func:`discard` removes it with the original. Where it cannot be made
(no jpegtran, edge blocks that would move, a failed write) the image is stored all the same and
exports turn the photo themselves, as they do for images stored before the copies existed
(:func:`keep_upright` then makes it on the first export and keeps it).

>>> import tempfile, io
>>> from PIL import Image
>>> root = Path(tempfile.mkdtemp())
>>> buffer = io.BytesIO(); Image.new("RGB", (8, 4)).save(buffer, "PNG")
>>> blob = ImageBlobs(root).put_bytes(buffer.getvalue())
>>> blob.wh, blob.format, blob.file.name == blob.sha256 + ".png"
((8, 4), 'PNG', True)
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from grounding import ImageReadError, ImageSize, read_image_size
from workbench.errors import StoreError
from workbench.store.faults import write_failure
from workbench.store.lossless import rotate_upright

__all__ = ["Blob", "ImageBlobs", "MAX_IMAGE_BYTES", "UPRIGHT_SUFFIX", "discard", "keep_upright", "kept_upright",
           "needs_upright", "upright_path"]

MAX_IMAGE_BYTES = 1 << 30
"""Largest image file the store copies (1 GiB)."""

_SUFFIX = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "GIF": ".gif", "BMP": ".bmp", "TIFF": ".tif"}
UPRIGHT_SUFFIX = ".upright.jpg"
"""Ends the name of a stored image's upright copy: ``<sha256>.upright.jpg`` beside ``<sha256>.jpg``."""
_STORED_NAME = re.compile(r"([0-9a-f]{64})\.[a-z0-9]+")


def _write_atomic(target: Path, data: bytes) -> None:
    """Write ``data`` to a temporary name beside ``target``, flush it to disk, rename it over ``target``."""
    tmp = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise


def needs_upright(size: ImageSize) -> bool:
    """True for a JPEG (or MPO) whose header turns it for display: the images that get an upright copy."""
    return size.format in ("JPEG", "MPO") and size.orientation != 1


def upright_path(file: str | os.PathLike[str]) -> Path | None:
    """Where the upright copy of the stored image ``file`` goes; None when ``file`` is not named as the store
    names images (``ab/<sha256 starting ab>.<suffix>``), so nothing is ever written beside other files.

    >>> upright_path(Path("images") / "ab" / ("ab" + "0" * 62 + ".jpg")).name == "ab" + "0" * 62 + ".upright.jpg"
    True
    >>> upright_path("photos/IMG_0001.jpg") is None
    True
    """
    path = Path(file)
    match = _STORED_NAME.fullmatch(path.name)
    if match is None or path.parent.name != match.group(1)[:2]:
        return None
    return path.with_name(match.group(1) + UPRIGHT_SUFFIX)


def kept_upright(file: str | os.PathLike[str]) -> bytes | None:
    """The bytes of the stored image's upright copy, or None when it has none (upright already, stored before
    the copies existed, or one jpegtran could not turn). A copy that is not a whole JPEG is not used."""
    path = upright_path(file)
    if path is None:
        return None
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return data if data.startswith(b"\xff\xd8") and data.endswith(b"\xff\xd9") else None


def keep_upright(file: str | os.PathLike[str], data: bytes | None = None, size: ImageSize | None = None) -> bytes | None:
    """``file`` (``data``: its bytes, when already read) turned upright losslessly: a stored image's upright
    copy, made and kept now when it is missing; None when the image needs no turn or cannot be turned
    losslessly (no jpegtran, edge blocks that would move): the caller re-encodes it then.

    Only a stored image's own bytes are kept (named as the store names images, hashing to the name):
    any other file is turned and nothing is written beside it. Concurrent writers are safe: each
    writes a temporary file and renames it over the same name, and both write the same bytes.
    """
    target = upright_path(file)
    if target is not None and (kept := kept_upright(file)) is not None:
        return kept
    if data is None:
        data = Path(file).read_bytes()
    if size is None:
        size = read_image_size(data)
    if not needs_upright(size):
        return None
    if target is None or hashlib.sha256(data).hexdigest() != target.name.removesuffix(UPRIGHT_SUFFIX):
        return rotate_upright(data, size.orientation)  # not the store's bytes for this name: nothing kept
    return _make_upright(target, data, size)


def _make_upright(target: Path, data: bytes, size: ImageSize) -> bytes | None:
    """Turn ``data`` upright losslessly and keep it at ``target``; the turned bytes, or None when jpegtran
    cannot turn it. A copy that cannot be written is not an error: the turned bytes come back all the same."""
    turned = rotate_upright(data, size.orientation)
    if turned is None:
        return None
    # a full disk or a read-only store: the caller goes on with the bytes; the next export tries again
    with contextlib.suppress(OSError):
        _write_atomic(target, turned)
    return turned


def discard(file: str | os.PathLike[str]) -> None:
    """Delete a stored image file and its upright copy (missing ones are fine)."""
    Path(file).unlink(missing_ok=True)
    if (upright := upright_path(file)) is not None:
        upright.unlink(missing_ok=True)


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
        """Store image bytes under their hash (and a phone photo's upright copy beside them, see above)."""
        try:
            size = read_image_size(data)
        except ImageReadError as exc:
            raise StoreError(f"{name}: {str(exc).removeprefix('<bytes>: ')}") from None
        sha256 = hashlib.sha256(data).hexdigest()
        target = self.path_for(sha256, size.format)
        if not target.exists():
            try:
                _write_atomic(target, data)
            except OSError as exc:
                raise StoreError(f"{Path(name).name}: the image was not stored: {write_failure(exc)}") from None
        if needs_upright(size) and not (upright := self.upright_path(sha256)).exists():
            _make_upright(upright, data, size)  # once, here, rather than on every export
        return Blob(sha256, target, size.width, size.height, size.format)

    def upright_path(self, sha256: str) -> Path:
        """Where the upright copy of the stored image ``sha256`` goes (whether or not it has one)."""
        return self.root / sha256[:2] / (sha256 + UPRIGHT_SUFFIX)

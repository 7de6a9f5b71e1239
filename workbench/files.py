"""Image files a visitor sent, checked before anything decodes them: regular file, bytes, decoded pixels.

Every check reads at most the file's header (and its size from ``stat``): a 500 KB PNG that
decodes to 13000 x 13000 pixels is refused here, before it costs gigabytes. Special files
(``/dev/zero``, FIFOs, folders) are refused without being read. Messages name the file by its
base name only and state the limit.

>>> import io, tempfile, pathlib
>>> from PIL import Image
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> Image.new("L", (4000, 3000)).save(folder / "big.png")
>>> check_image_file(folder / "big.png", ResourceLimits(upload_pixels=20_000_000)).wh
(4000, 3000)
>>> check_image_file(folder / "big.png", ResourceLimits(upload_pixels=1_000_000))
Traceback (most recent call last):
...
workbench.files.ImageLimitError: big.png: 4000 x 3000 = 12.0 MP decoded; one image may have at most 1.0 MP here
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from grounding import ImageReadError, ImageSize, read_image_size
from workbench.errors import WorkbenchError
from workbench.limits import ResourceLimits

__all__ = ["ImageLimitError", "SessionUsage", "check_image_file", "file_inside", "read_bounded", "session_usage",
           "megabytes", "megapixels"]


class ImageLimitError(WorkbenchError):
    """An image file that is not a readable image, or larger than the deployment allows."""


def megabytes(n: int) -> str:
    """Bytes in megabytes, for messages.

    >>> megabytes(52428800)
    '50 MB'
    """
    return f"{n / (1 << 20):.3g} MB"


def megapixels(n: int) -> str:
    """Pixels in megapixels, for messages.

    >>> megapixels(50_000_000)
    '50.0 MP'
    """
    return f"{n / 1e6:.1f} MP"


def file_inside(path: str | os.PathLike, folder: str | os.PathLike) -> Path | None:
    """``path`` with links resolved when it is a regular file inside ``folder``, else None.

    Nothing outside ``folder`` is looked at (not even whether it exists), so the answer tells a
    caller nothing about the rest of the machine.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp()); (folder / "a.png").write_bytes(b"x")
    1
    >>> file_inside(folder / "a.png", folder) == (folder / "a.png").resolve(), file_inside("/etc/hostname", folder)
    (True, None)
    >>> file_inside(folder / ".." / "x", folder) is None
    True
    """
    root = os.path.realpath(folder)
    raw = os.path.abspath(os.path.join(root, os.fspath(path)))
    if os.path.commonpath([raw, root]) != root:
        return None
    resolved = os.path.realpath(raw)
    if resolved == root or os.path.commonpath([resolved, root]) != root:
        return None
    try:
        if not stat.S_ISREG(os.stat(resolved).st_mode):
            return None
    except OSError:
        return None
    return Path(resolved)


def _regular_size(path: Path) -> int:
    """The file's byte size; refuse anything but a regular file (without opening it)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ImageLimitError(f"{path.name}: no such file") from None
    except OSError as exc:
        raise ImageLimitError(f"{path.name}: cannot read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):
        raise ImageLimitError(f"{path.name}: not a regular file")
    return info.st_size


def read_bounded(path: str | os.PathLike, max_bytes: int) -> bytes:
    """The whole file when it is a regular file of at most ``max_bytes`` (0: no bound); raise otherwise.

    The bound holds even when the file grows while it is read.
    """
    path = Path(path)
    if max_bytes and _regular_size(path) > max_bytes:
        raise ImageLimitError(f"{path.name}: larger than {megabytes(max_bytes)}")
    try:
        with open(path, "rb") as stream:
            if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
                raise ImageLimitError(f"{path.name}: not a regular file")
            data = stream.read(max_bytes + 1) if max_bytes else stream.read()
    except OSError as exc:
        raise ImageLimitError(f"{path.name}: cannot read ({exc.strerror or exc})") from None
    if max_bytes and len(data) > max_bytes:
        raise ImageLimitError(f"{path.name}: larger than {megabytes(max_bytes)}")
    return data


def check_image_file(path: str | os.PathLike, limits: ResourceLimits, *, name: str | None = None) -> ImageSize:
    """The image's displayed size, when the file is within the per-upload byte and pixel limits."""
    path = Path(path)
    label = name or path.name
    size_bytes = _regular_size(path)
    if limits.upload_bytes and size_bytes > limits.upload_bytes:
        raise ImageLimitError(f"{label}: {megabytes(size_bytes)}; one file may have at most "
                              f"{megabytes(limits.upload_bytes)} here")
    try:
        size = read_image_size(path)
    except ImageReadError as exc:
        raise ImageLimitError(f"{label}: {str(exc).split(': ', 1)[-1]}") from None
    pixels = size.width * size.height
    if limits.upload_pixels and pixels > limits.upload_pixels:
        raise ImageLimitError(f"{label}: {size.width} x {size.height} = {megapixels(pixels)} decoded; one image may "
                              f"have at most {megapixels(limits.upload_pixels)} here")
    return size


@dataclass(frozen=True)
class SessionUsage:
    """What the images a session keeps already cost."""

    files: int = 0
    bytes: int = 0
    pixels: int = 0

    def check_room(self, new_bytes: int, new_pixels: int, limits: ResourceLimits, label: str) -> None:
        """Raise when one more image of this size would pass the session's budget.

        >>> SessionUsage(3, 100, 9_000_000).check_room(10, 2_000_000, ResourceLimits(session_pixels=10_000_000), "a.jpg")
        Traceback (most recent call last):
        ...
        workbench.files.ImageLimitError: a.jpg: this session already holds 3 images of 9.0 MP; with this one it would pass its budget of 10.0 MP (remove images or start a new session)
        """
        if limits.session_bytes and self.bytes + new_bytes > limits.session_bytes:
            raise ImageLimitError(f"{label}: this session already holds {self.files} images of "
                                  f"{megabytes(self.bytes)}; with this one it would pass its budget of "
                                  f"{megabytes(limits.session_bytes)} (remove images or start a new session)")
        if limits.session_pixels and self.pixels + new_pixels > limits.session_pixels:
            raise ImageLimitError(f"{label}: this session already holds {self.files} images of "
                                  f"{megapixels(self.pixels)}; with this one it would pass its budget of "
                                  f"{megapixels(limits.session_pixels)} (remove images or start a new session)")


def session_usage(files: Iterable[str | os.PathLike]) -> SessionUsage:
    """Bytes and decoded pixels of the files a session keeps (headers only; unreadable files count 0 pixels)."""
    count = total_bytes = total_pixels = 0
    for file in files:
        path = Path(file)
        try:
            total_bytes += path.stat().st_size
        except OSError:
            continue
        count += 1
        try:
            size = read_image_size(path)
        except ImageReadError:
            continue
        total_pixels += size.width * size.height
    return SessionUsage(count, total_bytes, total_pixels)

"""The files the browser fetches: thumbnails and display copies of stored images, named by content.

They live under one folder of the data dir (``served/``), the only folder the web app serves
from it; the database and the original images beside it are never reachable by URL. A copy is
made on first use (JPEG draft decoding: a 12 MP photo is decoded at 1/2, 1/4 or 1/8 scale, never in
full), upright (EXIF applied) and reused by every session, since its name is the image's hash.

>>> import tempfile
>>> from PIL import Image
>>> folder = Path(tempfile.mkdtemp()); Image.new("RGB", (4000, 3000)).save(folder / "big.jpg")
>>> served = ServedFiles(folder / "served")
>>> copy = served.display(folder / "big.jpg", "ab12", (4000, 3000))
>>> copy.wh, copy.path.name, served.thumbnail(folder / "big.jpg", "ab12", (4000, 3000)).wh
((1600, 1200), 'ab12-1600.jpg', (256, 192))
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from grounding.decode import decode_upright
from grounding.display import DisplayScale
from workbench.errors import StoreError

__all__ = ["DISPLAY_MAX_SIDE", "THUMB_MAX_SIDE", "ServedCopy", "ServedFiles", "open_upright"]

DISPLAY_MAX_SIDE = 1600
"""Long side of the copy the editor shows (boxes are mapped back with :class:`DisplayScale`)."""
THUMB_MAX_SIDE = 256


@dataclass(frozen=True)
class ServedCopy:
    path: Path
    wh: tuple[int, int]
    original_wh: tuple[int, int]

    @property
    def scale(self) -> DisplayScale:
        return DisplayScale(self.original_wh, self.wh)


def open_upright(path: str | os.PathLike, size_hint: tuple[int, int] | None = None) -> Image.Image:
    """The image as the user sees it (EXIF orientation applied), 8-bit RGB by its values' real range (a 16-bit
    PNG is not white); decoded at reduced size when ``size_hint`` (upright W, H) is much smaller than the file
    (JPEG draft mode). :func:`grounding.decode.decode_upright`, the one decode path."""
    return decode_upright(path, size_hint)


class ServedFiles:
    """Thumbnails and display copies under ``root`` (the folder the app serves)."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    def _copy(self, source: Path, sha256: str, original_wh: tuple[int, int], max_side: int, kind: str) -> ServedCopy:
        scale = DisplayScale.fit(original_wh, max_side)
        target = self.root / kind / sha256[:2] / f"{sha256}-{max_side}.jpg"
        if not target.exists():
            try:
                picture = open_upright(source, scale.display_wh)
                if picture.size != scale.display_wh:
                    picture = picture.resize(scale.display_wh, Image.Resampling.LANCZOS)
                target.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-", suffix=".jpg")
                with os.fdopen(fd, "wb") as out:
                    picture.save(out, "JPEG", quality=88)
                os.replace(tmp, target)
            except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:  # ImageReadError too
                raise StoreError(f"{source.name}: cannot make a copy for the browser ({exc})") from None
        return ServedCopy(target, scale.display_wh, original_wh)

    def display(self, source: str | os.PathLike, sha256: str, original_wh: tuple[int, int]) -> ServedCopy:
        """The editor's copy of an image (long side at most :data:`DISPLAY_MAX_SIDE`)."""
        return self._copy(Path(source), sha256, original_wh, DISPLAY_MAX_SIDE, "display")

    def thumbnail(self, source: str | os.PathLike, sha256: str, original_wh: tuple[int, int]) -> ServedCopy:
        """The queue's small copy (long side at most :data:`THUMB_MAX_SIDE`)."""
        return self._copy(Path(source), sha256, original_wh, THUMB_MAX_SIDE, "thumbs")

    def scratch(self, name: str) -> Path:
        """A folder for files made for one request (drawn results, export zips)."""
        folder = self.root / "scratch" / name
        folder.mkdir(parents=True, exist_ok=True)
        return folder

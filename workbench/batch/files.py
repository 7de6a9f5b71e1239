"""Units from a folder of image files: one unit per image, keyed by its path inside the folder.

Files whose suffix says image are taken in sorted order (so keys and order are stable between
runs); whether each one really is an image is found out when its unit runs, and a file that is
not becomes that unit's failure, not the run's.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> for name in ("b.png", "a.jpg", "notes.txt"):
...     _ = (folder / name).write_bytes(b"")
>>> [u.key for u in units_from_folder(folder)]
['a.jpg', 'b.png']
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from workbench.batch.units import WorkUnit
from workbench.errors import WorkbenchError

__all__ = ["IMAGE_SUFFIXES", "image_files", "units_from_folder"]

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"})


def image_files(folder: str | os.PathLike[str], *, recursive: bool = False) -> list[Path]:
    """Image files under ``folder`` by suffix, sorted by their path inside it."""
    root = Path(folder)
    if not root.is_dir():
        raise WorkbenchError(f"{root}: not a folder")
    found = root.rglob("*") if recursive else root.iterdir()
    return sorted((p for p in found if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES), key=lambda p: p.relative_to(root).as_posix())


def units_from_folder(folder: str | os.PathLike[str], *, recursive: bool = False, prompt: str = "") -> Iterator[WorkUnit]:
    """One single-image unit per image file; the key is the file's path inside ``folder``."""
    root = Path(folder)
    for path in image_files(root, recursive=recursive):
        yield WorkUnit(path.relative_to(root).as_posix(), (path,), prompt=prompt)

"""Where an import may read: inside the folder it was given, unless the person allows more.

A file an import *names* (a Label Studio task's image, a YOLO list file's line, a ``data.yaml``'s
``path``, an output line's image, a COCO ``file_name``) is read only when it lies inside the
import's folder once links are resolved, so a crafted file cannot make ``workbench import`` copy
``/etc/shadow`` or ``~/.ssh/id_rsa`` into a dataset (and from there into an export).
``allow_outside`` (the CLI's ``--allow-outside``) lifts the rule for sources the person trusts.

>>> import tempfile
>>> root = Path(tempfile.mkdtemp()); (root / "a.png").write_bytes(b"x")
1
>>> folder = ImportFolder(root)
>>> folder.contains(root / "a.png"), folder.contains(root / ".." / "a.png"), folder.contains("/etc/hostname")
(True, False, False)
>>> ImportFolder("photos").check("photos/../secret.png", "task 3")
Traceback (most recent call last):
...
workbench.importers.base.DatasetImportError: task 3: photos/../secret.png is outside the import's folder (photos); pass --allow-outside to read files outside it
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from workbench.importers.base import DatasetImportError

__all__ = ["ImportFolder", "OUTSIDE_HINT"]

OUTSIDE_HINT = "pass --allow-outside to read files outside it"


@dataclass(frozen=True)
class ImportFolder:
    """The folders an import may read (``roots``), or anywhere with ``allow_outside``."""

    root: Path
    more: tuple[Path, ...] = ()
    allow_outside: bool = False

    def __init__(self, root: str | os.PathLike, *more: str | os.PathLike | None, allow_outside: bool = False) -> None:
        object.__setattr__(self, "root", Path(root))
        object.__setattr__(self, "more", tuple(Path(m) for m in more if m is not None))
        object.__setattr__(self, "allow_outside", allow_outside)

    @property
    def roots(self) -> tuple[Path, ...]:
        return (self.root, *self.more)

    def contains(self, path: str | os.PathLike) -> bool:
        """Whether ``path`` (links resolved) lies inside one of the roots (always True with ``allow_outside``)."""
        if self.allow_outside:
            return True
        resolved = os.path.realpath(path)
        for root in self.roots:
            base = os.path.realpath(root)
            if resolved == base or os.path.commonpath([resolved, base]) == base:
                return True
        return False

    def check(self, path: str | os.PathLike, where: str) -> Path:
        """``path`` when :meth:`contains` it; a :class:`DatasetImportError` naming ``where`` otherwise."""
        if not self.contains(path):
            raise DatasetImportError(f"{where}: {os.fspath(path)} is outside the import's folder "
                                     f"({', '.join(str(r) for r in self.roots)}); {OUTSIDE_HINT}")
        return Path(path)

    def inside(self, paths: Iterable[Path]) -> list[Path]:
        """The paths that lie inside (for candidates tried in turn)."""
        return [p for p in paths if self.contains(p)]

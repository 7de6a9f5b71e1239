"""Image files, folders, globs and zips -> one new item per image (``workbench import images``, the UI's upload).

The same image twice (same bytes, whatever its name) is one image: a file whose content the
dataset already holds is skipped and counted. Each image is stored in its own transaction, so an
import that is interrupted keeps what it stored and a second run adds only the rest. A file that
is not a readable image is reported by name and skipped; the others still come in.

>>> import tempfile
>>> from PIL import Image
>>> from workbench.store import DatasetStore
>>> folder = Path(tempfile.mkdtemp()); Image.new("RGB", (64, 48)).save(folder / "a.png")
>>> (folder / "notes.txt").write_text("not an image")
12
>>> store = DatasetStore(folder / "db" / "workbench.sqlite3")
>>> report = import_images(store, "pets", [folder])
>>> len(report.items), report.skipped, import_images(store, "pets", [folder / "a.png"]).duplicates
(1, 0, 1)
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path, PurePosixPath

from workbench.errors import StoreError
from workbench.importers.base import DatasetImportError, ImportReport
from workbench.store import DatasetStore, ImageSource

__all__ = ["IMAGE_SUFFIXES", "MAX_ZIP_BYTES", "expand_paths", "import_images"]

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff", ".mpo"})
MAX_ZIP_BYTES = 8 * 1024**3
"""Uncompressed bytes a zip may hold (a zip bomb stops here, with a message)."""


def _is_glob(text: str) -> bool:
    return any(ch in text for ch in "*?[")


def expand_paths(paths: Sequence[str | os.PathLike]) -> Iterator[Path]:
    """Files in a stable order: files as given, folders walked (sorted), globs matched, zips kept as zips."""
    for raw in paths:
        text = os.fspath(raw)
        path = Path(text)
        if path.is_dir():
            yield from sorted((p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")
                               and (p.suffix.lower() in IMAGE_SUFFIXES or p.suffix.lower() == ".zip")),
                              key=lambda p: p.as_posix())
        elif path.exists() or not _is_glob(text):
            yield path
        else:
            yield from (Path(p) for p in sorted(glob.glob(text, recursive=True)) if Path(p).is_file())


def _zip_members(archive: Path, workdir: Path) -> Iterator[tuple[Path, str]]:
    """Image members of a zip, extracted one by one into ``workdir`` (names never leave it)."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.infolist() if not m.is_dir() and PurePosixPath(m.filename).suffix.lower()
                       in IMAGE_SUFFIXES and not PurePosixPath(m.filename).name.startswith(".")]
            if sum(m.file_size for m in members) > MAX_ZIP_BYTES:
                raise DatasetImportError(f"{archive.name}: holds more than {MAX_ZIP_BYTES // 1024**3} GB of images "
                                         "uncompressed; unpack it and import the folder")
            for n, member in enumerate(sorted(members, key=lambda m: m.filename)):
                name = PurePosixPath(member.filename).name
                target = workdir / f"{n:06d}{PurePosixPath(name).suffix.lower()}"
                with zf.open(member) as source, open(target, "wb") as out:
                    shutil.copyfileobj(source, out, 1 << 20)
                yield target, name
                target.unlink(missing_ok=True)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DatasetImportError(f"{archive.name}: not a zip file that can be read ({exc})") from None


def import_images(store: DatasetStore, dataset: str, paths: Sequence[str | os.PathLike], *, owner: str = "",
                  create: bool = True, names: Sequence[str] | None = None,
                  progress: Callable[[int], None] | None = None) -> ImportReport:
    """Add each image under ``paths`` to ``dataset`` as its own item (status ``new``).

    ``names`` (one per path) are the file names to record instead of the paths' own (an upload's
    original name). ``progress`` is called with the number of files handled so far.
    """
    try:
        record = store.dataset(dataset, owner=owner)
    except StoreError:
        if not create:
            raise
        record = store.create_dataset(dataset, owner=owner)
    items: list[int] = []
    warnings: list[str] = []
    duplicates = skipped = handled = 0
    given = {os.fspath(p): n for p, n in zip(paths, names or [])}

    def add(path: Path, name: str) -> None:
        nonlocal duplicates, skipped
        try:
            blob = store.blobs.put_file(path, name=name)
        except StoreError as exc:
            skipped += 1
            warnings.append(str(exc))
            return
        if store.find_image(record.id, blob.sha256) is not None:
            duplicates += 1
            return
        items.append(store.add_item_blobs(record.id, [(ImageSource(Path(name), Path(name).stem), blob)]).id)

    with tempfile.TemporaryDirectory(prefix="workbench-import-") as workdir:
        for path in expand_paths(paths):
            name = given.get(os.fspath(path), path.name)
            if not path.is_file():
                skipped += 1
                warnings.append(f"{name}: no such file")
            elif path.suffix.lower() == ".zip" or Path(name).suffix.lower() == ".zip":
                for member, member_name in _zip_members(path, Path(workdir)):
                    add(member, member_name)
                    handled += 1
                    if progress:
                        progress(handled)
                continue
            else:
                add(path, name)
            handled += 1
            if progress:
                progress(handled)
    if not items and not duplicates and skipped == 0:
        warnings.append("no image files were found")
    return ImportReport(record.name, tuple(items), 0, tuple(warnings), duplicates=duplicates, skipped=skipped)

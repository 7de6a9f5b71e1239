"""Image files, folders, globs and zips -> one new item per image (``workbench import images``, the UI's upload).

The same image twice (same bytes, whatever its name) is one image: a file whose content the
dataset already holds is skipped and counted. Each image is stored in its own transaction, so an
import that is interrupted keeps what it stored and a second run adds only the rest. A file that
is not a readable image is reported by name and skipped; the others still come in.

Every image is held to the deployment's per-upload budget (bytes, and decoded pixels read from
its header: :func:`workbench.files.check_image_file`, the same check as Try it and the
API) before it is stored, so nothing later decodes an image past it. A zip is read member by
member: declared sizes and compression ratios are checked before a byte is inflated, each
member's header before its body, and bodies are streamed to disk under a byte cap
(:data:`MAX_ZIP_RATIO`, :attr:`~workbench.deployment.ResourceLimits.import_bytes`).

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
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from grounding import ImageReadError, read_image_size
from workbench.deployment import ResourceLimits
from workbench.errors import StoreError
from workbench.files import ImageLimitError, check_image_file, megabytes, megapixels
from workbench.importers.base import DatasetImportError, ImportReport
from workbench.store import DatasetStore, ImageSource

__all__ = ["IMAGE_SUFFIXES", "MAX_ZIP_RATIO", "expand_paths", "import_images"]

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff", ".mpo"})
MAX_ZIP_RATIO = 200
"""Largest inflated / compressed size of a zip member over 1 MB (images are compressed already: a member that
inflates 200-fold is a bomb, not a photo)."""
_HEADER_BYTES = 1 << 18
"""What is read of a zip member to learn its image size before its body is written out."""


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


def _check_member(member: zipfile.ZipInfo, name: str, limits: ResourceLimits) -> None:
    """Refuse a member from what the zip declares, before anything is inflated."""
    if limits.upload_bytes and member.file_size > limits.upload_bytes:
        raise ImageLimitError(f"{name}: {megabytes(member.file_size)} uncompressed; one file may have at most "
                              f"{megabytes(limits.upload_bytes)} here")
    if member.file_size > 1 << 20 and member.file_size > MAX_ZIP_RATIO * max(1, member.compress_size):
        raise ImageLimitError(f"{name}: compressed {member.file_size // max(1, member.compress_size)}:1, more than "
                              f"an image ever is ({MAX_ZIP_RATIO}:1); not unpacked")


def _extract_member(zf: zipfile.ZipFile, member: zipfile.ZipInfo, name: str, target: Path,
                    limits: ResourceLimits) -> None:
    """The member's header checked against the pixel budget, then its body streamed to ``target`` (at most its
    declared size, which :func:`_check_member` bounded)."""
    cap = member.file_size
    with zf.open(member) as source:
        head = source.read(min(cap, _HEADER_BYTES))
        try:
            size = read_image_size(head)
        except ImageReadError:
            size = None  # a header longer than the head (a JPEG with a large EXIF block): checked once written
        if size is not None and limits.upload_pixels and size.width * size.height > limits.upload_pixels:
            raise ImageLimitError(f"{name}: {size.width} x {size.height} = {megapixels(size.width * size.height)} "
                                  f"decoded; one image may have at most {megapixels(limits.upload_pixels)} here")
        written = len(head)
        with open(target, "wb") as out:
            out.write(head)
            while chunk := source.read(1 << 20):
                written += len(chunk)
                if written > cap:
                    raise ImageLimitError(f"{name}: larger than the zip declares; not unpacked")
                out.write(chunk)


def _zip_members(archive: Path, workdir: Path, limits: ResourceLimits,
                 refused: list[str]) -> Iterator[tuple[Path, str]]:
    """Image members of a zip, extracted one by one into ``workdir`` (names never leave it).

    The zip's declared sizes are checked first (all members together at most ``limits.import_bytes``,
    each within the per-file budget and a believable compression ratio); a member refused on its own is
    named in ``refused`` and the others still come.
    """
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.infolist() if not m.is_dir() and PurePosixPath(m.filename).suffix.lower()
                       in IMAGE_SUFFIXES and not PurePosixPath(m.filename).name.startswith(".")]
            total = sum(m.file_size for m in members)
            if limits.import_bytes and total > limits.import_bytes:
                raise DatasetImportError(f"{archive.name}: holds {megabytes(total)} of images uncompressed; one "
                                         f"import may unpack at most {megabytes(limits.import_bytes)} here "
                                         "(split it, or import the folder)")
            for n, member in enumerate(sorted(members, key=lambda m: m.filename)):
                name = PurePosixPath(member.filename).name
                target = workdir / f"{n:06d}{PurePosixPath(name).suffix.lower()}"
                try:
                    _check_member(member, name, limits)
                    _extract_member(zf, member, name, target, limits)
                except ImageLimitError as exc:
                    target.unlink(missing_ok=True)
                    refused.append(str(exc))
                    continue
                except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                    target.unlink(missing_ok=True)
                    refused.append(f"{name}: damaged in the zip ({exc})")
                    continue
                yield target, name
                target.unlink(missing_ok=True)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DatasetImportError(f"{archive.name}: not a zip file that can be read ({exc})") from None


def import_images(store: DatasetStore, dataset: str, paths: Sequence[str | os.PathLike], *, owner: str = "",
                  create: bool = True, names: Sequence[str] | None = None,
                  progress: Callable[[int], None] | None = None,
                  limits: ResourceLimits | None = None) -> ImportReport:
    """Add each image under ``paths`` to ``dataset`` as its own item (status ``new``).

    ``names`` (one per path) are the file names to record instead of the paths' own (an upload's
    original name). ``progress`` is called with the number of files handled so far. ``limits``
    (the deployment's; the built-in bounds when not given) bound each image and each zip.
    """
    limits = limits or ResourceLimits()  # the built-in bounds; entry points pass the deployment's
    found: list = []

    def record_now() -> Any:
        """The dataset, created when the first image is stored (an import of refused files creates nothing)."""
        if not found:
            try:
                found.append(store.dataset(dataset, owner=owner))
            except StoreError:
                if not create:
                    raise
                found.append(store.create_dataset(dataset, owner=owner))
        return found[0]

    if not create:
        record_now()  # a missing dataset is said before any file is read
    items: list[int] = []
    warnings: list[str] = []
    duplicates = skipped = handled = 0
    given = {os.fspath(p): n for p, n in zip(paths, names or [])}

    def add(path: Path, name: str) -> None:
        nonlocal duplicates, skipped
        try:
            check_image_file(path, limits, name=name)  # header only: the budget holds before anything decodes
            blob = store.blobs.put_file(path, name=name)
        except (StoreError, ImageLimitError) as exc:
            skipped += 1
            warnings.append(str(exc))
            return
        record = record_now()
        if store.find_image(record.id, blob.sha256) is not None:
            duplicates += 1
            return
        items.append(store.add_item_blobs(record.id, [(ImageSource(Path(name), Path(name).stem), blob)]).id)

    with tempfile.TemporaryDirectory(prefix="workbench-import-") as workdir:
        for path in expand_paths(paths):
            name = given.get(os.fspath(path), path.name)
            if not path.is_file():
                skipped += 1
                warnings.append(f"{name}: {'not a regular file' if path.exists() else 'no such file'}")
            elif path.suffix.lower() == ".zip" or Path(name).suffix.lower() == ".zip":
                refused: list[str] = []
                for member, member_name in _zip_members(path, Path(workdir), limits, refused):
                    add(member, member_name)
                    handled += 1
                    if progress:
                        progress(handled)
                skipped += len(refused)
                warnings.extend(refused)
                continue
            else:
                add(path, name)
            handled += 1
            if progress:
                progress(handled)
    if not items and not duplicates and skipped == 0:
        warnings.append("no image files were found")
    name = found[0].name if found else dataset
    return ImportReport(name, tuple(items), 0, tuple(warnings), duplicates=duplicates, skipped=skipped)

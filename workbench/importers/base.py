"""What every importer returns, its error, and the one place where imports write to the store.

Importers read their source into plain :class:`ImportSample` values first (nothing written),
then hand them to :func:`write_samples`, the only function here that calls the store: it
stores each image once by content hash (the same picture twice is one image), creates the
dataset when needed and appends one sample per :class:`ImportSample`. A source that fails
to read adds nothing.

>>> ImportReport("demo", (1, 2), 5).samples
(1, 2)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grounding import ImageReadError, read_image_size
from workbench.errors import StoreError, WorkbenchError
from workbench.store import AnnotationDraft, DatasetStore, ImageSource

__all__ = ["DatasetImportError", "ImportImage", "ImportReport", "ImportSample", "draft", "image_wh", "write_samples"]


class DatasetImportError(WorkbenchError):
    """An import source is malformed; nothing was written to the store."""


@dataclass(frozen=True)
class ImportReport:
    dataset: str
    samples: tuple[int, ...]
    annotations: int
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImportImage:
    """One image to import: a file or its bytes, the ID to show, its annotations in original pixels."""

    source: Path | bytes
    image_id: str | None = None
    annotations: tuple[AnnotationDraft, ...] = ()
    name: str = ""
    """The original file name (for bytes; a file's own name otherwise)."""


@dataclass(frozen=True)
class ImportSample:
    images: tuple[ImportImage, ...]
    prompt: str = ""


def image_wh(source: str | os.PathLike | bytes, where: str) -> tuple[int, int]:
    """Displayed (EXIF-upright) size from the header, as the store will record it."""
    try:
        return read_image_size(source).wh
    except ImageReadError as exc:
        raise DatasetImportError(f"{where}: {exc}") from None


def write_samples(store: DatasetStore, dataset: str, samples: Sequence[ImportSample], *, new: bool = False,
                  warnings: Sequence[str] = ()) -> ImportReport:
    """Store the images, then add ``samples`` to ``dataset`` (created if missing; ``new``: must not exist yet)."""
    if not samples:
        raise DatasetImportError("nothing to import: the source holds no images")
    staged = []
    for n, sample in enumerate(samples, 1):
        entries = []
        for image in sample.images:
            try:
                if isinstance(image.source, bytes):
                    blob = store.blobs.put_bytes(image.source, name=image.name or f"sample {n}")
                    path = Path(image.name or f"image-{blob.sha256[:12]}")
                else:
                    blob = store.blobs.put_file(Path(image.source))
                    path = Path(image.name) if image.name else Path(image.source)
            except StoreError as exc:
                raise DatasetImportError(f"sample {n}: {exc}") from None
            entries.append((ImageSource(path, image.image_id), blob, list(image.annotations)))
        staged.append((sample.prompt, entries))
    exists = dataset in {d.name for d in store.list_datasets()}
    if new and exists:
        raise DatasetImportError(f"a dataset named {dataset!r} already exists; import under another --name")
    if not exists:
        store.create_dataset(dataset)
    ids = [store.add_sample_blobs(dataset, [(s, b) for s, b, _ in entries], prompt, [a for *_, a in entries]).id
           for prompt, entries in staged]
    count = sum(len(a) for _, entries in staged for *_, a in entries)
    return ImportReport(dataset, tuple(ids), count, tuple(warnings))


def draft(kind: str, coords: Sequence[float], label: str, where: str, **options: object) -> AnnotationDraft:
    """An annotation draft, or a :class:`DatasetImportError` naming where the bad one came from."""
    try:
        return AnnotationDraft(kind, tuple(coords), label, **options)  # type: ignore[arg-type]
    except (ValueError, TypeError) as exc:
        raise DatasetImportError(f"{where}: {exc}") from None


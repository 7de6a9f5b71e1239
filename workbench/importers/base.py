"""What every importer returns, its error, and the one place where imports write to the store.

Importers read their source into plain :class:`ImportSample` values first (nothing written),
then hand them to :func:`write_samples`, the only function here that calls the store: it
stores each image once by content hash (the same picture twice is one image), creates the
dataset when needed and appends one item per :class:`ImportSample` (with the item status the
source implies: ground truth is ``accepted``; a model's answer lands as a run's proposals, so the
item is ``pre-annotated`` with full provenance). A source that fails to read adds nothing.

>>> ImportReport("demo", (1, 2), 5, duplicates=1).as_dict()
{'dataset': 'demo', 'items': 2, 'annotations': 5, 'duplicates': 1, 'skipped': 0, 'warnings': []}
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grounding import ImageReadError, read_image_size
from workbench.errors import StoreError, WorkbenchError
from workbench.store import AnnotationDraft, DatasetStore, ImageSource
from workbench.store.rules import check_status

__all__ = ["DatasetImportError", "ImportImage", "ImportReport", "ImportSample", "Picture", "draft", "image_wh",
           "regroup", "write_samples"]


class DatasetImportError(WorkbenchError):
    """An import source is malformed; nothing was written to the store."""


@dataclass(frozen=True)
class ImportReport:
    dataset: str
    items: tuple[int, ...]
    """Ids of the items created, in order."""
    annotations: int
    warnings: tuple[str, ...] = ()
    duplicates: int = 0
    """Images the dataset already held (same content): not added again."""
    skipped: int = 0
    """Files that could not be read as images (named in ``warnings``)."""

    def as_dict(self) -> dict[str, object]:
        return {"dataset": self.dataset, "items": len(self.items), "annotations": self.annotations,
                "duplicates": self.duplicates, "skipped": self.skipped, "warnings": list(self.warnings)}


@dataclass(frozen=True)
class ImportImage:
    """One image to import: a file or its bytes, the ID to show, its annotations in original pixels."""

    source: Path | bytes
    image_id: str | None = None
    annotations: tuple[AnnotationDraft, ...] = ()
    name: str = ""
    """The original file name (for bytes; a file's own name otherwise)."""


@dataclass(frozen=True)
class ModelAnswer:
    """A model's answer that came with the source: its annotations land as this run's proposals."""

    model: str
    family: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    text: str = ""
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImportSample:
    images: tuple[ImportImage, ...]
    prompt: str = ""
    status: str | None = None
    """The item's status (``accepted`` for ground truth); None: ``new``, or ``pre-annotated`` for a model's."""
    answer: ModelAnswer | None = None
    """When set, the images' annotations are this model run's proposals (not a person's)."""
    split: str = ""
    """The item's split (``train``, ``val``, ``test``) when the source says; '' for none."""


def image_wh(source: str | os.PathLike | bytes, where: str) -> tuple[int, int]:
    """Displayed (EXIF-upright) size from the header, as the store will record it."""
    try:
        return read_image_size(source).wh
    except ImageReadError as exc:
        raise DatasetImportError(f"{where}: {exc}") from None


def write_samples(store: DatasetStore, dataset: str, samples: Sequence[ImportSample], *, new: bool = False,
                  warnings: Sequence[str] = (), status: str | None = None) -> ImportReport:
    """Store the images, then add ``samples`` to ``dataset`` (created if missing; ``new``: must not exist yet).

    ``status`` gives every item that status (``accepted``: the source is reviewed ground truth, ready to
    evaluate on) instead of the one the source implies.
    """
    if status is not None:
        check_status(status)
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
    ids = []
    for sample, (prompt, entries) in zip(samples, staged):
        sources = [(s, b) for s, b, _ in entries]
        if sample.answer is None:
            ids.append(store.add_item_blobs(dataset, sources, prompt, [a for *_, a in entries],
                                            status=status or sample.status).id)
            continue
        item = store.add_item_blobs(dataset, sources, prompt)
        answer = sample.answer
        run = store.run(dataset, model=answer.model, family=answer.family, settings=answer.settings)
        store.record_proposals(run.id, item.id, [a for *_, a in entries], text=answer.text, warnings=answer.warnings)
        if status is not None:
            store.set_status(item.id, status)
        ids.append(item.id)
    by_split: dict[str, list[int]] = {}
    for sample, item_id in zip(samples, ids):
        if sample.split:
            by_split.setdefault(sample.split, []).append(item_id)
    for split, members in by_split.items():
        store.set_split(dataset, members, split)
    count = sum(len(a) for _, entries in staged for *_, a in entries)
    return ImportReport(dataset, tuple(ids), count, tuple(warnings))


def reviewed_status(images: Sequence[ImportImage]) -> str | None:
    """``accepted`` when the images carry annotations and a person made every one (ground truth), else None."""
    annotations = [a for image in images for a in image.annotations]
    return "accepted" if annotations and all(a.provenance == "human" for a in annotations) else None


def draft(kind: str, coords: Sequence[float], label: str, where: str, **options: object) -> AnnotationDraft:
    """An annotation draft, or a :class:`DatasetImportError` naming where the bad one came from."""
    options.pop("status", None)  # review status is the item's (ImportSample.status), not an annotation's
    try:
        return AnnotationDraft(kind, tuple(coords), label, **options)  # type: ignore[arg-type]  # checked by the draft itself
    except (ValueError, TypeError) as exc:
        raise DatasetImportError(f"{where}: {exc}") from None


@dataclass(frozen=True)
class Picture:
    """One image of a per-image source (a COCO image, a YOLO file, a Label Studio task, a datasets row) and
    where this project's export said it belongs: its sample and picture number, and the item's status."""

    image: ImportImage
    prompt: str = ""
    status: str | None = None
    sample: Any = None
    """The sample it was exported from (None: an image of its own)."""
    picture: int = 1


def regroup(pictures: Sequence[Picture]) -> list[ImportSample]:
    """One sample per ``sample`` key (its images in picture order), else one per picture; in first-seen order.

    This project's exports write one entry per image for formats that have no multi-image samples
    and say which sample and picture each came from; importing them back makes those samples again.

    >>> a, b = ImportImage(b"", "a"), ImportImage(b"", "b")
    >>> [[i.image_id for i in s.images] for s in regroup([Picture(b, sample=1, picture=2), Picture(a, sample=1)])]
    [['a', 'b']]
    """
    groups: dict[Any, list[Picture]] = {}
    for n, picture in enumerate(pictures):
        groups.setdefault(("sample", picture.sample) if picture.sample is not None else ("own", n), []).append(picture)
    samples = []
    for members in groups.values():
        members.sort(key=lambda member: member.picture)
        first = members[0]
        samples.append(ImportSample(tuple(m.image for m in members), first.prompt, status=first.status))
    return samples


"""The plain data every exporter works from, taken from the store once.

Exporters never touch SQLite: they get :class:`ExportSample` lists (original pixels, items of
the review statuses the settings ask for) and write files.

>>> obj = ExportObject("box", (10.0, 20.0, 30.0, 40.0), "cat")
>>> image = ExportImage("img1", 1, Path("a.png"), "images/a.png", "s000001-1-img1.png", (64, 48), (obj,))
>>> ExportSample(1, 1, "", (image,)).boxes
1
>>> obj.provenance
'human'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from grounding import clamp_to
from workbench.export.labels import clean_label
from workbench.store import Item

__all__ = ["Carried", "ExportImage", "ExportObject", "ExportSample", "carry", "export_samples", "labels_of"]


@dataclass(frozen=True)
class ExportObject:
    kind: str
    coords: tuple[float, ...]
    label: str
    provenance: str = "human"
    """``human`` (drawn or edited by a person) or ``model`` (a model's detection), from the store."""
    status: str = "pre-annotated"
    """The review status of the item it belongs to (``accepted`` when a person accepted the item)."""
    score: float | None = None
    """A model box's score (P(survives review) once the dataset is calibrated); None for a person's."""

    @property
    def reviewed(self) -> bool:
        """Made or accepted by a person: ground truth rather than a model's proposal."""
        return self.provenance == "human" or self.status == "accepted"


@dataclass(frozen=True)
class ExportImage:
    """One image of a sample: where its bytes are, its names inside the export, its objects."""

    image_id: str
    position: int
    source: Path
    file: str
    """Content-addressed path inside the export (``images/<hash>.jpg``): one copy per distinct image."""
    entry_name: str
    """Unique per sample image, for formats with one file per entry (COCO, YOLO, VOC)."""
    wh: tuple[int, int]
    objects: tuple[ExportObject, ...]

    @property
    def boxes(self) -> tuple[ExportObject, ...]:
        return tuple(o for o in self.objects if o.kind == "box")

    @property
    def points(self) -> tuple[ExportObject, ...]:
        return tuple(o for o in self.objects if o.kind == "point")


@dataclass(frozen=True)
class ExportSample:
    sample_id: int
    position: int
    prompt: str
    images: tuple[ExportImage, ...]
    status: str = "accepted"
    """The item's review status."""

    @property
    def boxes(self) -> int:
        return sum(len(image.boxes) for image in self.images)

    @property
    def points(self) -> int:
        return sum(len(image.points) for image in self.images)


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", text).strip("._")[:48] or "image"


def _inside(kind: str, coords: tuple[float, ...], wh: tuple[int, int]) -> tuple[float, ...] | None:
    """Coordinates clamped into the image; None when a box has no area left (it lay outside)."""
    clamped = clamp_to(coords, wh)
    if kind == "box" and (clamped[0] >= clamped[2] or clamped[1] >= clamped[3]):
        return None
    return clamped


def export_samples(samples: Iterable[Item], warnings: list[str] | None = None) -> list[ExportSample]:
    """Store items -> export samples (the caller chose the items, by status).

    Coordinates are clamped into the image (models write beyond it); boxes left with no area
    are dropped. Labels lose their control characters (:func:`~workbench.export.labels.clean_label`).
    All three are counted in ``warnings``.
    """
    clamped = dropped = 0
    relabelled: dict[str, str] = {}
    out = []
    for sample in samples:
        images = []
        for image in sample.images:
            objects = []
            for a in image.annotations:
                inside = _inside(a.kind, tuple(a.coords), image.wh)
                if inside is None:
                    dropped += 1
                    continue
                clamped += inside != tuple(a.coords)
                label = relabelled.get(a.label) or clean_label(a.label)
                if label != a.label:
                    relabelled[a.label] = label
                objects.append(ExportObject(a.kind, inside, label, a.provenance, sample.status,
                                            a.score if a.provenance == "model" else None))
            suffix = image.file.suffix
            images.append(ExportImage(
                image_id=image.image_id,
                position=image.position,
                source=image.file,
                file=f"images/{image.sha256[:20]}{suffix}",
                entry_name=f"s{sample.position:06d}-{image.position}-{_safe(image.image_id)}{suffix}",
                wh=image.wh,
                objects=tuple(objects),
            ))
        out.append(ExportSample(sample.id, sample.position, sample.prompt, tuple(images), sample.status))
    if warnings is not None and clamped:
        warnings.append(f"{clamped} annotations reached beyond their image and were clamped to it")
    if warnings is not None and dropped:
        warnings.append(f"{dropped} boxes lay wholly outside their image and were left out")
    if warnings is not None and relabelled:
        shown = ", ".join(f"{old!r} -> {new!r}" for old, new in list(relabelled.items())[:5])
        warnings.append(f"{len(relabelled)} labels held control characters (newline, tab, NUL...), replaced by "
                        f"spaces: {shown}" + (" ..." if len(relabelled) > 5 else ""))
    return out


@dataclass(frozen=True)
class Carried:
    """What :func:`carry` kept and left out, for the export report."""

    samples: tuple[ExportSample, ...]
    left_out: dict[str, int]
    """Annotations of a kind the export does not carry, per kind (``{"point": 3}``)."""
    skipped_empty: int
    """Entries skipped because they had no annotation to export in the first place."""
    skipped_dropped: int
    """Entries skipped because every annotation they had was of a kind left out."""


def carry(samples: Sequence[ExportSample], kinds: Sequence[str], *, per_image: bool,
          negatives: bool) -> Carried:
    """Keep the objects of ``kinds``; skip entries left with none, unless they are negatives ``negatives`` asks for.

    An entry is a sample, or with ``per_image`` (formats with one entry per image) one image.
    Without ``negatives`` an entry with nothing to train on is left out instead of being
    written with an empty answer (which teaches the model to answer "nothing"). A negative is
    an entry a person reviewed with nothing in it: one whose objects were all of kinds the
    export leaves out (a points-only picture in a box-only format) is not one, and is skipped
    even with ``negatives`` (its answer would say "nothing here" about a picture that has
    something).

    >>> box, point = ExportObject("box", (1, 1, 5, 5), "cat"), ExportObject("point", (2, 2), "nose")
    >>> images = [ExportImage(f"i{n}", n, Path("a.png"), "a.png", "a.png", (8, 8), objects)
    ...           for n, objects in enumerate([(box, point), (point,), ()], 1)]
    >>> result = carry([ExportSample(1, 1, "", tuple(images))], ("box",), per_image=True, negatives=False)
    >>> [image.image_id for s in result.samples for image in s.images], result.left_out
    (['i1'], {'point': 2})
    >>> result.skipped_empty, result.skipped_dropped
    (1, 1)
    >>> kept = carry([ExportSample(1, 1, "", tuple(images))], ("box",), per_image=True, negatives=True)
    >>> [image.image_id for s in kept.samples for image in s.images], kept.skipped_dropped
    (['i1', 'i3'], 1)
    """
    wanted = set(kinds)
    left_out: dict[str, int] = {}
    kept: list[ExportSample] = []
    empty = dropped = 0

    def keep(objects: tuple[ExportObject, ...]) -> tuple[ExportObject, ...]:
        for obj in objects:
            if obj.kind not in wanted:
                left_out[obj.kind] = left_out.get(obj.kind, 0) + 1
        return tuple(obj for obj in objects if obj.kind in wanted)

    for sample in samples:
        images = [replace(image, objects=keep(image.objects)) for image in sample.images]
        groups = [[image] for image in images] if per_image else [images]
        originals = [[image] for image in sample.images] if per_image else [list(sample.images)]
        chosen: list[ExportImage] = []
        for group, original in zip(groups, originals):
            if any(image.objects for image in group):
                chosen.extend(group)
            elif any(image.objects for image in original):
                dropped += 1  # something is there, of a kind this export cannot say: never a negative
            elif negatives:
                chosen.extend(group)
            else:
                empty += 1
        if chosen:
            kept.append(replace(sample, images=tuple(chosen)))
    return Carried(tuple(kept), left_out, empty, dropped)


def labels_of(samples: Iterable[ExportSample], kinds: Sequence[str] = ("box", "point")) -> list[str]:
    """Distinct labels in first-seen order (class ids for COCO/YOLO/VOC)."""
    seen: dict[str, None] = {}
    for sample in samples:
        for image in sample.images:
            for obj in image.objects:
                if obj.kind in kinds:
                    seen.setdefault(obj.label, None)
    return list(seen)

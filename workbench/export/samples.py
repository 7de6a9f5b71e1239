"""The plain data every exporter works from, taken from the store once.

Exporters never touch SQLite: they get :class:`ExportSample` lists (original pixels, items of
the review statuses the settings ask for) and write files.

>>> obj = ExportObject("box", (10.0, 20.0, 30.0, 40.0), "cat")
>>> image = ExportImage("img1", 1, Path("a.png"), "images/a.png", "s000001-1-img1.png", (64, 48), (obj,))
>>> ExportSample(1, 1, "", (image,)).boxes
1
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from grounding import clamp_to
from workbench.store import Item

__all__ = ["ExportImage", "ExportObject", "ExportSample", "export_samples", "labels_of"]


@dataclass(frozen=True)
class ExportObject:
    kind: str
    coords: tuple[float, ...]
    label: str


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
    are dropped. Both are counted in ``warnings``.
    """
    clamped = dropped = 0
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
                objects.append(ExportObject(a.kind, inside, a.label))
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
        out.append(ExportSample(sample.id, sample.position, sample.prompt, tuple(images)))
    if warnings is not None and clamped:
        warnings.append(f"{clamped} annotations reached beyond their image and were clamped to it")
    if warnings is not None and dropped:
        warnings.append(f"{dropped} boxes lay wholly outside their image and were left out")
    return out


def labels_of(samples: Iterable[ExportSample], kinds: Sequence[str] = ("box", "point")) -> list[str]:
    """Distinct labels in first-seen order (class ids for COCO/YOLO/VOC)."""
    seen: dict[str, None] = {}
    for sample in samples:
        for image in sample.images:
            for obj in image.objects:
                if obj.kind in kinds:
                    seen.setdefault(obj.label, None)
    return list(seen)

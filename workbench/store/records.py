"""What the store hands out: frozen dataclasses over plain values (never sqlite rows).

Coordinates are always in ORIGINAL image pixels (after EXIF orientation): ``(x1, y1, x2, y2)``
for a box, ``(x, y)`` for a point.

>>> a = AnnotationDraft.box((10, 20, 30, 40), "cat")
>>> a.kind, a.coords, a.provenance, a.status
('box', (10.0, 20.0, 30.0, 40.0), 'human', 'pending')
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from grounding import order_corners

__all__ = [
    "KINDS",
    "PROVENANCES",
    "STATUSES",
    "Annotation",
    "AnnotationDraft",
    "Dataset",
    "Edit",
    "ImageSource",
    "Sample",
    "SampleImage",
]

Kind = Literal["box", "point"]
Provenance = Literal["model", "human"]
Status = Literal["pending", "accepted", "rejected"]
KINDS: tuple[str, ...] = ("box", "point")
PROVENANCES: tuple[str, ...] = ("model", "human")
STATUSES: tuple[str, ...] = ("pending", "accepted", "rejected")


def _check_coords(kind: str, coords: Sequence[float]) -> tuple[float, ...]:
    if kind not in KINDS:
        raise ValueError(f"annotation kind must be one of {KINDS}, got {kind!r}")
    expected = 4 if kind == "box" else 2
    if len(coords) != expected:
        raise ValueError(f"a {kind} needs {expected} coordinates, got {len(coords)}: {list(coords)}")
    values = tuple(float(v) for v in coords)
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"coordinates must be finite numbers, got {list(coords)}")
    return order_corners(values) if kind == "box" else values


@dataclass(frozen=True)
class AnnotationDraft:
    """An annotation before it has an id: what callers pass to the store."""

    kind: Kind
    coords: tuple[float, ...]
    label: str
    provenance: Provenance = "human"
    model: str | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    status: Status = "pending"
    attributes: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "coords", _check_coords(self.kind, self.coords))
        if not isinstance(self.label, str):
            raise ValueError(f"label must be text, got {self.label!r}")
        if self.provenance not in PROVENANCES:
            raise ValueError(f"provenance must be one of {PROVENANCES}, got {self.provenance!r}")
        if self.status not in STATUSES:
            raise ValueError(f"review status must be one of {STATUSES}, got {self.status!r}")
        object.__setattr__(self, "settings", dict(self.settings))
        object.__setattr__(self, "attributes", dict(self.attributes))

    @classmethod
    def box(cls, xyxy: Sequence[float], label: str, **kwargs: Any) -> AnnotationDraft:
        return cls("box", tuple(xyxy), label, **kwargs)

    @classmethod
    def point(cls, xy: Sequence[float], label: str, **kwargs: Any) -> AnnotationDraft:
        return cls("point", tuple(xy), label, **kwargs)


@dataclass(frozen=True)
class Annotation(AnnotationDraft):
    """A stored annotation of one image of a sample."""

    id: int = 0
    sample_image_id: int = 0

    def draft(self) -> AnnotationDraft:
        """The same content without ids (for copying into another store)."""
        return AnnotationDraft(self.kind, self.coords, self.label, self.provenance, self.model,
                               dict(self.settings), self.status, dict(self.attributes))


@dataclass(frozen=True)
class ImageSource:
    """An image to add to a sample: a file and the ID the user knows it by (default: file stem)."""

    path: Path
    image_id: str | None = None


@dataclass(frozen=True)
class SampleImage:
    """One image of a sample, in order; ``file`` is the content-hashed copy in the data dir."""

    id: int
    sample_id: int
    position: int
    image_id: str
    sha256: str
    file: Path
    width: int
    height: int
    original_name: str
    annotations: tuple[Annotation, ...] = ()

    @property
    def wh(self) -> tuple[int, int]:
        return (self.width, self.height)


@dataclass(frozen=True)
class Sample:
    """Ordered images, a prompt, and per image its boxes and points."""

    id: int
    dataset_id: int
    position: int
    prompt: str
    images: tuple[SampleImage, ...]

    def image(self, position: int) -> SampleImage:
        """The image at 1-based ``position`` ("Picture N")."""
        if not 1 <= position <= len(self.images):
            raise IndexError(f"sample {self.id} has {len(self.images)} images, no picture {position}")
        return self.images[position - 1]


@dataclass(frozen=True)
class Dataset:
    id: int
    name: str
    created_at: str
    samples: int = 0


@dataclass(frozen=True)
class Edit:
    """One entry of a sample's append-only history; ``undoes`` names the edit an undo reverted."""

    id: int
    sample_id: int
    at: str
    action: str
    annotation_id: int | None
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    undoes: int | None = None

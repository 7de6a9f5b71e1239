"""What the store hands out: frozen dataclasses over plain values (never sqlite rows).

Coordinates are always in ORIGINAL image pixels (after EXIF orientation): ``(x1, y1, x2, y2)``
for a box, ``(x, y)`` for a point.

>>> a = AnnotationDraft.box((30, 20, 10, 40), "cat")
>>> a.kind, a.coords, a.provenance
('box', (10.0, 20.0, 30.0, 40.0), 'human')
>>> ItemFilter(status="accepted", label="cat").is_empty
False
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from grounding import order_corners
from workbench.store.bounds import bounded_label
from workbench.store.schema import ITEM_STATUSES

__all__ = [
    "ITEM_STATUSES",
    "KINDS",
    "PROVENANCES",
    "Action",
    "Annotation",
    "AnnotationDraft",
    "Dataset",
    "ImageSource",
    "Item",
    "ItemFilter",
    "ItemImage",
    "ItemRow",
    "Label",
    "Proposal",
    "QueuePage",
    "Run",
    "clean_label",
]

Kind = Literal["box", "point"]
Provenance = Literal["model", "human"]
ItemStatus = Literal["new", "pre-annotated", "accepted", "rejected"]
KINDS: tuple[str, ...] = ("box", "point")
PROVENANCES: tuple[str, ...] = ("model", "human")


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def clean_label(label: str) -> str:
    """A label as stored: each run of control characters (C0, DEL, C1, line and paragraph separators) and of
    white space made one space, trimmed — the one label rule of the project.

    A label ends up in XML (VOC, Label Studio's config), JSON answers and YAML keys, where a newline,
    a tab or a NUL breaks the file or silently changes the class; it is cleaned on the way into the
    store, and again when read (a store written by an earlier version may hold one).

    >>> clean_label("  red\\tcar\\n\\x00 ")
    'red car'
    >>> clean_label("nul\\x00byte")
    'nul byte'
    """
    return " ".join(_CONTROL.sub(" ", label).split())


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
    attributes: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "coords", _check_coords(self.kind, self.coords))
        if not isinstance(self.label, str):
            raise ValueError(f"label must be text, got {self.label!r}")
        object.__setattr__(self, "label", bounded_label(self.label))
        if self.provenance not in PROVENANCES:
            raise ValueError(f"provenance must be one of {PROVENANCES}, got {self.provenance!r}")
        object.__setattr__(self, "settings", dict(self.settings))
        object.__setattr__(self, "attributes", dict(self.attributes))

    @classmethod
    def box(cls, xyxy: Sequence[float], label: str, **kwargs: Any) -> AnnotationDraft:
        return cls("box", tuple(xyxy), label, **kwargs)

    @classmethod
    def point(cls, xy: Sequence[float], label: str, **kwargs: Any) -> AnnotationDraft:
        return cls("point", tuple(xy), label, **kwargs)

    def draft(self) -> AnnotationDraft:
        """The content alone (no ids), e.g. to copy into another item."""
        return AnnotationDraft(self.kind, self.coords, self.label, self.provenance, self.model,
                               dict(self.settings), dict(self.attributes))

    def same_place(self, other: AnnotationDraft, tolerance: float = 1e-6) -> bool:
        """Same kind, label and coordinates (within ``tolerance`` pixels)."""
        return (self.kind == other.kind and self.label == other.label
                and all(abs(a - b) <= tolerance for a, b in zip(self.coords, other.coords)))


@dataclass(frozen=True)
class Annotation(AnnotationDraft):
    """A stored annotation of one image of an item."""

    id: int = 0
    item_image_id: int = 0


@dataclass(frozen=True)
class Proposal:
    """What a model run proposed for one image of an item (kept apart from the annotations)."""

    run_id: int
    item_image_id: int
    kind: Kind
    coords: tuple[float, ...]
    label: str
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ImageSource:
    """An image to add to an item: a file and the ID the user knows it by (default: file stem)."""

    path: Path
    image_id: str | None = None


@dataclass(frozen=True)
class ItemImage:
    """One image of an item, in order; ``file`` is the content-hashed copy in the data dir."""

    id: int
    item_id: int
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

    @property
    def boxes(self) -> tuple[Annotation, ...]:
        return tuple(a for a in self.annotations if a.kind == "box")


@dataclass(frozen=True)
class Item:
    """One training sample: ordered images (1..N), their annotations, a review status and a version.

    Every change to an item raises its ``version``; a write that names an older version is refused
    (another window or a batch run changed the item since it was shown).
    """

    id: int
    dataset_id: int
    position: int
    prompt: str
    images: tuple[ItemImage, ...]
    status: ItemStatus = "new"
    version: int = 1
    error: str = ""
    updated_at: str = ""

    def image(self, position: int) -> ItemImage:
        """The image at 1-based ``position`` ("Picture N")."""
        if not 1 <= position <= len(self.images):
            raise IndexError(f"item {self.id} has {len(self.images)} images, no picture {position}")
        return self.images[position - 1]

    @property
    def annotations(self) -> tuple[Annotation, ...]:
        return tuple(a for image in self.images for a in image.annotations)

    @property
    def labels(self) -> tuple[str, ...]:
        """Distinct labels in the order they appear."""
        return tuple(dict.fromkeys(a.label for a in self.annotations))


@dataclass(frozen=True)
class Dataset:
    id: int
    name: str
    created_at: str
    items: int = 0
    counts: Mapping[str, int] = field(default_factory=dict)
    """Items per status (every status present, zeros included)."""
    owner: str = ""
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Label:
    """A label of a dataset's label set, its colour (``#rrggbb``) and how many annotations use it."""

    name: str
    color: str
    count: int = 0


@dataclass(frozen=True)
class Action:
    """One user action on an item, as the history lists it (``state``: done, undone or dropped)."""

    id: int
    item_id: int
    at: str
    action: str
    summary: str
    state: str


@dataclass(frozen=True)
class Run:
    """A model configuration that ran on items of a dataset; ``key`` identifies identical settings."""

    id: int
    dataset_id: int
    key: str
    created_at: str
    model: str
    family: str
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ItemFilter:
    """Which items the queue shows: every field is optional and they combine with AND."""

    status: str | None = None
    label: str | None = None
    provenance: str | None = None
    """``model`` (items with a model annotation), ``human`` (with a human one) or None."""
    name: str | None = None
    """Part of an image file name (case-insensitive)."""

    @property
    def is_empty(self) -> bool:
        return not (self.status or self.label or self.provenance or self.name)


@dataclass(frozen=True)
class ItemRow:
    """One line of the review queue."""

    id: int
    position: int
    status: str
    files: tuple[str, ...]
    sha256: tuple[str, ...]
    boxes: int
    points: int
    labels: tuple[str, ...]
    error: str = ""
    first_file: Path | None = None
    """The stored copy of the item's first image (for its thumbnail)."""
    first_wh: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class QueuePage:
    rows: tuple[ItemRow, ...]
    total: int
    """Items matching the filter (all pages)."""
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

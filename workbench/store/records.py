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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Literal

from grounding import order_corners
from workbench.store.bounds import bounded_label, clean_label
from workbench.store.schema import ITEM_STATUSES

__all__ = [
    "ITEM_STATUSES",
    "ItemStatus",
    "Job",
    "KINDS",
    "PROVENANCES",
    "Action",
    "Annotation",
    "AnnotationDraft",
    "Dataset",
    "Evaluation",
    "EvaluationCell",
    "ImageSource",
    "Item",
    "ItemFilter",
    "ItemImage",
    "ItemRow",
    "Label",
    "Proposal",
    "QueuePage",
    "Run",
    "RunAnswer",
    "clean_label",
]

Kind = Literal["box", "point"]
Provenance = Literal["model", "human"]


class ItemStatus(str, Enum):
    """Where an item is in review. A plain string too: ``ItemStatus.ACCEPTED == "accepted"``.

    >>> ItemStatus("pre-annotated").reviewed, ItemStatus.ACCEPTED.reviewed, f"{ItemStatus.NEW}"
    (False, True, 'new')
    """

    NEW = "new"
    PRE_ANNOTATED = "pre-annotated"
    ACCEPTED = "accepted"
    REJECTED = "rejected"

    __str__ = str.__str__
    __format__ = str.__format__  # type: ignore[assignment]  # format as the value (3.11 changed Enum's)

    @property
    def reviewed(self) -> bool:
        """A person decided on it (accepted or rejected)."""
        return self in (ItemStatus.ACCEPTED, ItemStatus.REJECTED)

KINDS: tuple[str, ...] = ("box", "point")
PROVENANCES: tuple[str, ...] = ("model", "human")


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
    score: float | None = None
    """For a model's box: how likely it survives review (calibrated), or its raw signal; None when unknown."""

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
                               dict(self.settings), dict(self.attributes), self.score)

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
    score: float | None = None
    """How likely the box survives review (calibrated on the dataset's reviews), or its raw signal."""
    signals: Mapping[str, Any] = field(default_factory=dict)
    """What the score was made from (token log-probabilities, agreement, structure flags)."""


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
    status: ItemStatus = ItemStatus.NEW
    version: int = 1
    error: str = ""
    updated_at: str = ""
    split: str = ""
    """``train``, ``val``, ``test`` or '' (none)."""

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
    kind: str = "annotate"
    """``annotate`` (its answers may become annotations) or ``eval`` (measured, never applied)."""


@dataclass(frozen=True)
class RunAnswer:
    """What a run stored for one item: the model's text and warnings, or why it failed; its stats (tokens,
    seconds, truncated, boxes beyond the image); and its proposals per image of the item, in order."""

    item_id: int
    text: str
    warnings: tuple[str, ...]
    error: str
    stats: Mapping[str, Any]
    proposals: tuple[tuple[Proposal, ...], ...]

    @property
    def failed(self) -> bool:
        return bool(self.error)


@dataclass(frozen=True)
class Job:
    """A batch started from the app (a row of ``jobs``): its state, counts and message as the page shows them.

    ``state``: queued, running, done, failed, cancelled or interrupted; ``cancel`` is the flag a
    page (or another process) raises for the job's thread to see between items.
    """

    id: int
    dataset_id: int
    kind: str
    settings: Mapping[str, Any]
    state: str
    total: int
    done: int
    failed: int
    message: str
    cancel: bool
    created_at: str
    updated_at: str

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running")


@dataclass(frozen=True)
class ItemFilter:
    """Which items the queue shows: every field is optional and they combine with AND."""

    status: str | None = None
    label: str | None = None
    provenance: str | None = None
    """``model`` (items with a model annotation), ``human`` (with a human one) or None."""
    name: str | None = None
    """Part of an image file name (case-insensitive)."""
    order: str | None = None
    """How the matching items are ordered: None the file order, ``confidence`` the weakest box first,
    ``edits`` the most expected edits first (:data:`workbench.store.scores.ORDERS`). Not a filter."""
    split: str | None = None
    """``train``, ``val``, ``test`` or ``none`` (items in no split)."""

    @property
    def is_empty(self) -> bool:
        return not (self.status or self.label or self.provenance or self.name or self.split)


@dataclass(frozen=True)
class ItemRow:
    """One line of the review queue."""

    id: int
    position: int
    status: ItemStatus
    files: tuple[str, ...]
    sha256: tuple[str, ...]
    boxes: int
    points: int
    labels: tuple[str, ...]
    error: str = ""
    first_file: Path | None = None
    """The stored copy of the item's first image (for its thumbnail)."""
    first_wh: tuple[int, int] = (0, 0)
    split: str = ""


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


@dataclass(frozen=True)
class EvaluationCell:
    """One setup of an evaluation's grid (model, prompt template, pixel budget in ``settings``): its run,
    state (queued, running, done, failed, cancelled, interrupted), metrics and, when it failed, why."""

    id: int
    evaluation_id: int
    position: int
    run_id: int | None
    settings: Mapping[str, Any]
    state: str
    metrics: Mapping[str, Any]
    error: str = ""

    @property
    def finished(self) -> bool:
        return self.state == "done"


@dataclass(frozen=True)
class Evaluation:
    """A grid of setups measured on a frozen list of items (the accepted items of ``split`` when it was
    created: a later change of split or status does not change what it measured)."""

    id: int
    dataset_id: int
    created_at: str
    split: str
    settings: Mapping[str, Any]
    items: tuple[int, ...]
    cells: tuple[EvaluationCell, ...] = ()

    @property
    def state(self) -> str:
        """``done`` when every cell is; ``running`` while one runs; else the first unfinished cell's state."""
        states = [cell.state for cell in self.cells]
        if states and all(s == "done" for s in states):
            return "done"
        if "running" in states:
            return "running"
        return next((s for s in states if s != "done"), "queued")

"""Where a person is in their review, and what the review screen shows: plain data, no Gradio.

The browser keeps only a :class:`Cursor` (dataset, item, picture, the item version it shows, the
queue filter and page); everything else is read from the store each time, so a reload, a second
window or tomorrow's visit opens the same place with the same data.

>>> cursor = Cursor.from_json({"dataset": 3, "item": 12, "filter": {"status": "new"}, "page": 2})
>>> cursor.filter.status, cursor.to_json()["page"], Cursor.from_json("garbage").dataset
('new', 2, None)
>>> owner_key(False, None, "tok"), owner_key(True, "alice", "tok"), owner_key(True, None, "tok")[:5]
('', 'hf:alice', 'anon:')
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from grounding import GeometryError, ProcessedImage, process_size
from workbench.errors import StoreError
from workbench.run_settings import Reading
from workbench.store import DatasetStore, Item, ItemFilter, Proposal, Run
from workbench.store.scores import ORDERS

__all__ = ["Cursor", "ItemView", "filter_words", "geometry_rows", "item_view", "new_token", "owner_key", "status_line"]


def new_token() -> str:
    """A secret that names an anonymous visitor's browser (kept in its local storage)."""
    return secrets.token_urlsafe(24)


def owner_key(public: bool, username: str | None, token: str) -> str:
    """Who owns the datasets a visitor sees: nobody in particular locally ('': one user), else the
    signed-in Hugging Face user, else this browser (a hash of its token, never the token itself)."""
    if not public:
        return ""
    if username:
        return f"hf:{username}"
    return "anon:" + hashlib.sha256(token.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Cursor:
    dataset: int | None = None
    item: int | None = None
    picture: int = 1
    version: int = 0
    filter: ItemFilter = field(default_factory=ItemFilter)
    page: int = 1
    token: str = ""
    tab: str = "queue"
    """The screen the person was on (a reload comes back to it)."""
    run: int | None = None
    """A run whose answers the review screen shows beside the item (an evaluation's error browser opens
    items this way); None: the item's latest annotate run."""

    @classmethod
    def from_json(cls, data: Any) -> Cursor:
        """From the browser's stored value; anything unreadable gives a fresh cursor."""
        if not isinstance(data, dict):
            return cls()
        try:
            raw = data.get("filter") or {}
            flt = ItemFilter(**{k: (str(v) if v else None) for k, v in raw.items()
                                if k in ("status", "label", "provenance", "name", "split")},
                             order=raw.get("order") if raw.get("order") in ORDERS else None)
            return cls(_int(data.get("dataset")), _int(data.get("item")), max(1, _int(data.get("picture")) or 1),
                       _int(data.get("version")) or 0, flt, max(1, _int(data.get("page")) or 1),
                       str(data.get("token") or ""), str(data.get("tab") or "queue"), _int(data.get("run")))
        except (TypeError, ValueError):
            return cls()

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "filter": {k: v for k, v in asdict(self.filter).items() if v}}

    def at(self, item: Item | None, picture: int | None = None) -> Cursor:
        """The cursor on ``item`` (its current version), on ``picture`` or the same one when it still exists."""
        if item is None:
            return replace(self, item=None, picture=1, version=0)
        pictures = len(item.images)
        chosen = picture if picture is not None else (self.picture if item.id == self.item else 1)
        return replace(self, dataset=item.dataset_id, item=item.id, picture=min(max(1, chosen), pictures),
                       version=item.version)


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return int(value)


@dataclass(frozen=True)
class ItemView:
    """Everything the review screen shows for the current item."""

    item: Item
    picture: int
    index: int | None
    """1-based place in the filtered queue (None when the item does not match the filter)."""
    total: int
    run: Run | None
    proposals: tuple[tuple[Proposal, ...], ...]
    """The latest run's proposals per picture, when they were NOT made the item's annotations."""
    geometry: tuple[ProcessedImage | str, ...]
    """What the model sees of each picture (or why it cannot take it)."""
    can_undo: bool
    can_redo: bool
    filter: ItemFilter = field(default_factory=ItemFilter)
    """The queue's filter the place is counted in."""

    @property
    def image(self):
        return self.item.image(self.picture)


def geometry_rows(item: Item, settings: Reading) -> tuple[ProcessedImage | str, ...]:
    out: list[ProcessedImage | str] = []
    for image in item.images:
        try:
            out.append(process_size(image.wh, settings.family, settings.limits))
        except GeometryError as exc:
            out.append(str(exc))
    return tuple(out)


def item_view(store: DatasetStore, cursor: Cursor, settings: Reading) -> ItemView:
    """Read the cursor's item and what goes around it (raises StoreError when it is gone or there is none)."""
    if cursor.item is None:
        raise StoreError("open an item from the queue first")
    item = store.item(cursor.item)
    picture = min(max(1, cursor.picture), len(item.images))
    try:
        run, proposals = store.proposals(item.id, cursor.run)
    except StoreError:  # a run that is gone (or never was): the item's latest run instead
        run, proposals = store.proposals(item.id)
    applied = run is not None and run.kind == "annotate" and any(a.settings.get("run") == run.id
                                                                 for a in item.annotations)
    shown = () if (run is None or applied) else tuple(tuple(p) for p in proposals)
    return ItemView(item, picture, store.index_of(item.dataset_id, item.id, cursor.filter),
                    store.queue(item.dataset_id, cursor.filter, page_size=1).total, run, shown,
                    geometry_rows(item, settings), store.can_undo(item.id), store.can_redo(item.id), cursor.filter)


def filter_words(flt: ItemFilter) -> str:
    """The queue's filter in words ('' for none).

    >>> filter_words(ItemFilter(status="pre-annotated", name="IMG_"))
    "status pre-annotated, file name contains 'IMG_'"
    """
    parts = []
    if flt.status:
        parts.append(f"status {flt.status}")
    if flt.label:
        parts.append(f"label {flt.label}")
    if flt.provenance:
        parts.append(f"boxes by {flt.provenance}")
    if flt.name:
        parts.append(f"file name contains '{flt.name}'")
    return ", ".join(parts)


def status_line(view: ItemView) -> str:
    """One line of plain text: where the item is in the queue (and in which filter), its status, version and
    counts."""
    item = view.item
    within = filter_words(view.filter)
    place = f"{view.index} of {view.total}" if view.index else f"not in the filter ({view.total} match)"
    if within:
        place += f" (filter: {within})"
    boxes = sum(a.kind == "box" for a in item.annotations)
    points = sum(a.kind == "point" for a in item.annotations)
    human = sum(a.provenance == "human" for a in item.annotations)
    text = (f"Item {item.id} · {place} · {item.status} · {boxes} box(es), {points} point(s), {human} by hand · "
            f"version {item.version}")
    if item.error:
        text += f" · last run failed: {item.error}"
    return text


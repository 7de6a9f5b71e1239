"""Component updates shared by every page: the dataset bar, the queue, the review screen.

Each returns a ``{component: value}`` dict for the parts it owns, computed from the store and the
cursor; handlers merge the parts they need. The cursor goes back to the browser with every update.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, replace
from typing import Any

import gradio as gr

from ui.context import AppContext
from ui.shared_fields import SharedFields
from ui.views import (
    ORDER_CHOICES,
    answer_flags,
    counts_text,
    editor_for,
    geometry_markdown,
    no_item_editor,
    open_view,
    proposals_markdown,
    queue_view,
    review_settings,
    status_text,
)
from workbench.errors import StoreError
from workbench.prefetch import DisplayPrefetch
from workbench.remembered import remembered
from workbench.review import Cursor
from workbench.store import ItemFilter

ALL_PICTURES = "all pictures (image keys / Picture N)"

__all__ = ["Pages", "dataset_part", "filter_part", "queue_part", "queue_view_of", "review_part", "settings_part"]


class Pages:
    """The components other modules update; filled in by ``create_app`` as pages are built."""

    queue: Any = None
    review: Any = None
    batch: Any = None
    live: Any = None

    def __init__(self) -> None:
        self.shared = SharedFields()
        """The fields Review, Batch and Several images share through the store."""
        self.prefetch = DisplayPrefetch()
        """Display copies of the items → and A open next, made while the person looks at this one."""

    def queue_outputs(self) -> list[Any]:
        """The components :func:`queue_part` sets."""
        q = self.queue
        return [q.gallery, q.ids, q.pager, q.label_filter, q.shown]

    def filter_outputs(self) -> list[Any]:
        """The components :func:`filter_part` sets (the queue's filter widgets but the label's)."""
        q = self.queue
        return [q.status_filter, q.provenance_filter, q.name_filter, q.split_filter, q.order]

    def review_outputs(self) -> list[Any]:
        """The components :func:`review_part` sets, in one order for every handler that shows an item."""
        r = self.review
        return [r.status, r.editor, r.picture, r.geometry, r.proposals, r.proposal_buttons, r.for_picture]


def dataset_part(ctx: AppContext, cursor: Cursor, owner: str) -> tuple[Cursor, dict]:
    """Settle the cursor on a dataset this visitor owns and show the dataset bar."""
    record = ctx.dataset_record(cursor, owner)
    if record is None:
        cursor = replace(cursor, dataset=None, item=None, version=0)
    elif record.id != cursor.dataset:
        cursor = replace(cursor, dataset=record.id, item=None, version=0, page=1)
    choices = ctx.dataset_choices(owner)
    return cursor, {ctx.dataset: gr.Dropdown(choices=choices, value=record.id if record else None, interactive=True),
                    ctx.counts: counts_text(record)}


def settings_part(ctx: AppContext, pages: Pages, dataset: int | None) -> dict:
    """Every page's shared fields showing the dataset's remembered choices (when a dataset is opened)."""
    return pages.shared.part(remembered(ctx.services.store(), dataset))


def filter_part(pages: Pages, flt: ItemFilter) -> dict:
    """The queue's filter widgets showing ``flt`` (when a page is loaded or a dataset opened; never while the
    person types in them). The label filter comes with :func:`queue_part`, which knows the labels."""
    q = pages.queue
    order = next((label for label, value in ORDER_CHOICES if value == flt.order), ORDER_CHOICES[0][0])
    return {q.status_filter: flt.status or "all", q.provenance_filter: flt.provenance or "any",
            q.name_filter: flt.name or "", q.split_filter: flt.split or "all", q.order: order}


def queue_view_of(cursor: Cursor) -> dict[str, Any]:
    """Which page of which queue the cursor looks at."""
    return {"dataset": cursor.dataset, "filter": asdict(cursor.filter), "page": cursor.page}


def queue_part(ctx: AppContext, pages: Pages, cursor: Cursor, *, unless_shown: Any = None) -> dict:
    """The queue's page for the cursor, with what it shows (``shown``: the view and a digest of the content).

    ``unless_shown``: the ``shown`` value of the page as it is; nothing comes back when the page would show
    the same, so a refresh never redraws thumbnails under the person's pointer for nothing.
    """
    q = pages.queue
    view = queue_view(ctx.services, cursor)
    labels = ["all", *view.labels]
    chosen = cursor.filter.label if cursor.filter.label in view.labels else "all"
    digest = hashlib.sha256(json.dumps([view.gallery, view.ids, view.pager, labels, chosen]).encode()).hexdigest()
    shown = {"view": queue_view_of(cursor), "digest": digest}
    if isinstance(unless_shown, dict) and unless_shown == shown:
        return {}
    return {q.gallery: view.gallery, q.ids: view.ids, q.pager: view.pager,
            q.label_filter: gr.Dropdown(choices=labels, value=chosen), q.shown: shown}


def review_part(ctx: AppContext, pages: Pages, cursor: Cursor, *, label: str | None = None) -> tuple[Cursor, dict]:
    """The review screen for the cursor's item (the first item of the filter when it has none)."""
    r = pages.review
    store = ctx.services.store()
    if cursor.dataset is not None and cursor.item is not None:
        try:
            item = store.item(cursor.item)
            if item.dataset_id != cursor.dataset:
                raise StoreError("the item belongs to another dataset")
        except StoreError:
            cursor = replace(cursor, item=None)
    if cursor.dataset is not None and cursor.item is None:
        first = store.neighbour(cursor.dataset, None, filter=cursor.filter)
        cursor = cursor.at(store.item(first)) if first is not None else cursor.at(None)
    pictureless = cursor.item is not None and not store.item(cursor.item).images
    if cursor.item is None or pictureless:  # an item with no picture: one a version-1 store held without an image
        said = (f"Item {cursor.item} has no picture (a version-1 store kept it without one), so there is nothing to "
                "review: go on with →." if pictureless else "No item to review yet.")
        return cursor, {r.status: said, r.editor: no_item_editor(cursor),
                        r.picture: gr.Radio(choices=[], value=None, visible=False), r.geometry: "",
                        r.proposals: "", r.proposal_buttons: gr.Row(visible=False),
                        r.for_picture: gr.Dropdown(choices=[(ALL_PICTURES, 0)], value=0)}
    view = open_view(ctx.services, cursor)
    cursor = cursor.at(view.item, view.picture)
    pages.prefetch.after(store, ctx.services.served(), view.item.dataset_id, view.item.id, cursor.filter)
    pictures = [(f"{n} · {image.image_id} ({image.original_name})", n) for n, image in enumerate(view.item.images, 1)]
    settings = review_settings(store, cursor.dataset)
    targets = [(ALL_PICTURES, 0)] + [(f"picture {n} ({image.image_id})", n)
                                     for n, image in enumerate(view.item.images, 1)]
    return cursor, {
        r.status: status_text(view),
        r.editor: editor_for(ctx.services, view, label),
        r.picture: gr.Radio(choices=pictures, value=view.picture, visible=len(pictures) > 1),
        r.geometry: geometry_markdown(view, settings),
        r.proposals: proposals_markdown(view, answer_flags(store, view)),
        r.proposal_buttons: gr.Row(visible=bool(view.proposals)),
        r.for_picture: gr.Dropdown(choices=targets, value=0 if len(targets) > 2 else 1),
    }

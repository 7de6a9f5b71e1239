"""Component updates shared by every page: the dataset bar, the queue, the review screen.

Each returns a ``{component: value}`` dict for the parts it owns, computed from the store and the
cursor; handlers merge the parts they need. The cursor goes back to the browser with every update.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import gradio as gr

from ui.context import AppContext
from ui.views import (
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
from workbench.review import Cursor

__all__ = ["Pages", "dataset_part", "queue_part", "review_part"]


class Pages:
    """The components other modules update; filled in by ``create_app`` as pages are built."""

    queue: Any = None
    review: Any = None


def dataset_part(ctx: AppContext, cursor: Cursor, owner: str) -> tuple[Cursor, dict]:
    """Settle the cursor on a dataset this visitor owns and show the dataset bar."""
    record = ctx.dataset_record(cursor, owner)
    if record is None:
        cursor = replace(cursor, dataset=None, item=None, version=0)
    elif record.id != cursor.dataset:
        cursor = replace(cursor, dataset=record.id, item=None, version=0, page=1)
    choices = ctx.dataset_choices(owner)
    return cursor, {ctx.dataset: gr.Dropdown(choices=choices, value=record.id if record else None),
                    ctx.counts: counts_text(record)}


def queue_part(ctx: AppContext, pages: Pages, cursor: Cursor) -> dict:
    q = pages.queue
    view = queue_view(ctx.services, cursor)
    labels = ["all", *view.labels]
    chosen = cursor.filter.label if cursor.filter.label in view.labels else "all"
    return {q.gallery: view.gallery, q.ids: view.ids, q.pager: view.pager,
            q.label_filter: gr.Dropdown(choices=labels, value=chosen)}


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
                        r.proposals: "", r.proposal_buttons: gr.Row(visible=False)}
    view = open_view(ctx.services, cursor)
    cursor = cursor.at(view.item, view.picture)
    pictures = [(f"{n} · {image.image_id} ({image.original_name})", n) for n, image in enumerate(view.item.images, 1)]
    settings = review_settings(store, cursor.dataset)
    return cursor, {
        r.status: status_text(view),
        r.editor: editor_for(ctx.services, view, label),
        r.picture: gr.Radio(choices=pictures, value=view.picture, visible=len(pictures) > 1),
        r.geometry: geometry_markdown(view, settings),
        r.proposals: proposals_markdown(view, answer_flags(store, view)),
        r.proposal_buttons: gr.Row(visible=bool(view.proposals)),
    }

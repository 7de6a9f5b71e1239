"""The page follows the store: what changes outside the person's own actions shows without a reload.

A batch job stores items in the background, the command line creates a dataset, another window accepts
an item: every :data:`EVERY_S` seconds the page asks for the store's revision of what it shows (the
visitor's datasets, the dataset's items and jobs, :meth:`DatasetStore.revision`) and, only where that
differs from the revision it last showed, reads the store again: the dataset list, the header counts,
the batch progress, and the queue's page while the Queue is on screen (a page of thumbnails is redrawn
when looked at, also when the person comes back to the Queue tab, not under every review key). Nothing
else is touched: the review screen (the person may be in the middle of a gesture) and any field being
typed in stay as they are.

The revision seen is kept per browser tab (``gr.State``), and the queue keeps what it shows (the view it
was read for and a digest of its content, :func:`ui.refresh.queue_part`): a refresh that would show the
same sends nothing (no thumbnail is redrawn under the person's pointer), and a refresh that raced a
filter change (read for the old filter, answered after the new one) is followed by another on the next
tick, for the filter the cursor has then: the page converges on the store within one tick.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import gradio as gr

from ui.context import PRIVATE, AppContext
from ui.refresh import Pages, queue_part, queue_view_of
from ui.views import counts_text
from workbench.errors import StoreError

__all__ = ["EVERY_S", "Live"]

EVERY_S = 2.0


class Live:
    """The timer and the per-tab memory of what was shown; :meth:`wire` after every page is built."""

    def __init__(self, ctx: AppContext, pages: Pages) -> None:
        self.ctx, self.pages = ctx, pages
        self.seen = gr.State({})
        self.timer = gr.Timer(EVERY_S)

    def signature(self, data: Any, request: Any = None) -> dict[str, Any]:
        """What the page shows now, in revisions: the dataset list, and the cursor's dataset with its filter."""
        ctx = self.ctx
        cursor = ctx.cursor_of(data, request)
        owner = ctx.owner(cursor, request)
        store = ctx.services.store()
        datasets = [list(choice) for choice in ctx.dataset_choices(owner)]
        shown: dict[str, Any] = {"datasets": datasets, "dataset": None, "jobs": None}
        if cursor.dataset is not None:
            try:
                revision = list(store.revision(cursor.dataset))
            except StoreError:  # deleted meanwhile: the next action of the person settles the cursor
                return shown
            view = {"dataset": cursor.dataset, "filter": asdict(cursor.filter), "page": cursor.page}
            shown |= {"dataset": {**view, "revision": revision[:2]}, "jobs": {**view, "revision": revision[2:]}}
        return shown

    def tick(self, data: Any, seen: dict[str, Any], shown: Any, request: gr.Request | None = None) -> dict[Any, Any]:
        ctx, pages = self.ctx, self.pages
        try:
            now = self.signature(data, request)
        except StoreError:
            return {self.seen: gr.skip()}
        out: dict[Any, Any] = {}
        if now["datasets"] != seen.get("datasets"):
            out[ctx.dataset] = gr.Dropdown(choices=[tuple(choice) for choice in now["datasets"]])
        cursor = ctx.cursor_of(data, request)
        if now["dataset"] != seen.get("dataset") and cursor.dataset is not None:
            out[ctx.counts] = counts_text(ctx.services.store().dataset(cursor.dataset))
        stale = now["dataset"] != seen.get("dataset") or (shown or {}).get("view") != queue_view_of(cursor)
        if cursor.tab == "queue" and cursor.dataset is not None and stale:
            out |= queue_part(ctx, pages, cursor, unless_shown=shown)
        if now["jobs"] != seen.get("jobs") and pages.batch is not None:
            out[pages.batch.progress] = pages.batch.jobs_text(cursor.dataset)
        if not out and now == seen:
            return {self.seen: gr.skip()}
        return {**out, self.seen: now}

    def on_queue_tab(self, data: Any, shown: Any, request: gr.Request | None = None) -> dict[Any, Any]:
        """The person comes back to the Queue: show it as the store has it now (redrawn only if it differs)."""
        cursor = self.ctx.cursor_of(data, request)
        nothing = {self.pages.queue.shown: gr.skip()}  # (Gradio reads an empty dict as one missing value)
        if cursor.dataset is None:
            return nothing
        try:
            return queue_part(self.ctx, self.pages, cursor, unless_shown=shown) or nothing
        except StoreError:
            return nothing

    def wire(self, queue_tab: Any) -> None:
        ctx, pages = self.ctx, self.pages
        shown = pages.queue.shown
        outputs = [self.seen, ctx.dataset, ctx.counts, *pages.queue_outputs(), pages.batch.progress]
        self.timer.tick(self.tick, [ctx.cursor, self.seen, shown], outputs, **PRIVATE)
        queue_tab.select(self.on_queue_tab, [ctx.cursor, shown], pages.queue_outputs(), **PRIVATE)

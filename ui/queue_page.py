"""Queue: the home screen. Datasets, adding images, filters, a page of thumbnails, the label set."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import gradio as gr

from ui.context import PRIVATE, QUEUED, AppContext
from ui.notice import say, speaks
from ui.refresh import Pages, dataset_part, filter_part, queue_part, review_part, settings_part
from ui.views import PROVENANCE_CHOICES, STATUS_CHOICES, plain
from workbench.errors import StoreError
from workbench.importers import import_images
from workbench.remembered import remember, remembered
from workbench.review import Cursor
from workbench.store import ItemFilter

__all__ = ["QueuePage", "build"]

_SAME, _LOAD = object(), object()
"""For ``everything``: the dataset did not change; the page was (re)loaded."""


@dataclass
class QueuePage:
    files: gr.File
    gallery: gr.Gallery
    ids: gr.State
    pager: gr.Markdown
    status_filter: gr.Dropdown
    label_filter: gr.Dropdown
    provenance_filter: gr.Dropdown
    name_filter: gr.Textbox
    labels_table: gr.Markdown
    shown: gr.State


def labels_markdown(ctx: AppContext, dataset: int | None) -> str:
    if dataset is None:
        return ""
    labels = ctx.services.store().labels(dataset)
    if not labels:
        return "No labels yet: they are added as boxes get them, or here."
    return "\n".join(f"- <span style='color:{label.color}'>■</span> {plain(label.name)} — {label.count} annotation(s)"
                     for label in labels)


def build(ctx: AppContext, pages: Pages) -> QueuePage:
    with gr.Row():
        files = gr.File(label="Add images to this dataset (files or a zip; the same image twice is added once)",
                        file_count="multiple", file_types=["image", ".zip"], type="filepath", elem_id="import-files",
                        height=170, scale=3, interactive=False)  # until the page has loaded: see _load
        with gr.Column(scale=2), gr.Accordion("Datasets", open=False, elem_id="datasets-panel"):
            new_name = gr.Textbox(label="Name", placeholder="e.g. kitchen-cats", elem_id="dataset-name")
            with gr.Row():
                create = gr.Button("Create", size="sm", elem_id="dataset-create", interactive=False)
                rename = gr.Button("Rename current", size="sm", elem_id="dataset-rename", interactive=False)
                delete = gr.Button("Delete current (type its name)", size="sm", variant="stop",
                                   elem_id="dataset-delete", interactive=False)
    with gr.Row():
        status_filter = gr.Dropdown(STATUS_CHOICES, value="all", label="Status", elem_id="filter-status", scale=1)
        label_filter = gr.Dropdown(["all"], value="all", label="Label", elem_id="filter-label", scale=1)
        provenance_filter = gr.Dropdown(PROVENANCE_CHOICES, value="any", label="Boxes by", elem_id="filter-by",
                                        scale=1)
        name_filter = gr.Textbox(label="File name contains", elem_id="filter-name", scale=2)
    with gr.Row():
        prev_page = gr.Button("◀ Page", size="sm", elem_id="page-prev", scale=0)
        pager = gr.Markdown(elem_id="pager")
        next_page = gr.Button("Page ▶", size="sm", elem_id="page-next", scale=0)
    gr.Markdown("**Items** (click one to review it)", elem_id="queue-gallery-title")  # a label drawn over the first thumbnail
    gallery = gr.Gallery(label="Items (click one to review it)", columns=6, height="auto", allow_preview=False,
                         object_fit="contain", elem_id="queue-gallery", show_label=False, buttons=[])
    ids = gr.State([])
    shown = gr.State({})  # what the queue shows: the view it was read for and a digest of it (ui.live compares)
    with gr.Accordion("Label set", open=False, elem_id="labels-panel"):
        labels_table = gr.Markdown(elem_id="labels-table")
        with gr.Row():
            label_name = gr.Textbox(label="Label", elem_id="label-name")
            label_new = gr.Textbox(label="Rename to (an existing name merges them)", elem_id="label-new")
            label_color = gr.ColorPicker(label="Colour", elem_id="label-color")
        with gr.Row():
            add_label = gr.Button("Add / recolour", size="sm", elem_id="label-add")
            rename_label = gr.Button("Rename or merge", size="sm", elem_id="label-rename")
    page = QueuePage(files, gallery, ids, pager, status_filter, label_filter, provenance_filter, name_filter,
                     labels_table, shown)
    pages.queue = page

    def outputs() -> list[Any]:
        """What a dataset change updates: the bar, the queue, the review screen, the filter widgets and the
        fields every page shares (they show the dataset's remembered choices)."""
        return [ctx.notice, ctx.cursor, ctx.dataset, ctx.counts, *pages.queue_outputs(), labels_table,
                *pages.review_outputs(), status_filter, provenance_filter, name_filter, *pages.shared.components()]

    def everything(cursor: Cursor, owner: str, message: str = "", *, before: Any = _SAME) -> dict:
        """Every part for the cursor. The filter widgets and shared fields come only when a dataset is opened
        (``before``: the dataset shown before the action, :data:`_LOAD` on a page load) — never under a
        person's typing."""
        cursor, bar = dataset_part(ctx, cursor, owner)
        cursor, review = review_part(ctx, pages, cursor)
        shown = {**bar, **queue_part(ctx, pages, cursor), **review,
                 labels_table: labels_markdown(ctx, cursor.dataset), ctx.cursor: cursor.to_json(), ctx.notice: message}
        if before is _LOAD or (before is not _SAME and before != cursor.dataset):
            shown |= {**filter_part(pages, cursor.filter), **settings_part(ctx, pages, cursor.dataset)}
        return shown

    def _load(data: Any, request: gr.Request = None):
        """The page as the store and this browser's cursor say. What changes the dataset (adding images, the
        dataset controls) is usable only once this answer is in: a load answered late (a busy server) would
        otherwise show the page as it was before an import made meanwhile, and put the cursor back."""
        ready = {files: gr.File(interactive=True), create: gr.Button(interactive=True),
                 rename: gr.Button(interactive=True), delete: gr.Button(interactive=True),
                 ctx.dataset: gr.Dropdown(interactive=True)}
        return {**ready, **_loaded(data, request)}

    @speaks(ctx.notice)
    def _loaded(data: Any, request: gr.Request = None) -> dict:
        cursor = ctx.with_token(ctx.cursor_of(data, request))
        tab = cursor.tab if cursor.tab in ("review", "multi", "batch", "export", "try") else None
        seen = pages.live.signature(cursor.to_json(), request)  # before reading: a change after it shows next tick
        seen["jobs"] = None  # the batch progress is not read here: the first tick shows it
        shown = {**everything(cursor, ctx.owner(cursor, request), before=_LOAD), pages.live.seen: seen}
        # back to the screen of the last visit; never move a person who is already working elsewhere
        return {**shown, ctx.notice: gr.skip(), ctx.tabs: gr.Tabs(selected=tab) if tab else gr.skip()}

    @speaks(ctx.notice)
    def _choose(data: Any, dataset_id: Any, request: gr.Request = None):
        cursor = ctx.cursor_of(data, request)
        if dataset_id is None or dataset_id == cursor.dataset:
            return {ctx.notice: gr.skip()}
        before = cursor.dataset
        flt = remembered(ctx.services.store(), int(dataset_id)).filter  # the filter last used on that dataset
        cursor = replace(cursor, dataset=int(dataset_id), item=None, page=1, filter=flt)
        return everything(cursor, ctx.owner(cursor, request), before=before)

    @speaks(ctx.notice)
    def _create(data: Any, name: str, request: gr.Request = None):
        cursor = ctx.with_token(ctx.cursor_of(data, request))
        record = ctx.services.store().create_dataset(name, owner=ctx.owner(cursor, request))
        before = cursor.dataset
        cursor = replace(cursor, dataset=record.id, item=None, page=1, filter=ItemFilter())
        return {**everything(cursor, record.owner, say("ok", f"Created dataset '{record.name}'. Add images to it."),
                             before=before), new_name: ""}

    @speaks(ctx.notice)
    def _rename(data: Any, name: str, request: gr.Request = None):
        cursor = ctx.cursor_of(data, request)
        if cursor.dataset is None:
            raise StoreError("choose a dataset to rename")
        owner = ctx.owner(cursor, request)
        record = ctx.services.store().rename_dataset(cursor.dataset, name, owner=owner)
        return {**everything(cursor, owner, say("ok", f"Renamed to '{record.name}'.")), new_name: ""}

    @speaks(ctx.notice)
    def _delete(data: Any, typed: str, request: gr.Request = None):
        cursor = ctx.cursor_of(data, request)
        owner = ctx.owner(cursor, request)
        if cursor.dataset is None:
            raise StoreError("choose a dataset to delete")
        record = ctx.services.store().dataset(cursor.dataset, owner=owner)
        if (typed or "").strip() != record.name:
            raise StoreError(f"to delete '{record.name}' and its {record.items} item(s), type its name in the Name "
                             "box first")
        ctx.services.store().delete_dataset(record.id, owner=owner)
        cursor = replace(cursor, dataset=None, item=None, page=1, filter=ItemFilter())
        return {**everything(cursor, owner, say("ok", f"Deleted dataset '{record.name}'."), before=record.id),
                new_name: ""}

    @speaks(ctx.notice)
    def _import(data: Any, paths: list[str] | None, request: gr.Request = None):
        cursor = ctx.with_token(ctx.cursor_of(data, request))
        if not paths:
            return {ctx.notice: gr.skip()}
        owner = ctx.owner(cursor, request)
        store = ctx.services.store()
        record = ctx.dataset_record(cursor, owner)
        name = record.name if record else "my-dataset"
        report = import_images(store, name, paths, owner=owner, names=[Path(p).name for p in paths])
        dataset = store.dataset(report.dataset, owner=owner)
        before = cursor.dataset
        cursor = replace(cursor, dataset=dataset.id)
        parts = [f"Added {len(report.items)} image(s) to '{dataset.name}' as new items"]
        if report.duplicates:
            parts.append(f"{report.duplicates} already in the dataset (same content) were not added again")
        if report.skipped:
            parts.append(f"{report.skipped} file(s) could not be read")
        kind = "warning" if report.skipped else "ok"
        first_new = report.items[0] if report.items else None
        if first_new is not None and cursor.item is None:
            cursor = cursor.at(store.item(first_new))
        return {**everything(cursor, owner, say(kind, "; ".join(parts) + ".", list(report.warnings)), before=before),
                files: None}

    def _filtered(data: Any, status: str, label: str, by: str, name: str, request: gr.Request = None):
        cursor = ctx.cursor_of(data, request)
        flt = ItemFilter(status=None if status in (None, "all") else status,
                         label=None if label in (None, "all") else label,
                         provenance=None if by in (None, "any") else by, name=(name or "").strip() or None)
        if flt == cursor.filter:
            return {ctx.notice: gr.skip()}
        cursor = replace(cursor, filter=flt, page=1, item=None)
        if cursor.dataset is not None:
            remember(ctx.services.store(), cursor.dataset, flt=flt)  # the dataset's last filter, for every window
        return everything(cursor, ctx.owner(cursor, request))

    @speaks(ctx.notice)
    def _page(data: Any, step: int, request: gr.Request = None):
        cursor = ctx.cursor_of(data, request)
        cursor = replace(cursor, page=max(1, cursor.page + step))
        return {**queue_part(ctx, pages, cursor), ctx.cursor: cursor.to_json(), ctx.notice: ""}

    @speaks(ctx.notice)
    def _open(data: Any, shown: list[int], evt: gr.SelectData, request: gr.Request = None):
        cursor = ctx.cursor_of(data, request)
        if evt.index is None or not shown or evt.index >= len(shown):
            return {ctx.notice: gr.skip()}
        item = ctx.services.store().item(int(shown[evt.index]))
        cursor, review = review_part(ctx, pages, cursor.at(item, 1))
        cursor = replace(cursor, tab="review")
        return {**review, ctx.cursor: cursor.to_json(), ctx.tabs: gr.Tabs(selected="review"), ctx.notice: ""}

    @speaks(ctx.notice)
    def _label(data: Any, name: str, new: str, color: str | None, action: str, request: gr.Request = None):
        cursor = ctx.cursor_of(data, request)
        if cursor.dataset is None:
            raise StoreError("choose a dataset first")
        store = ctx.services.store()
        if action == "add":
            label = store.add_label(cursor.dataset, name, color or None)
            message = say("ok", f"Label '{label.name}' is in the label set.")
        else:
            changed = store.rename_label(cursor.dataset, (name or "").strip(), new)
            message = say("ok", f"Renamed '{name.strip()}' to '{new.strip()}' in {changed} annotation(s).")
        cursor, review = review_part(ctx, pages, cursor)
        return {**queue_part(ctx, pages, cursor), **review, labels_table: labels_markdown(ctx, cursor.dataset),
                ctx.cursor: cursor.to_json(), ctx.notice: message}

    def wire() -> None:
        outs = outputs()
        filter_widgets = {status_filter, provenance_filter, name_filter, *pages.shared.components()}
        shown_outs = [c for c in outs if c not in filter_widgets]  # a filter change keeps the widgets as typed
        ctx.demo.load(_load, ctx.cursor, [*outs, ctx.tabs, pages.live.seen, files, create, rename, delete], **PRIVATE)
        ctx.dataset.input(_choose, [ctx.cursor, ctx.dataset], outs, **PRIVATE)
        gr.on([create.click, new_name.submit], _create, [ctx.cursor, new_name], [*outs, new_name], **PRIVATE)
        rename.click(_rename, [ctx.cursor, new_name], [*outs, new_name], **PRIVATE)
        delete.click(_delete, [ctx.cursor, new_name], [*outs, new_name], **PRIVATE)
        files.upload(_import, [ctx.cursor, files], [*outs, files], **QUEUED)
        filters = [status_filter, label_filter, provenance_filter, name_filter]
        # the file-name filter applies as one types: a keystroke while the queue is being read is sent once that
        # answer is in (always_last), with the text as it is then; the handler never writes the widgets
        gr.on([status_filter.input, label_filter.input, provenance_filter.input, name_filter.input,
               name_filter.submit], speaks(ctx.notice)(_filtered), [ctx.cursor, *filters], shown_outs,
              trigger_mode="always_last", **PRIVATE)
        page_outs = [ctx.notice, ctx.cursor, *pages.queue_outputs()]
        prev_page.click(_page, [ctx.cursor, gr.State(-1)], page_outs, **PRIVATE)
        next_page.click(_page, [ctx.cursor, gr.State(+1)], page_outs, **PRIVATE)
        gallery.select(_open, [ctx.cursor, ids], [ctx.notice, ctx.cursor, ctx.tabs, *pages.review_outputs()],
                       **PRIVATE)
        label_outs = [ctx.notice, ctx.cursor, *pages.queue_outputs(), labels_table,
                      *pages.review_outputs()]
        label_inputs = [ctx.cursor, label_name, label_new, label_color]
        add_label.click(_label, [*label_inputs, gr.State("add")], label_outs, **PRIVATE)
        rename_label.click(_label, [*label_inputs, gr.State("rename")], label_outs, **PRIVATE)

    page.wire = wire  # type: ignore[attr-defined]
    return page

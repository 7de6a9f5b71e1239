"""Queue: the home screen. Datasets, adding images, filters, a page of thumbnails, the label set."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import gradio as gr

from ui.context import PRIVATE, QUEUED, AppContext
from ui.notice import say, speaks
from ui.refresh import Pages, dataset_part, filter_part, queue_part, review_part, settings_part
from ui.views import ORDER_CHOICES, PROVENANCE_CHOICES, SPLIT_CHOICES, STATUS_CHOICES, confidence_markdown, plain
from workbench.confidence import dataset_calibration, refit
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
    order: gr.Dropdown
    confidence: gr.Markdown
    split_filter: gr.Dropdown
    wire: Callable[[], None] = field(init=False, repr=False)
    """Registers the page's events; set by :func:`build`, called by ``create_app`` once every page exists."""


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
        split_filter = gr.Dropdown(SPLIT_CHOICES, value="all", label="Split", elem_id="filter-split", scale=1)
        name_filter = gr.Textbox(label="File name contains", elem_id="filter-name", scale=2)
        order = gr.Dropdown([label for label, _ in ORDER_CHOICES], value=ORDER_CHOICES[0][0], label="Order",
                            elem_id="filter-order", scale=1)
    with gr.Accordion("Confidence: review the likely-wrong boxes first", open=False, elem_id="confidence-panel"):
        confidence = gr.Markdown(elem_id="confidence-status")
        with gr.Row():
            refit_now = gr.Button("Refit on the reviews now", size="sm", elem_id="confidence-refit", scale=0)
            threshold = gr.Slider(0.5, 1.0, value=0.9, step=0.01, label="Accept every item whose boxes all score at "
                                  "least", elem_id="accept-threshold", scale=3)
            count = gr.Button("Count them first", size="sm", elem_id="accept-count", scale=0)
        preview = gr.Markdown(elem_id="accept-preview")
        take = gr.Button("Accept them", variant="primary", size="sm", visible=False, elem_id="accept-confident")
        counted = gr.State(None)
    with gr.Row():
        prev_page = gr.Button("◀ Page", size="sm", elem_id="page-prev", scale=0)
        pager = gr.Markdown(elem_id="pager")
        next_page = gr.Button("Page ▶", size="sm", elem_id="page-next", scale=0)
    gr.Markdown("**Items** (click one to review it)", elem_id="queue-gallery-title")  # a label drawn over the first thumbnail
    gallery = gr.Gallery(label="Items (click one to review it)", columns=6, height="auto", allow_preview=False,
                         object_fit="contain", elem_id="queue-gallery", show_label=False, buttons=[])
    ids = gr.State([])
    shown = gr.State({})  # what the queue shows: the view it was read for and a digest of it (ui.live compares)
    with gr.Accordion("Splits", open=False, elem_id="splits-panel"):
        gr.Markdown("Put the items the filters show into a split by hand, or give every item without one its split "
                    "from its images' content (the same images land in the same split on any machine; a "
                    "multi-image item moves whole).")
        with gr.Row():
            split_to = gr.Dropdown(["train", "val", "test", "none"], value="val",
                                   label="Split for the filtered items", elem_id="split-to")
            split_set = gr.Button("Set the split of every filtered item", size="sm", elem_id="split-set")
            fractions = gr.Textbox("0.8, 0.1, 0.1", label="train, val, test fractions", elem_id="split-fractions")
            split_assign = gr.Button("Assign splits from content", size="sm", elem_id="split-assign")
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
                     labels_table, shown, order, confidence, split_filter)
    pages.queue = page

    def outputs() -> list[Any]:
        """What a dataset change updates: the bar, the queue, the review screen, the filter widgets and the
        fields every page shares (they show the dataset's remembered choices)."""
        return [ctx.notice, ctx.cursor, ctx.dataset, ctx.counts, *pages.queue_outputs(), labels_table,
                *pages.review_outputs(), *pages.filter_outputs(), confidence, preview, take,
                *pages.shared.components()]

    def everything(cursor: Cursor, owner: str, message: str = "", *, before: Any = _SAME) -> dict:
        """Every part for the cursor. The filter widgets and shared fields come only when a dataset is opened
        (``before``: the dataset shown before the action, :data:`_LOAD` on a page load) — never under a
        person's typing."""
        cursor, bar = dataset_part(ctx, cursor, owner)
        cursor, review = review_part(ctx, pages, cursor)
        shown = {**bar, **queue_part(ctx, pages, cursor), **review,
                 labels_table: labels_markdown(ctx, cursor.dataset),
                 confidence: confidence_markdown(ctx.services.store(), cursor.dataset), preview: "",
                 take: gr.Button(visible=False), ctx.cursor: cursor.to_json(), ctx.notice: message}
        if before is _LOAD or (before is not _SAME and before != cursor.dataset):
            shown |= {**filter_part(pages, cursor.filter), **settings_part(ctx, pages, cursor.dataset)}
        return shown

    def _load(data: Any, request: gr.Request | None = None):
        """The page as the store and this browser's cursor say. What changes the dataset (adding images, the
        dataset controls) is usable only once this answer is in: a load answered late (a busy server) would
        otherwise show the page as it was before an import made meanwhile, and put the cursor back."""
        ready = {files: gr.File(interactive=True), create: gr.Button(interactive=True),
                 rename: gr.Button(interactive=True), delete: gr.Button(interactive=True),
                 ctx.dataset: gr.Dropdown(interactive=True)}
        return {**ready, **_loaded(data, request)}

    @speaks(ctx.notice)
    def _loaded(data: Any, request: gr.Request | None = None) -> dict:
        cursor = ctx.with_token(ctx.cursor_of(data, request))
        tab = cursor.tab if cursor.tab in ("review", "multi", "batch", "evaluate", "export", "try") else None
        seen = pages.live.signature(cursor.to_json(), request)  # before reading: a change after it shows next tick
        seen["jobs"] = None  # the batch progress is not read here: the first tick shows it
        shown = {**everything(cursor, ctx.owner(cursor, request), before=_LOAD), pages.live.seen: seen}
        # back to the screen of the last visit; never move a person who is already working elsewhere
        return {**shown, ctx.notice: gr.skip(), ctx.tabs: gr.Tabs(selected=tab) if tab else gr.skip()}

    @speaks(ctx.notice)
    def _choose(data: Any, dataset_id: Any, request: gr.Request | None = None):
        cursor = ctx.cursor_of(data, request)
        if dataset_id is None or dataset_id == cursor.dataset:
            return {ctx.notice: gr.skip()}
        before = cursor.dataset
        flt = remembered(ctx.services.store(), int(dataset_id)).filter  # the filter last used on that dataset
        cursor = replace(cursor, dataset=int(dataset_id), item=None, page=1, filter=flt)
        return everything(cursor, ctx.owner(cursor, request), before=before)

    @speaks(ctx.notice)
    def _create(data: Any, name: str, request: gr.Request | None = None):
        cursor = ctx.with_token(ctx.cursor_of(data, request))
        record = ctx.services.store().create_dataset(name, owner=ctx.owner(cursor, request))
        before = cursor.dataset
        cursor = replace(cursor, dataset=record.id, item=None, page=1, filter=ItemFilter())
        return {**everything(cursor, record.owner, say("ok", f"Created dataset '{record.name}'. Add images to it."),
                             before=before), new_name: ""}

    @speaks(ctx.notice)
    def _rename(data: Any, name: str, request: gr.Request | None = None):
        cursor = ctx.cursor_of(data, request)
        if cursor.dataset is None:
            raise StoreError("choose a dataset to rename")
        owner = ctx.owner(cursor, request)
        record = ctx.services.store().rename_dataset(cursor.dataset, name, owner=owner)
        return {**everything(cursor, owner, say("ok", f"Renamed to '{record.name}'.")), new_name: ""}

    @speaks(ctx.notice)
    def _delete(data: Any, typed: str, request: gr.Request | None = None):
        cursor = ctx.cursor_of(data, request)
        owner = ctx.owner(cursor, request)
        if cursor.dataset is None:
            raise StoreError("choose a dataset to delete")
        record = ctx.services.store().dataset(cursor.dataset, owner=owner)
        if (typed or "").strip() != record.name:
            raise StoreError(f"to delete '{record.name}' and its {record.items} item(s), type its name in the Name "
                             "box first")
        ctx.services.store().delete_dataset(record.id, owner=owner)
        ctx.services.forget_served(record.id)
        cursor = replace(cursor, dataset=None, item=None, page=1, filter=ItemFilter())
        return {**everything(cursor, owner, say("ok", f"Deleted dataset '{record.name}'."), before=record.id),
                new_name: ""}

    @speaks(ctx.notice)
    def _import(data: Any, paths: list[str] | None, request: gr.Request | None = None):
        cursor = ctx.with_token(ctx.cursor_of(data, request))
        if not paths:
            return {ctx.notice: gr.skip()}
        owner = ctx.owner(cursor, request)
        store = ctx.services.store()
        if ctx.services.storage_problem:  # said before a file is looked at
            raise StoreError(ctx.services.storage_problem)
        record = ctx.dataset_record(cursor, owner)
        name = record.name if record else "my-dataset"
        try:
            report = import_images(store, name, paths, owner=owner, names=[Path(p).name for p in paths],
                                   limits=ctx.services.deployment.limits)
        finally:
            if ctx.services.uploads is not None:  # the store holds its copies now: the uploads go at once
                ctx.services.uploads.forget(paths, remove=True)
        try:
            dataset = store.dataset(report.dataset, owner=owner)
        except StoreError:  # nothing could be added, so no dataset was made for it
            return {ctx.notice: say("warning", f"No image was added: {report.skipped} file(s) could not be read.",
                                    list(report.warnings)), files: None}
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

    def _filtered(data: Any, status: str, label: str, by: str, name: str, where: str, ordered: str,
                  request: gr.Request | None = None):
        cursor = ctx.cursor_of(data, request)
        flt = ItemFilter(status=None if status in (None, "all") else status,
                         label=None if label in (None, "all") else label,
                         provenance=None if by in (None, "any") else by, name=(name or "").strip() or None,
                         split=None if where in (None, "all") else where,
                         order=dict(ORDER_CHOICES).get(ordered))
        if flt == cursor.filter:
            return {ctx.notice: gr.skip()}
        cursor = replace(cursor, filter=flt, page=1, item=None)
        if cursor.dataset is not None:
            remember(ctx.services.store(), cursor.dataset, flt=flt)  # the dataset's last filter, for every window
        return everything(cursor, ctx.owner(cursor, request))

    @speaks(ctx.notice)
    def _page(data: Any, step: int, request: gr.Request | None = None):
        cursor = ctx.cursor_of(data, request)
        cursor = replace(cursor, page=max(1, cursor.page + step))
        return {**queue_part(ctx, pages, cursor), ctx.cursor: cursor.to_json(), ctx.notice: ""}

    @speaks(ctx.notice)
    def _open(data: Any, shown: list[int], evt: gr.SelectData, request: gr.Request | None = None):
        cursor = ctx.cursor_of(data, request)
        if evt.index is None or not shown or evt.index >= len(shown):
            return {ctx.notice: gr.skip()}
        item = ctx.services.store().item(int(shown[evt.index]))
        cursor, review = review_part(ctx, pages, replace(cursor.at(item, 1), run=None))  # the item's own latest run
        cursor = replace(cursor, tab="review")
        return {**review, ctx.cursor: cursor.to_json(), ctx.tabs: gr.Tabs(selected="review"), ctx.notice: ""}

    @speaks(ctx.notice)
    def _refit(data: Any, request: gr.Request | None = None):
        cursor = ctx.cursor_of(data, request)
        if cursor.dataset is None:
            raise StoreError("choose a dataset first")
        report = refit(ctx.services.store(), cursor.dataset)
        return everything(cursor, ctx.owner(cursor, request),
                          say("ok", f"Rescored {report.rescored} proposed box(es). {report.message}"))

    @speaks(ctx.notice)
    def _count(data: Any, at_least: float, request: gr.Request | None = None):
        cursor = ctx.cursor_of(data, request)
        if cursor.dataset is None:
            raise StoreError("choose a dataset first")
        store = ctx.services.store()
        rows = store.confident_items(cursor.dataset, float(at_least))
        boxes, expected = sum(n for _, n, _ in rows), sum(e for _, _, e in rows)
        head = (f"At {float(at_least):.2f} this takes **{len(rows)} pre-annotated item(s)** ({boxes} box(es), every "
                "one a model's)")
        if dataset_calibration(store, cursor.dataset) is not None:
            text = f"{head}; expected wrong boxes among them: **{expected:.1f}** (from the calibration)."
        else:
            text = (f"{head}. The scores are raw signals, not calibrated probabilities: the number of wrong boxes "
                    "it would accept is not known until the dataset is calibrated.")
        button = gr.Button(f"Accept these {len(rows)} item(s)", visible=bool(rows))
        return {preview: text, take: button, counted: float(at_least), ctx.notice: ""}

    @speaks(ctx.notice)
    def _take(data: Any, at_least: float | None, request: gr.Request | None = None):
        cursor = ctx.cursor_of(data, request)
        if cursor.dataset is None or at_least is None:
            raise StoreError("count the items first")
        taken = ctx.services.store().accept_confident(cursor.dataset, float(at_least))
        message = say("ok", f"Accepted {len(taken)} item(s) whose boxes all score at least {float(at_least):.2f}: "
                            "one history entry each (open one and press Ctrl+Z to take its accept back).")
        return {**everything(cursor, ctx.owner(cursor, request), message), counted: None}

    @speaks(ctx.notice)
    def _splits(data: Any, action: str, target: str, shares: str, request: gr.Request | None = None):
        cursor = ctx.cursor_of(data, request)
        if cursor.dataset is None:
            raise StoreError("choose a dataset first")
        owner = ctx.owner(cursor, request)
        store = ctx.services.store()
        store.dataset(cursor.dataset, owner=owner)  # only one's own
        if action == "set":
            chosen = store.item_ids(cursor.dataset, cursor.filter)
            if not chosen:
                raise StoreError("no item matches the filters: nothing to put into a split")
            moved = store.set_split(cursor.dataset, chosen, target)
            message = say("ok", f"{moved} of the {len(chosen)} filtered item(s) moved to "
                                f"{'no split' if target == 'none' else target}.")
        else:
            parts = [p.strip() for p in (shares or "").split(",")]
            if len(parts) != 3:
                raise StoreError("give three fractions, for train, val and test, e.g. 0.8, 0.1, 0.1")
            try:
                values = {name: float(v or 0) for name, v in zip(("train", "val", "test"), parts)}
            except ValueError:
                raise StoreError(f"fractions are numbers between 0 and 1, got {shares!r}") from None
            given = store.assign_splits(cursor.dataset, values)
            counts = store.split_counts(cursor.dataset)
            message = say("ok", f"{sum(given.values())} item(s) without a split got one: "
                                + ", ".join(f"{n} {s or 'none'}" for s, n in given.items() if n)
                                + ". The dataset now holds " + ", ".join(f"{n} {s or 'in no split'}"
                                                                        for s, n in counts.items() if n) + ".")
        return {**everything(cursor, owner), ctx.notice: message}

    @speaks(ctx.notice)
    def _label(data: Any, name: str, new: str, color: str | None, action: str, request: gr.Request | None = None):
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
        filter_widgets = {*pages.filter_outputs(), *pages.shared.components()}
        shown_outs = [c for c in outs if c not in filter_widgets]  # a filter change keeps the widgets as typed
        ctx.demo.load(_load, ctx.cursor, [*outs, ctx.tabs, pages.live.seen, files, create, rename, delete], **PRIVATE)
        ctx.dataset.input(_choose, [ctx.cursor, ctx.dataset], outs, **PRIVATE)
        gr.on([create.click, new_name.submit], _create, [ctx.cursor, new_name], [*outs, new_name], **PRIVATE)
        rename.click(_rename, [ctx.cursor, new_name], [*outs, new_name], **PRIVATE)
        delete.click(_delete, [ctx.cursor, new_name], [*outs, new_name], **PRIVATE)
        files.upload(_import, [ctx.cursor, files], [*outs, files], **QUEUED)
        filters = [status_filter, label_filter, provenance_filter, name_filter, split_filter, order]
        # the file-name filter applies as one types: a keystroke while the queue is being read is sent once that
        # answer is in (always_last), with the text as it is then; the handler never writes the widgets
        gr.on([status_filter.input, label_filter.input, provenance_filter.input, name_filter.input,
               name_filter.submit, split_filter.input, order.input], speaks(ctx.notice)(_filtered),
              [ctx.cursor, *filters], shown_outs, trigger_mode="always_last", **PRIVATE)
        refit_now.click(_refit, [ctx.cursor], outs, **QUEUED)
        count.click(_count, [ctx.cursor, threshold], [ctx.notice, preview, take, counted], **PRIVATE)
        take.click(_take, [ctx.cursor, counted], [*outs, counted], **PRIVATE)
        split_set.click(_splits, [ctx.cursor, gr.State("set"), split_to, fractions], outs, **PRIVATE)
        split_assign.click(_splits, [ctx.cursor, gr.State("assign"), split_to, fractions], outs, **PRIVATE)
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

    page.wire = wire
    return page

"""Several images: the multi-image and high-resolution tools on the current item (docs/multi-image.md).

The item of the cursor, its pictures in order and their IDs: how the prompt names them (and the exact
prompt the model gets), the order-sensitivity probe (a table and a heat map), and three other ways to
ground them — one merged canvas, one picture per turn, tiles for a large one-picture item. Their boxes
land on the item as that tool's run (:mod:`workbench.multi.items`): the item's boxes when nobody has
worked on it, beside the human work otherwise; the Review page shows them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import gradio as gr

from grounding.prompts import GroundingTask, ImageNaming
from ui.context import MODEL_RUN, PRIVATE, AppContext
from ui.notice import say, speaks
from ui.refresh import Pages, queue_part, review_part
from ui.views import counts_text, plain, review_settings
from workbench.config import BACKEND_LABELS
from workbench.errors import StoreError
from workbench.multi.items import (
    TOOLS,
    canvas_on_item,
    preview_item,
    probe_item,
    steps_on_item,
    tiles_on_item,
)
from workbench.review import Cursor
from workbench.run_settings import DEFAULT_MAX_NEW_TOKENS

__all__ = ["PROBE_COLUMNS", "build", "probe_rows", "tool_summary"]

PROBE_COLUMNS = ["picture", "ID", "boxes per order", "agreement", "matched IoU", "count spread"]
NAMING_CHOICES = [("none (numbered in order)", ImageNaming.NONE.value), ('"Picture N:"', ImageNaming.PICTURE.value),
                  ("the pictures' IDs", ImageNaming.IDS.value)]


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def probe_rows(result: Mapping[str, Any]) -> list[list[Any]]:
    """One table row per picture of an order-probe report (boxes per order in the report's order list).

    >>> probe_rows({"images": [{"image": 1, "image_id": "front", "counts": [2, 1], "agreement": 0.5,
    ...                         "matched_iou": 0.9, "count_spread": 1}]})
    [[1, 'front', '2 · 1', '0.50', '0.90', 1]]
    """
    return [[image["image"], image["image_id"], " · ".join(str(c) for c in image["counts"]),
             _number(image["agreement"]), _number(image["matched_iou"]), image["count_spread"]]
            for image in result["images"]]


def probe_summary(result: Mapping[str, Any]) -> str:
    """The probe in words for a Markdown component (IDs and model names shown as typed)."""
    ids = result["image_ids"]
    def named(order):
        return ", ".join(plain(ids[p - 1]) for p in order)
    scores = " · ".join(f"{','.join(map(str, o))}: {s:.2f}" for o, s in zip(result["orders"], result["order_scores"]))
    return (f"**{len(result['orders'])} orders** of {len(ids)} pictures with {plain(result['model'])}. "
            f"Most consistent order: **{named(result['most_consistent_order'])}**. "
            f"Each order's agreement with the others: {scores}.")


def tool_summary(tool: str, result: Mapping[str, Any], ids: list[str]) -> str:
    """What a canvas, step-by-step or tiled run found, per picture, for a Markdown component.

    >>> tool_summary("steps", {"model": "m", "detections": [{"image": 2}], "turns": [{}, {}]}, ["a", "b"])
    '**step by step** with m (2 turns): a: 0 · b: 1 box(es)/point(s).'
    """
    counts = [sum(1 for d in result["detections"] if d["image"] == n) for n in range(1, len(ids) + 1)]
    found = " · ".join(f"{plain(i)}: {c}" for i, c in zip(ids, counts)) + " box(es)/point(s)."
    head = f"**{TOOLS[tool]}** with {plain(result['model'])}"
    if tool == "canvas":
        w, h = result["layout"]["canvas"]
        seams = sum(1 for d in result["detections"] if d.get("attributes", {}).get("seam"))
        return f"{head} ({result['layout']['layout']}, {w} x {h} canvas): {found}" + (
            f" {seams} crossed a seam (clipped, flagged)." if seams else "")
    if tool == "steps":
        return f"{head} ({len(result['turns'])} turns): {found}"
    columns, rows = result["plan"]["grid"]
    text = f"{head} ({len(result['tiles'])} tiles, {columns} x {rows}): {found}"
    comparison = result.get("comparison")
    if comparison is not None:
        text += (f" One pass over the whole image found {comparison['single_boxes']} box(es): "
                 f"{len(comparison['matched'])} matched (mean IoU {_number(comparison['mean_iou'])}), "
                 f"{len(comparison['only_a'])} only in the tiles, {len(comparison['only_b'])} only in the one pass.")
    elif (result.get("single") or {}).get("error"):
        text += f" The one pass over the whole image failed: {plain(result['single']['error'])}"
    return text


def build(ctx: AppContext, pages: Pages, tab: gr.Tab) -> None:
    """The page, wired; after Review and Queue (a run updates their components)."""
    gr.Markdown("The current item's pictures, in order. With several images a model's answer can depend on their "
                "order and on how the prompt names them; a very large image is shrunk and loses small objects. "
                "See the exact prompt, probe the order, or ground another way: the boxes land on the item as a "
                "model run (the Review page shows them; work by hand is kept).")
    item_line = gr.Markdown("Open an item from the queue.", elem_id="multi-item")
    with gr.Row():
        backend = gr.Radio([(BACKEND_LABELS["local"], "local"), (BACKEND_LABELS["openai"], "openai")], value="openai",
                           label="Backend", elem_id="multi-backend")
        model = gr.Textbox(ctx.services.deployment.model, label="Checkpoint or served model", elem_id="multi-model")
        base_url = gr.Textbox(ctx.services.deployment.shown_base_url, label="Server base URL (OpenAI-compatible)",
                              placeholder="http://127.0.0.1:8000/v1", elem_id="multi-base-url")
        api_key = gr.Textbox("", label="API key (blank: the server's configured key)", type="password")
    with gr.Row():
        target = gr.Textbox(label="What to find", placeholder="cat, the red car", elem_id="multi-target", scale=2)
        prompt = gr.Textbox(label="…or your own prompt (used when filled)", elem_id="multi-prompt", scale=3)
        task = gr.Dropdown([t.value for t in GroundingTask], value="boxes", label="Ask for", scale=1)
    with gr.Row():
        naming = gr.Radio(NAMING_CHOICES, value=ImageNaming.PICTURE.value, label="Name the pictures in the prompt by",
                          elem_id="multi-naming")
        max_new_tokens = gr.Slider(16, 8192, value=DEFAULT_MAX_NEW_TOKENS, step=16, label="max new tokens", elem_id="multi-tokens")
        show = gr.Button("Show the exact prompt", size="sm", elem_id="multi-show-prompt")
    exact = gr.Textbox(label="The exact prompt the model gets (the pictures in the item's order)", lines=6,
                       interactive=False, elem_id="multi-exact")
    with gr.Row(equal_height=False):
        with gr.Column(variant="panel"):
            gr.Markdown("**Order probe**: the same request over several orders of the pictures (all up to 4, else "
                        "a sample); nothing is stored.")
            max_orders = gr.Slider(2, 24, value=12, step=1, label="orders at most (beyond 4 pictures)")
            seed = gr.Number(0, precision=0, label="sample seed")
            probe = gr.Button("Probe the order", variant="primary", elem_id="multi-probe")
        with gr.Column(variant="panel"):
            gr.Markdown("**Merged canvas**: the pictures side by side in one image, grounded once, the boxes split "
                        "back to each picture.")
            layout = gr.Radio([("side by side", "h"), ("stacked", "v"), ("grid", "grid")], value="h", label="Layout",
                              elem_id="multi-layout")
            with gr.Row():
                canvas_pixels = gr.Number(0, precision=0, label="canvas max pixels (0: no limit)")
                gap = gr.Number(0, precision=0, label="gap (px)")
            canvas = gr.Button("Ground on a merged canvas", variant="primary", elem_id="multi-canvas")
        with gr.Column(variant="panel"):
            gr.Markdown("**Step by step**: one picture per turn of one conversation, earlier answers kept.")
            steps = gr.Button("Ground step by step", variant="primary", elem_id="multi-steps")
        with gr.Column(variant="panel"):
            gr.Markdown("**Tiles** (an item of one large picture): tiles within the budget, merged back, compared "
                        "with one pass.")
            with gr.Row():
                tile_pixels = gr.Number(0, precision=0, minimum=0,
                                        label="pixels per tile (0: the family's 1280 tokens)")
                overlap = gr.Slider(0.0, 0.5, value=0.15, step=0.05, label="overlap")
            with gr.Row():
                refine = gr.Checkbox(False, label="re-ground each box on a crop")
                compare = gr.Checkbox(True, label="compare with one pass")
            tiles = gr.Button("Ground tile by tile", variant="primary", elem_id="multi-tiles")
    summary = gr.Markdown(elem_id="multi-summary")
    table = gr.Dataframe(headers=PROBE_COLUMNS, label="Order probe: each picture across orders", interactive=False,
                         wrap=True, elem_id="probe-table")
    plot = gr.Image(label="Agreement (colour) and box count per picture (rows) and order (columns); the most "
                          "consistent order framed", type="pil", interactive=False, elem_id="probe-plot")
    with gr.Accordion("Full result (JSON)", open=False):
        details = gr.JSON(elem_id="multi-json")
    shared = pages.shared
    shared.add_model(backend, model, base_url, ctx.services.deployment)
    shared.add("find", target, "")
    shared.add("prompt", prompt, "")

    def current(data: Any, request: Any) -> tuple[Cursor, Any]:
        cursor = ctx.cursor_of(data, request)
        if cursor.item is None:
            raise StoreError("open an item from the queue first (group pictures into one item on the Review page)")
        return cursor, ctx.services.store().item(cursor.item)

    def describe(item: Any) -> str:
        pictures = ", ".join(f"{n} · {plain(image.image_id)} ({plain(image.original_name)}, {image.width} x "
                             f"{image.height})" for n, image in enumerate(item.images, 1))
        return f"**Item {item.id}** ({item.status}), {len(item.images)} picture(s): {pictures}"

    def _shown(data: Any, request: gr.Request | None = None):
        try:
            _, item = current(data, request)
        except StoreError as exc:
            return plain(str(exc).capitalize())
        return describe(item)

    def engine_for(cursor: Cursor, kind: str, checkpoint: str, url: str, key: str) -> tuple[Any, Any, tuple[str, ...]]:
        """The backend (behind the deployment's gate), the dataset's pixel limits when it is of the dataset's
        family, and a note when it is not."""
        settings = review_settings(ctx.services.store(), cursor.dataset)
        engine = ctx.engine(kind, checkpoint, url, key)
        if engine.family().name == settings.family:
            return engine, settings.limits, ()
        note = (f"{engine.model} is a {engine.family().name} model, not {settings.family} (this dataset's): its own "
                "pixel limits were used")
        return engine, None, (note,)

    def on_progress(progress: gr.Progress, what: str):
        return lambda done, total: progress((done, total), desc=what)

    @speaks(ctx.notice)
    def _preview(data: Any, kind: str, checkpoint: str, url: str, key: str, what: str, own: str, ask: str,
                 name_by: str, tokens: float, request: gr.Request | None = None):
        cursor, item = current(data, request)
        engine, limits, _ = engine_for(cursor, kind, checkpoint, url, key)
        view = preview_item(ctx.services.store(), engine, item.id, target=what, prompt=own, task=ask, naming=name_by,
                            max_new_tokens=int(tokens), limits=limits)
        text = view["text"] if view["text"] is not None else json.dumps(view["body"] or view["messages"], indent=2,
                                                                         ensure_ascii=False)
        return {exact: text, item_line: describe(item),
                ctx.notice: say("info", f"The exact prompt for item {item.id} ({view['format']}); nothing was sent.")}

    @speaks(ctx.notice)
    def _probe(data: Any, kind: str, checkpoint: str, url: str, key: str, what: str, own: str, ask: str,
               name_by: str, tokens: float, most: float, sample_seed: float, request: gr.Request | None = None,
               progress: gr.Progress = gr.Progress()):
        cursor, item = current(data, request)
        engine, limits, notes = engine_for(cursor, kind, checkpoint, url, key)
        result = probe_item(ctx.services.store(), engine, item.id, target=what, prompt=own, task=ask, naming=name_by,
                            max_orders=int(most), seed=int(sample_seed or 0), max_new_tokens=int(tokens),
                            limits=limits, on_progress=on_progress(progress, "order"))
        from grounding.probe_plot import render_probe_plot

        warnings = [*notes, *(f"order {','.join(map(str, a['order']))}: {w}" for a in result["answers"]
                              for w in a["warnings"])]
        return {table: probe_rows(result), plot: render_probe_plot(result["plot"]), summary: probe_summary(result),
                details: result, item_line: describe(item),
                ctx.notice: say("warning" if warnings else "ok", f"Probed {len(result['orders'])} orders of item "
                                f"{item.id}; nothing was stored.", warnings[:20])}

    def stored(cursor: Cursor, tool: str, result: dict, outcome: Any, notes: tuple[str, ...]) -> dict:
        """The run's summary and the notice, with the review screen, queue and counts showing the item now."""
        cursor, review = review_part(ctx, pages, cursor.at(outcome.item))
        store = ctx.services.store()
        record = store.dataset(cursor.dataset) if cursor.dataset is not None else None
        where = ("They are the item's boxes now" if outcome.applied else
                 "The item has work by hand, so they are kept beside it (dashed)")
        warnings = [*notes, *outcome.warnings]
        message = say("warning" if warnings else "ok", f"{TOOLS[tool].capitalize()} on item {outcome.item.id}: "
                      f"{outcome.detections} box(es)/point(s) stored as a model run. {where}: open the Review tab to "
                      "check them.", warnings[:20])
        ids = [image.image_id for image in outcome.item.images]
        return {**review, **queue_part(ctx, pages, cursor), ctx.counts: counts_text(record),
                ctx.cursor: cursor.to_json(), ctx.notice: message, summary: tool_summary(tool, result, ids),
                details: result, item_line: describe(outcome.item)}

    @speaks(ctx.notice)
    def _canvas(data: Any, kind: str, checkpoint: str, url: str, key: str, what: str, own: str, ask: str,
                tokens: float, arrangement: str, area: float, space: float, request: gr.Request | None = None):
        cursor, item = current(data, request)
        engine, limits, notes = engine_for(cursor, kind, checkpoint, url, key)
        result, outcome = canvas_on_item(ctx.services.store(), engine, item.id, target=what, prompt=own, task=ask,
                                         layout=arrangement, canvas_max_pixels=max(0, int(area or 0)) or None,
                                         gap=max(0, int(space or 0)), max_new_tokens=int(tokens), limits=limits)
        return stored(cursor, "canvas", result, outcome, notes)

    @speaks(ctx.notice)
    def _steps(data: Any, kind: str, checkpoint: str, url: str, key: str, what: str, own: str, ask: str,
               name_by: str, tokens: float, request: gr.Request | None = None, progress: gr.Progress = gr.Progress()):
        cursor, item = current(data, request)
        engine, limits, notes = engine_for(cursor, kind, checkpoint, url, key)
        result, outcome = steps_on_item(ctx.services.store(), engine, item.id, target=what, prompt=own, task=ask,
                                        naming=name_by, max_new_tokens=int(tokens), limits=limits,
                                        on_progress=on_progress(progress, "turn"))
        return stored(cursor, "steps", result, outcome, notes)

    @speaks(ctx.notice)
    def _tiles(data: Any, kind: str, checkpoint: str, url: str, key: str, what: str, own: str, ask: str,
               tokens: float, budget: float, share: float, again: bool, both: bool, request: gr.Request | None = None,
               progress: gr.Progress = gr.Progress()):
        cursor, item = current(data, request)
        engine, _, _ = engine_for(cursor, kind, checkpoint, url, key)  # tiles have their own pixel budget
        result, outcome = tiles_on_item(ctx.services.store(), engine, item.id, target=what, prompt=own, task=ask,
                                        tile_max_pixels=int(budget or 0) or None, overlap=float(share),
                                        refine=bool(again), compare=bool(both), max_new_tokens=int(tokens),
                                        on_progress=on_progress(progress, "model call"))
        return stored(cursor, "tiles", result, outcome, ())

    model_inputs = [ctx.cursor, backend, model, base_url, api_key, target, prompt, task]
    review_outs = pages.review_outputs()
    run_outs = [ctx.notice, ctx.cursor, ctx.counts, *review_outs, *pages.queue_outputs(), summary,
                details, item_line]
    tab.select(_shown, ctx.cursor, item_line, **PRIVATE)
    show.click(_preview, [*model_inputs, naming, max_new_tokens], [exact, item_line, ctx.notice], **MODEL_RUN)
    probe.click(_probe, [*model_inputs, naming, max_new_tokens, max_orders, seed],
                [table, plot, summary, details, item_line, ctx.notice], **MODEL_RUN)
    canvas.click(_canvas, [*model_inputs, max_new_tokens, layout, canvas_pixels, gap], run_outs, **MODEL_RUN)
    steps.click(_steps, [*model_inputs, naming, max_new_tokens], run_outs, **MODEL_RUN)
    tiles.click(_tiles, [*model_inputs, max_new_tokens, tile_pixels, overlap, refine, compare], run_outs,
                **MODEL_RUN)

"""Evaluate: measure models, prompt templates and pixel budgets on the dataset's accepted items of a split.

The evaluation runs in the server like a batch (closing the tab does not stop it) and this page shows its
progress from the store; one row per cell (sortable); an error browser per cell, worst items first, whose
rows open the item in Review with that run's boxes dashed beside the accepted ones; IoU histograms per
label; and two cells compared with bootstrap intervals. The fields start from the dataset's latest
evaluation, so coming back shows what was measured last.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import gradio as gr

from grounding.evaluation.plot import iou_by_label, render_iou_histograms
from ui.context import PRIVATE, QUEUED, AppContext
from ui.notice import say, speaks
from ui.refresh import Pages, review_part
from ui.views import plain
from workbench.batch.jobs import describe
from workbench.errors import StoreError, WorkbenchError
from workbench.evaluate import EvalGrid, EvalSetup, item_outcomes, scored_run
from workbench.evaluate.compare import compare_runs
from workbench.evaluate.jobs import EVAL_JOB, EvalRequest
from workbench.evaluate.report import table_headers, table_rows
from workbench.review import Cursor
from workbench.run_settings import DEFAULT_MAX_NEW_TOKENS
from workbench.store import Evaluation

__all__ = ["EvaluatePage", "build", "parse_budgets", "parse_lines"]

SPLIT_CHOICES = [("val", "val"), ("test", "test"), ("train", "train"), ("every split", "all")]
ERROR_HEADERS = ["item", "file", "quality", "lowest IoU", "missed", "extra", "truth boxes", "answer boxes", "error"]
COMPARE_RESAMPLES = 500


@dataclass
class EvaluatePage:
    table: gr.Dataframe
    chosen: gr.Dropdown
    show: Callable[..., dict]
    """The page as the browser's cursor shows it (wired to the tab's select and the app's load)."""
    outputs: list[Any]
    """The components :attr:`show` sets."""


def parse_lines(text: str | None) -> tuple[str, ...]:
    """One entry per non-empty line (models, prompt templates).

    >>> parse_lines("a\\n\\n b \\n")
    ('a', 'b')
    """
    return tuple(line.strip() for line in (text or "").splitlines() if line.strip())


def parse_budgets(text: str | None) -> tuple[int | None, ...]:
    """Pixel budgets from "401408, 1003520" (blank: the model's own).

    >>> parse_budgets("401408, 1003520"), parse_budgets("")
    ((401408, 1003520), (None,))
    """
    parts = [p for p in (text or "").replace(";", ",").replace(" ", ",").split(",") if p.strip()]
    try:
        budgets = tuple(int(float(p)) for p in parts)
    except ValueError:
        raise WorkbenchError(f"pixel budgets are whole numbers separated by commas, got {text!r}") from None
    if any(b < 1 for b in budgets):
        raise WorkbenchError("pixel budgets must be positive numbers of pixels")
    return budgets or (None,)


def _evaluation_label(evaluation: Evaluation) -> str:
    split = evaluation.split or "every split"
    return (f"Evaluation {evaluation.id} · {split} · {len(evaluation.items)} item(s) · {len(evaluation.cells)} "
            f"cell(s) · {evaluation.state}")


def _cell_label(evaluation: Evaluation, position: int) -> str:
    cell = evaluation.cells[position - 1]
    return f"Evaluation {evaluation.id}, cell {position}: {EvalSetup.from_dict(cell.settings).describe()}"


def _one_model(text: str | None) -> str | None:
    """The models field kept as the dataset's model when it names one (several are this evaluation's only).

    >>> _one_model(" Qwen/Qwen3-VL-4B-Instruct "), _one_model("a\\nb")
    ('Qwen/Qwen3-VL-4B-Instruct', None)
    """
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[0] if len(lines) == 1 else None


def build(ctx: AppContext, pages: Pages) -> EvaluatePage:
    gr.Markdown("Measure models, prompts and pixel budgets on the accepted items of a split: every combination "
                "is one cell, run in the background as a model run that never changes an item. Templates say "
                "`{target}` where the item's labels go; a blank template asks in the family's own words.")
    with gr.Row():
        split = gr.Dropdown(SPLIT_CHOICES, value="val", label="Split (accepted items)", elem_id="eval-split", scale=1)
        models = gr.Textbox(ctx.services.deployment.model, lines=2, label="Models (one per line)", elem_id="eval-models",
                            scale=2)
        prompts = gr.Textbox("", lines=2, label="Prompt templates (one per line; blank: the family's wording)",
                             placeholder="Locate every {target} in the image and output the bbox coordinates in "
                                         "JSON format.", elem_id="eval-prompts", scale=3)
        budgets = gr.Textbox("", label="max_pixels budgets (comma-separated; blank: the model's)",
                             placeholder="401408, 1003520", elem_id="eval-budgets", scale=2)
    with gr.Row():
        backend = gr.Radio([("OpenAI-compatible server (vLLM…)", "openai"), ("Local model (transformers)", "local")],
                           value="openai", label="Backend", elem_id="eval-backend")
        base_url = gr.Textbox(ctx.services.deployment.shown_base_url, label="Server base URL", elem_id="eval-base-url")
        concurrency = gr.Slider(1, 32, value=4, step=1, label="requests at once", elem_id="eval-concurrency")
        max_new_tokens = gr.Slider(16, 8192, value=DEFAULT_MAX_NEW_TOKENS, step=16, label="max new tokens", elem_id="eval-tokens")
        check = gr.Checkbox(True, label="check the server's resizing first", elem_id="eval-check")
        fresh = gr.Checkbox(False, label="start afresh (else an unfinished one resumes)", elem_id="eval-new")
    shared = pages.shared  # the dataset's remembered model and server, as on Review, Batch and Several images
    shared.add_model(backend, models, base_url, ctx.services.deployment, read_model=_one_model)
    with gr.Row():
        start = gr.Button("Evaluate", variant="primary", elem_id="eval-start")
        cancel = gr.Button("Cancel the running evaluation", variant="stop", elem_id="eval-cancel")
    progress = gr.Markdown("No evaluation yet for this dataset.", elem_id="eval-progress")
    chosen = gr.Dropdown([], value=None, label="Evaluation", elem_id="eval-choose")
    table = gr.Dataframe(headers=table_headers(), value=[], interactive=False, wrap=True, elem_id="eval-table",
                         label="Cells (click a column header to sort)")
    gr.Markdown("### Error browser\nThe chosen cell's items, worst first (no answer, then lowest quality: the "
                "truth boxes' best IoU over the larger box count). Click a row to open the item in Review with "
                "this run's boxes dashed beside the accepted ones.")
    with gr.Row():
        cell = gr.Dropdown([], value=None, label="Cell", elem_id="eval-cell", scale=3)
        show = gr.Button("Show", size="sm", elem_id="eval-show", scale=0)
    shown = gr.State({})
    seen = gr.State([])
    with gr.Row():
        errors = gr.Dataframe(headers=ERROR_HEADERS, value=[], interactive=False, wrap=True, elem_id="eval-errors",
                              label="Items, worst first", scale=3)
        plot = gr.Image(label="IoU of each truth box with its best answer box, per label", type="pil",
                        interactive=False, elem_id="eval-plot", scale=2, buttons=[])
    gr.Markdown("### Compare two cells\nEach metric's difference (B − A) on the items both measured, with a paired "
                "bootstrap 95 % interval, and the items that got worse.")
    with gr.Row():
        cell_a = gr.Dropdown([], value=None, label="A (baseline)", elem_id="eval-compare-a")
        cell_b = gr.Dropdown([], value=None, label="B", elem_id="eval-compare-b")
        compare = gr.Button("Compare", size="sm", elem_id="eval-compare")
    comparison = gr.Markdown(elem_id="eval-comparison")
    timer = gr.Timer(2.0)

    def owned(data: Any, request: gr.Request | None) -> Cursor:
        cursor = ctx.cursor_of(data, request)
        if cursor.dataset is None:
            raise StoreError("choose a dataset first")
        ctx.services.store().dataset(cursor.dataset, owner=ctx.owner(cursor, request))  # only one's own
        return cursor

    def dataset_of(cursor: Cursor) -> int:
        if cursor.dataset is None:
            raise StoreError("choose a dataset first")
        return cursor.dataset

    def evaluation_of(cursor: Cursor, evaluation_id: Any) -> Evaluation:
        found = ctx.services.store().evaluation(int(evaluation_id))
        if found.dataset_id != cursor.dataset:
            raise StoreError(f"evaluation {evaluation_id} belongs to another dataset")
        return found

    def progress_text(dataset: int | None) -> str:
        if dataset is None:
            return "Choose a dataset first."
        store = ctx.services.store()
        jobs = [job for job in store.jobs(dataset, limit=20) if job.kind == EVAL_JOB][:3]
        if not jobs:
            return "No evaluation has run for this dataset in the app yet."
        return "\n\n".join(plain(describe(job)) for job in jobs)

    def signature(evaluation: Evaluation) -> list:
        return [evaluation.id, *[(c.state, c.run_id) for c in evaluation.cells]]

    def choices(cursor: Cursor, selected: int | None = None) -> tuple[Evaluation | None, dict]:
        """The evaluations of the dataset, and the chosen one's table, cells and the cells to compare."""
        found = ctx.services.store().evaluations(cursor.dataset, limit=30) if cursor.dataset is not None else []
        if not found:
            return None, {chosen: gr.Dropdown(choices=[], value=None), table: [], seen: [],
                          cell: gr.Dropdown(choices=[], value=None), cell_a: gr.Dropdown(choices=[], value=None),
                          cell_b: gr.Dropdown(choices=[], value=None)}
        current = next((e for e in found if e.id == selected), found[0])
        cells = [(_cell_label(e, c.position), f"{e.id}:{c.position}") for e in found[:5] for c in e.cells
                 if c.run_id is not None]
        own = [(label, value) for label, value in cells if value.startswith(f"{current.id}:")]
        return current, {
            chosen: gr.Dropdown(choices=[(_evaluation_label(e), e.id) for e in found], value=current.id),
            table: table_rows(current), seen: signature(current),
            cell: gr.Dropdown(choices=own, value=own[0][1] if own else None),
            cell_a: gr.Dropdown(choices=cells, value=own[0][1] if own else None),
            cell_b: gr.Dropdown(choices=cells, value=own[1][1] if len(own) > 1 else None),
        }

    def overview(cursor: Cursor, selected: int | None = None) -> dict:
        """:func:`choices`, the progress, and the fields set to the chosen evaluation's grid."""
        current, parts = choices(cursor, selected)
        parts[progress] = progress_text(cursor.dataset)
        if current is None:
            return parts
        grid = EvalGrid.from_dict(current.settings)
        return {**parts, split: grid.split or "all", models: "\n".join(grid.models),
                prompts: "\n".join(p or "" for p in grid.prompts if p),
                budgets: ", ".join(str(b) for b in grid.max_pixels if b)}

    @speaks(ctx.notice)
    def _show_page(data: Any, request: gr.Request | None = None):
        cursor = ctx.cursor_of(data, request)
        if cursor.dataset is None:
            return {progress: "Choose a dataset first.", ctx.notice: gr.skip()}
        return {**overview(cursor), ctx.notice: gr.skip()}

    @speaks(ctx.notice)
    def _start(data: Any, where: str, names: str, templates: str, pixels: str, kind: str, url: str, at_once: float,
               tokens: float, probe: bool, again: bool, request: gr.Request | None = None):
        cursor = owned(data, request)
        grid = EvalGrid(models=parse_lines(names), prompts=parse_lines(templates) or (None,),
                        max_pixels=parse_budgets(pixels), split="" if where == "all" else where,
                        max_new_tokens=int(tokens))
        run = EvalRequest(backend=kind, base_url=(url or "").strip(), concurrency=int(at_once),
                          geometry_check=bool(probe), fresh=bool(again))
        evaluation, job_id = ctx.services.evaluations().start(dataset_of(cursor), grid, run)
        resumed = any(c.state != "queued" for c in evaluation.cells)
        words = "resumed" if resumed else "started"
        return {**overview(cursor, evaluation.id),
                ctx.notice: say("ok", f"Evaluation {evaluation.id} {words}: {len(evaluation.cells)} cell(s) on "
                                      f"{len(evaluation.items)} accepted item(s), in the background (job {job_id}).")}

    @speaks(ctx.notice)
    def _cancel(data: Any, request: gr.Request | None = None):
        cursor = owned(data, request)
        store = ctx.services.store()
        running = [job for job in store.jobs(dataset_of(cursor), limit=20) if job.kind == EVAL_JOB and job.active]
        if not running:
            return {ctx.notice: say("info", "No evaluation of this dataset is running.")}
        for job in running:
            ctx.services.evaluations().cancel(job.id)
        return {progress: progress_text(cursor.dataset),
                ctx.notice: say("ok", "Asked the evaluation to stop: the answers in flight are kept; start it again "
                                      "to go on.")}

    def _tick(data: Any, selected: Any, last: Any, request: gr.Request | None = None):
        """The progress; the table and the cell choices again when a cell changed state (else left alone, so
        a choice being made is not reset)."""
        try:
            cursor = ctx.cursor_of(data, request)
            if cursor.dataset is None:
                return {progress: gr.skip()}
            text = progress_text(cursor.dataset)
            if selected is None:
                latest = ctx.services.store().evaluations(cursor.dataset, limit=1)
                if not latest:
                    return {progress: text}
                return {progress: text, **choices(cursor)[1]}
            evaluation = evaluation_of(cursor, selected)
            if signature(evaluation) == last:
                return {progress: text, table: table_rows(evaluation)}
            return {progress: text, **choices(cursor, evaluation.id)[1]}
        except (StoreError, ValueError):
            return {progress: gr.skip()}

    @speaks(ctx.notice)
    def _choose(data: Any, selected: Any, request: gr.Request | None = None):
        cursor = owned(data, request)
        if selected is None:
            return {ctx.notice: gr.skip()}
        evaluation_of(cursor, selected)
        return {**overview(cursor, int(selected)), ctx.notice: ""}

    def cell_run(cursor: Cursor, value: Any) -> tuple[Evaluation, int, int]:
        if not value:
            raise WorkbenchError("choose a cell that has run")
        evaluation_id, position = (int(v) for v in str(value).split(":"))
        evaluation = evaluation_of(cursor, evaluation_id)
        run_id = evaluation.cells[position - 1].run_id
        if run_id is None:
            raise WorkbenchError(f"cell {position} of evaluation {evaluation_id} has not run yet")
        return evaluation, position, run_id

    @speaks(ctx.notice)
    def _show_cell(data: Any, value: Any, request: gr.Request | None = None):
        cursor = owned(data, request)
        evaluation, position, run_id = cell_run(cursor, value)
        store = ctx.services.store()
        rows = item_outcomes(store, evaluation, run_id, limit=200)
        table_rows_ = [[r.item_id, r.file, None if r.quality is None else round(r.quality, 3),
                        None if r.lowest_iou is None else round(r.lowest_iou, 3), r.missed, r.extra, r.truth,
                        r.answered, r.error] for r in rows]
        _, scored = scored_run(store, evaluation, run_id)
        picture = render_iou_histograms(iou_by_label(scored), title=f"Evaluation {evaluation.id}, cell {position}")
        return {errors: table_rows_, plot: picture, shown: {"evaluation": evaluation.id, "run": run_id},
                ctx.notice: ""}

    @speaks(ctx.notice)
    def _open(data: Any, current: dict, rows: Any, evt: gr.SelectData, request: gr.Request | None = None):
        cursor = owned(data, request)
        if not current or evt.index is None:
            return {ctx.notice: gr.skip()}
        row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        values = rows.values.tolist() if hasattr(rows, "values") else list(rows or [])
        if not 0 <= row < len(values):
            return {ctx.notice: gr.skip()}
        item = ctx.services.store().item(int(values[row][0]))
        if item.dataset_id != cursor.dataset:
            raise StoreError("that item belongs to another dataset")
        cursor = replace(cursor.at(item, 1), run=int(current["run"]), tab="review")
        cursor, review = review_part(ctx, pages, cursor)
        return {**review, ctx.cursor: cursor.to_json(), ctx.tabs: gr.Tabs(selected="review"),
                ctx.notice: say("info", f"Item {item.id}: the boxes of evaluation {current['evaluation']}'s run "
                                        f"{current['run']} are dashed beside the accepted ones.")}

    @speaks(ctx.notice)
    def _compare(data: Any, a: Any, b: Any, request: gr.Request | None = None):
        cursor = owned(data, request)
        _, position_a, run_a = cell_run(cursor, a)
        _, position_b, run_b = cell_run(cursor, b)
        result = compare_runs(ctx.services.store(), run_a, run_b, resamples=COMPARE_RESAMPLES)
        lines = [f"**A** run {run_a} (cell {position_a}) → **B** run {run_b} (cell {position_b}) on {result.items} "
                 f"item(s), {COMPARE_RESAMPLES} paired resamples", "",
                 "| metric | A | B | B − A | 95 % interval |", "|---|---|---|---|---|"]
        for d in result.differences:
            if d.a is None and d.b is None:
                continue
            interval = "–" if d.low is None else f"[{d.low:+.3f}, {d.high:+.3f}]"
            diff = "–" if d.difference is None else f"{d.difference:+.3f}"
            lines.append(f"| {d.metric} | {_fmt(d.a)} | {_fmt(d.b)} | {diff} | {interval} |")
        worse = ", ".join(f"{c.key} ({c.a:.2f} → {c.b:.2f})" for c in result.worse[:20])
        lines += ["", f"**{len(result.worse)} item(s) got worse**" + (f": {worse}" if worse else ".")]
        return {comparison: "\n".join(lines), ctx.notice: ""}

    overview_outputs = [chosen, table, progress, cell, cell_a, cell_b, seen, split, models, prompts, budgets,
                        ctx.notice]
    start.click(_start, [ctx.cursor, split, models, prompts, budgets, backend, base_url, concurrency, max_new_tokens,
                         check, fresh], overview_outputs, **QUEUED)
    cancel.click(_cancel, ctx.cursor, [progress, ctx.notice], **PRIVATE)
    timer.tick(_tick, [ctx.cursor, chosen, seen], [progress, table, chosen, cell, cell_a, cell_b, seen], **PRIVATE)
    chosen.input(_choose, [ctx.cursor, chosen], overview_outputs, **PRIVATE)
    gr.on([show.click, cell.input], _show_cell, [ctx.cursor, cell], [errors, plot, shown, ctx.notice], **QUEUED)
    errors.select(_open, [ctx.cursor, shown, errors], [ctx.notice, ctx.cursor, ctx.tabs, *pages.review_outputs()],
                  **PRIVATE)
    compare.click(_compare, [ctx.cursor, cell_a, cell_b], [comparison, ctx.notice], **QUEUED)
    return EvaluatePage(table, chosen, _show_page, overview_outputs)


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"

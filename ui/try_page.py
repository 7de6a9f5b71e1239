"""Try it: upload a few images, ask, see the boxes — then add them to a dataset in one click.

The light demo for a visitor of the Space. It keeps a small per-session :class:`Workspace` (images,
geometry settings, the last answer); what should last goes into a dataset.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import gradio as gr

from grounding import FAMILIES, GeometryError, ModelFamily, PixelLimits
from grounding.double_resize import qwen_vl_utils_default_limits
from grounding.prompts import GroundingTask, grounding_instruction
from ui.context import MODEL_RUN, PRIVATE, QUEUED, AppContext
from ui.notice import say, speaks
from ui.refresh import Pages, dataset_part, filter_part, queue_part, review_part, settings_part
from workbench.config import BACKEND_LABELS
from workbench.errors import USER_ERRORS
from workbench.presets import preset_limits, presets_for
from workbench.remembered import remembered
from workbench.run_settings import DEFAULT_MAX_NEW_TOKENS, ModelSource
from workbench.tryit.geometry_table import GEOMETRY_COLUMNS
from workbench.tryit.results import DETECTION_COLUMNS, detection_rows, render_results
from workbench.tryit.stream import stream_grounding
from workbench.tryit.uploads import UploadError, load_upload
from workbench.tryit.workspace import Workspace, save_to_dataset

__all__ = ["EXAMPLES_DIR", "TryPage", "build"]

SESSION_TTL_S = 6 * 3600
ALL_IMAGES = "all images (image keys / Picture N in the output)"
EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "assets" / "examples"


@dataclass(frozen=True)
class TryPage:
    wire: Callable[[], None]
    """Registers Save to a dataset, whose outputs are the other pages' parts: called once every page exists."""


def _gallery(ws: Workspace) -> list[tuple[str, str]]:
    return [(e.display_path, f"{n}. {e.image_id} · {e.name}") for n, e in enumerate(ws.images, start=1)]


def _ids(ws: Workspace, selected: str | None = None) -> gr.Dropdown:
    ids = list(ws.images.ids)
    return gr.Dropdown(choices=ids, value=selected if selected in ids else (ids[0] if ids else None))


def _targets(ws: Workspace) -> gr.Dropdown:
    return gr.Dropdown(choices=[ALL_IMAGES, *ws.images.ids], value=ALL_IMAGES)


def _results(ws: Workspace):
    drawn = render_results(ws, f"{ws.workdir}/drawn") if ws.workdir and len(ws.images) else []
    return drawn, detection_rows(ws)


def build(ctx: AppContext, pages: Pages) -> TryPage:
    services = ctx.services

    def _cleanup(ws: Workspace) -> None:
        if ws and ws.workdir:
            services.drop_session_dir(ws.workdir)

    state = gr.State(Workspace(), time_to_live=SESSION_TTL_S, delete_callback=_cleanup)
    first = FAMILIES[1]
    with gr.Row():
        with gr.Column(scale=3):
            files = gr.File(label="Drop images here (several at once; add more any time)", file_count="multiple",
                            file_types=["image"], type="filepath", elem_id="try-upload", height=120)
            examples = sorted(str(p) for p in EXAMPLES_DIR.glob("*.jpg")) if EXAMPLES_DIR.is_dir() else []
            if examples:
                gr.Examples([[[p]] for p in examples], inputs=[files], label="Or try a sample photo",
                            example_labels=[Path(p).stem for p in examples])
            gallery = gr.Gallery(label="Images in prompt order", columns=6, height=200, object_fit="contain",
                                 allow_preview=True, elem_id="try-thumbnails")
            with gr.Row():
                selected = gr.Dropdown(label="Image", choices=[], scale=2, elem_id="try-image")
                up = gr.Button("◀ Earlier", size="sm", elem_id="try-up")
                down = gr.Button("Later ▶", size="sm", elem_id="try-down")
                remove = gr.Button("Remove", size="sm", variant="stop", elem_id="try-remove")
            with gr.Row():
                new_id = gr.Textbox(label="New ID", placeholder="e.g. front, img2", scale=2, elem_id="try-new-id")
                rename = gr.Button("Rename", size="sm", elem_id="try-rename")
        with gr.Column(scale=2):
            family = gr.Dropdown([f.name for f in FAMILIES], value=first.name, label="Model family", elem_id="family")
            preset = gr.Dropdown([p.name for p in presets_for(first)], value=presets_for(first)[0].name,
                                 label="Pixel-limit preset", elem_id="preset")
            with gr.Row():
                min_pixels = gr.Number(first.default_min_pixels, precision=0, label="min_pixels", elem_id="min-pixels")
                max_pixels = gr.Number(first.default_max_pixels, precision=0, label="max_pixels", elem_id="max-pixels")
            with gr.Row():
                pre_resize = gr.Checkbox(False, label="qwen-vl-utils resizes first (process_vision_info)",
                                         elem_id="pre-resize")
                pre_resize_max = gr.Number(qwen_vl_utils_default_limits(first).max_pixels, precision=0, label="its max_pixels", elem_id="pre-max")
    table = gr.Dataframe(headers=GEOMETRY_COLUMNS, label="What the model sees", interactive=False, wrap=True,
                         elem_id="geometry-table")
    summary = gr.Markdown(elem_id="geometry-summary")
    with gr.Row():
        with gr.Column(scale=2):
            backend = gr.Radio(list(BACKEND_LABELS.values()), value=BACKEND_LABELS["paste"], label="Backend",
                               elem_id="try-backend")
            with gr.Group(visible=False) as model_box:
                model = gr.Textbox(ctx.services.deployment.model, label="Checkpoint or served model", elem_id="try-model")
                base_url = gr.Textbox(ctx.services.deployment.shown_base_url, label="Server base URL",
                                      placeholder="http://127.0.0.1:8000/v1", elem_id="try-base-url")
                api_key = gr.Textbox("", label="API key (blank: the server's configured key)", type="password")
            with gr.Row():
                target = gr.Textbox(label="What to find", placeholder="cat, the red car, every person", scale=3,
                                    elem_id="try-target")
                task = gr.Dropdown([t.value for t in GroundingTask], value="boxes", label="Ask for", scale=1)
                template = gr.Button("Write prompt", size="sm", elem_id="try-write-prompt")
            prompt = gr.Textbox(label="Prompt (images are referred to by their IDs)", lines=3, elem_id="try-prompt")
            with gr.Row():
                vision_id = gr.Checkbox(True, label='add_vision_id ("Picture N:" before each image)')
                max_new_tokens = gr.Slider(16, 8192, value=DEFAULT_MAX_NEW_TOKENS, step=16, label="max new tokens")
            with gr.Row():
                run = gr.Button("Run grounding", variant="primary", elem_id="try-run")
                parse = gr.Button("Parse pasted output", elem_id="try-parse")
                for_image = gr.Dropdown([ALL_IMAGES], value=ALL_IMAGES, label="Pasted output is for",
                                        elem_id="try-output-for")
        with gr.Column(scale=3):
            output = gr.Textbox(label="Model output (streams here; paste an output to parse it)", lines=8,
                                elem_id="try-output")
    drawn = gr.Gallery(label="Boxes and points on your original images", columns=3, height=420,
                       object_fit="contain", elem_id="try-drawn")
    detections = gr.Dataframe(headers=DETECTION_COLUMNS, label="Detections (original pixels)", interactive=False,
                              wrap=True, elem_id="try-detections")
    with gr.Row():
        dataset_name = gr.Textbox(label="Dataset", placeholder="the current one, or a new name",
                                  elem_id="try-dataset")
        together = gr.Checkbox(False, label="keep the images together as one multi-image item",
                               elem_id="try-together")
        save = gr.Button("Add these images and boxes to the dataset", variant="primary", elem_id="try-save")

    def table_outputs(ws: Workspace):
        t = ws.table()
        return t.rows, t.summary()

    def _settings(ws: Workspace, fam: str, low, high, pre: bool, pre_max):
        message = ""
        try:
            if not low or not high:
                raise GeometryError("set both min_pixels and max_pixels")
            limits = PixelLimits(int(low), int(high))
            pre_limits = None
            if pre:
                own = qwen_vl_utils_default_limits(fam)
                pre_limits = PixelLimits(own.min_pixels, int(pre_max or own.max_pixels))
            ws = ws.with_settings(fam, limits, pre_limits)
        except USER_ERRORS as exc:
            message = say("error", f"Pixel limits not applied: {exc}. The table still shows "
                                   f"min_pixels {ws.limits.min_pixels} and max_pixels {ws.limits.max_pixels}.")
        return (ws, *table_outputs(ws), message)

    settings_inputs = [state, family, min_pixels, max_pixels, pre_resize, pre_resize_max]
    settings_outputs = [state, table, summary, ctx.notice]
    gr.on([min_pixels.change, max_pixels.change, pre_resize.change, pre_resize_max.change], _settings,
          inputs=settings_inputs, outputs=settings_outputs, **PRIVATE)

    def _family(fam: str):
        family_ = ModelFamily.from_name(fam)
        presets = presets_for(family_)
        return (gr.Dropdown(choices=[p.name for p in presets], value=presets[0].name),
                family_.default_min_pixels, family_.default_max_pixels, qwen_vl_utils_default_limits(family_).max_pixels)

    family.change(_family, family, [preset, min_pixels, max_pixels, pre_resize_max], **PRIVATE).then(
        _settings, settings_inputs, settings_outputs, **PRIVATE)

    def _preset(fam: str, name: str | None):
        limits = preset_limits(fam, name)
        return (limits.min_pixels, limits.max_pixels) if limits else (gr.skip(), gr.skip())

    preset.input(_preset, [family, preset], [min_pixels, max_pixels], **PRIVATE)

    def _upload(ws: Workspace, paths: list[str] | None):
        if not paths:
            return ws, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), ""
        if not ws.workdir:
            ws = replace(ws, workdir=str(services.session_dir()))
        entries, errors = [], []
        for path in paths:
            try:
                entries.append(load_upload(path, f"{ws.workdir}/display", keep_dir=f"{ws.workdir}/originals",
                                           limits=ctx.services.deployment.limits))
            except UploadError as exc:
                errors.append(str(exc))
        ws = ws.with_images(ws.images.add(entries))
        message = say("warning", f"{len(errors)} file(s) could not be used; the others were added.", errors) \
            if errors else say("ok", f"Added {len(entries)} image(s).")
        return (ws, None, _gallery(ws), _ids(ws, ws.images.ids[-1] if len(ws.images) else None), *table_outputs(ws),
                _targets(ws), message)

    files.upload(_upload, [state, files], [state, files, gallery, selected, table, summary, for_image, ctx.notice],
                 **QUEUED)

    def _reorder(ws: Workspace, image_id: str | None, action: str, new_name: str = ""):
        message = ""
        if not image_id:
            message = say("warning", "Choose an image first.")
        else:
            try:
                if action in ("up", "down"):
                    ws = ws.with_images(ws.images.move(image_id, -1 if action == "up" else +1))
                elif action == "remove":
                    ws = ws.with_images(ws.images.remove(image_id))
                    image_id = None
                else:
                    ws = ws.rename(image_id, new_name)
                    image_id, new_name = new_name.strip(), ""
            except USER_ERRORS as exc:
                message = say("error", str(exc))
        return (ws, _gallery(ws), _ids(ws, image_id), *table_outputs(ws), new_name, _targets(ws), message)

    outs = [state, gallery, selected, table, summary, new_id, for_image, ctx.notice]
    up.click(lambda ws, i: _reorder(ws, i, "up"), [state, selected], outs, **PRIVATE)
    down.click(lambda ws, i: _reorder(ws, i, "down"), [state, selected], outs, **PRIVATE)
    remove.click(lambda ws, i: _reorder(ws, i, "remove"), [state, selected], outs, **PRIVATE)
    gr.on([rename.click, new_id.submit], lambda ws, i, n: _reorder(ws, i, "rename", n), [state, selected, new_id],
          outs, **PRIVATE)

    def _backend(label: str):
        kind = next(k for k, v in BACKEND_LABELS.items() if v == label)
        return gr.Group(visible=kind != "paste")

    backend.change(_backend, backend, model_box, **PRIVATE)

    def _template(ws: Workspace, what: str, kind: str, current: str):
        try:
            return grounding_instruction(what, ws.family, task=kind,
                                         image_ids=ws.images.ids if len(ws.images) > 1 else ()), ""
        except USER_ERRORS as exc:
            return current, say("error", str(exc))

    gr.on([template.click, target.submit], _template, [state, target, task, prompt], [prompt, ctx.notice], **PRIVATE)

    def _parse(ws: Workspace, text: str, chosen: str | None):
        try:
            number = ws.images.picture_number(chosen) if chosen and chosen in ws.images.ids else None
            ws = ws.with_output(text or "", target_image=number)
        except USER_ERRORS as exc:
            return ws, gr.skip(), gr.skip(), say("error", str(exc))
        warnings = ws.run.warnings if ws.run else ()
        message = say("warning" if warnings else "ok", f"Read {len(ws.result.detections)} detection(s).",
                      list(warnings), folded=ws.result.reasoning)
        return ws, *_results(ws), message

    parse.click(_parse, [state, output, for_image], [state, drawn, detections, ctx.notice], **QUEUED)

    def _run(ws: Workspace, label: str, text: str, add_vision_id: bool, tokens: int, checkpoint: str, url: str,
             key: str):
        kind = next(k for k, v in BACKEND_LABELS.items() if v == label)
        if kind == "paste":
            yield ws, gr.skip(), gr.skip(), gr.skip(), say("info", "Paste mode: paste a model output on the right, "
                                                                   "then press “Parse pasted output”.")
            return
        settings = ModelSource(kind, checkpoint or "", (url,) if url else (), key or None)
        streamed = ""
        try:
            for event in stream_grounding(services, settings, ws, text, add_vision_id=add_vision_id,
                                          max_new_tokens=int(tokens)):
                if isinstance(event, str):
                    streamed += event
                    yield gr.skip(), streamed, gr.skip(), gr.skip(), say("info", "The model is answering…")
                else:
                    ws = event.apply(ws)
                    warnings = ws.run.warnings if ws.run else ()
                    thinking = event.output.thinking.note(event.output.max_new_tokens)
                    yield (ws, event.output.text, *_results(ws),
                           say("warning" if warnings else "ok",
                               f"Read {len(ws.result.detections)} detection(s). {thinking}".strip(), list(warnings),
                               folded=ws.result.reasoning))
        except USER_ERRORS as exc:
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), say(
                "error", f"{exc} — the app keeps working: you can paste an output instead.")

    run.click(_run, [state, backend, prompt, vision_id, max_new_tokens, model, base_url, api_key],
              [state, output, drawn, detections, ctx.notice], **MODEL_RUN)

    @speaks(ctx.notice)
    def _save(ws: Workspace, data: Any, name: str, keep: bool, request: gr.Request | None = None):
        cursor = ctx.with_token(ctx.cursor_of(data, request))
        owner = ctx.owner(cursor, request)
        store = services.store()
        record = ctx.dataset_record(cursor, owner)
        target_name = (name or "").strip() or (record.name if record else "my-dataset")
        ids = save_to_dataset(store, ws, target_name, owner=owner, together=keep)
        dataset = store.dataset(target_name, owner=owner)
        opened = dataset.id != cursor.dataset
        if opened:  # another dataset: its own filter and remembered choices
            cursor = replace(cursor, filter=remembered(store, dataset.id).filter, page=1)
        cursor = replace(cursor, dataset=dataset.id).at(store.item(ids[0]))
        cursor, bar = dataset_part(ctx, cursor, owner)
        cursor, review = review_part(ctx, pages, cursor)
        if opened:
            bar |= {**filter_part(pages, cursor.filter), **settings_part(ctx, pages, cursor.dataset)}
        boxes = sum(len(ws.run.detections_for(e.image_id)) for e in ws.images) if ws.run else 0
        answered = sum(1 for e in ws.images if ws.run and ws.run.answered(e.image_id))
        left = len(ws.images) - answered
        untouched = (f" {left} image(s) the answer was not for are new items (a batch over new items runs on "
                     "them)." if ws.run and left else "")
        return {**bar, **queue_part(ctx, pages, cursor), **review, ctx.cursor: cursor.to_json(),
                ctx.notice: say("ok", f"Added {len(ids)} item(s) with {boxes} detection(s) to '{dataset.name}'."
                                      f"{untouched} Review them on the Review tab.")}

    def save_outputs() -> list[Any]:
        return [ctx.notice, ctx.cursor, ctx.dataset, ctx.counts, *pages.queue_outputs(),
                *pages.review_outputs(), *pages.filter_outputs(), *pages.shared.components()]

    def wire() -> None:
        save.click(_save, [state, ctx.cursor, dataset_name, together], save_outputs(), **QUEUED)

    return TryPage(wire)

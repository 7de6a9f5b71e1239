"""Export: the dataset in a trainer's format, accepted items by default, with the trainer's own pixel limits."""

from __future__ import annotations

from typing import Any

import gradio as gr

from grounding import FAMILIES, ModelFamily
from ui.context import PRIVATE, QUEUED, AppContext
from ui.notice import say, speaks
from ui.views import plain
from workbench.errors import ExportError, StoreError
from workbench.export import ExportSettings, export_dataset
from workbench.export.questions import PLACEHOLDERS, has_point_syntax
from workbench.export.registry import FORMATS
from workbench.export.saved import save_template, saved_templates, template_for
from workbench.presets import preset_limits, presets_for
from workbench.store import ITEM_STATUSES

__all__ = ["ExportPage", "build"]

TASK_CHOICES = (("Every labelled object", "objects"), ("One question per object (referring)", "referring"),
                ("Points", "points"))


def task_choices(family: ModelFamily | str) -> list[tuple[str, str]]:
    """The question tasks the family can ask (Qwen2-VL has no point format)."""
    return [(title, task) for title, task in TASK_CHOICES if task != "points" or has_point_syntax(family)]


class ExportPage:
    """The Export page's parts that other pages wire (the question shown when the tab opens)."""

    def __init__(self, load: Any, inputs: list, outputs: list) -> None:
        self.load, self.inputs, self.outputs = load, inputs, outputs

    def wire(self, tab: Any) -> None:
        tab.select(self.load, self.inputs, self.outputs, **PRIVATE)


def build(ctx: AppContext) -> ExportPage:
    gr.Markdown("Boxes are converted with the **trainer's** pixel limits (trainers do not rescale them); a "
                "manifest next to the data records them, with the command that trains on it.")
    first = FAMILIES[1]
    with gr.Row():
        fmt = gr.Dropdown([(f"{f.title} ({name})", name) for name, f in FORMATS.items()], value="qwen_finetune",
                          label="Format", elem_id="export-format", scale=2)
        family = gr.Dropdown([f.name for f in FAMILIES], value=first.name, label="Target model family",
                             elem_id="export-family")
        preset = gr.Dropdown([p.name for p in presets_for(first)], value=None, label="Trainer limits preset",
                             elem_id="export-preset")
        min_pixels = gr.Number(first.default_min_pixels, precision=0, label="trainer min_pixels", elem_id="export-min")
        max_pixels = gr.Number(first.default_max_pixels, precision=0, label="trainer max_pixels", elem_id="export-max")
    statuses = gr.CheckboxGroup(list(ITEM_STATUSES), value=["accepted"], label="Items to export",
                                elem_id="export-statuses")
    with gr.Row():
        task = gr.Radio(task_choices(first), value="objects", label="Training questions ask for",
                        elem_id="export-task")
        negatives = gr.Checkbox(False, label="Keep images with nothing to answer as negatives (empty answers)",
                                elem_id="export-negatives")
        paths = gr.Radio([("Absolute", "absolute"), ("Relative to the export", "relative")], value="absolute",
                         label="Image paths (ms-swift, XComposer2)", elem_id="export-paths")
    question = gr.Textbox(template_for(None, None, first, "objects"), lines=2, label="Training question",
                          info="Kept with the dataset for this family and task (empty: the family's own phrasing). "
                               "Placeholders: " + " ".join("{" + p + "}" for p in PLACEHOLDERS),
                          elem_id="export-question")
    export = gr.Button("Export", variant="primary", elem_id="export")
    with gr.Row():
        download = gr.File(label="Download", interactive=False, elem_id="export-file")
        report = gr.Markdown(elem_id="export-report")

    def _question(data: Any, fam: str, chosen_task: str, request: gr.Request | None = None) -> str:
        cursor = ctx.cursor_of(data, request)
        record = ctx.dataset_record(cursor, ctx.owner(cursor, request))
        return template_for(ctx.services.store(), record.id if record else None, fam, chosen_task)

    def _family(data: Any, name: str, chosen_task: str, request: gr.Request | None = None):
        fam = ModelFamily.from_name(name)
        tasks = task_choices(fam)
        if chosen_task not in {value for _, value in tasks}:
            chosen_task = "objects"
        return (gr.Dropdown(choices=[p.name for p in presets_for(fam)], value=None), fam.default_min_pixels,
                fam.default_max_pixels, gr.Radio(choices=tasks, value=chosen_task),
                _question(data, name, chosen_task, request))

    def _preset(fam: str, name: str | None):
        limits = preset_limits(fam, name)
        return (limits.min_pixels, limits.max_pixels) if limits else (gr.skip(), gr.skip())

    @speaks(ctx.notice)
    def _export(data: Any, format_name: str, fam: str, low: Any, high: Any, chosen: list[str], chosen_task: str,
                wording: str, keep_negatives: bool, path_style: str, request: gr.Request | None = None):
        cursor = ctx.cursor_of(data, request)
        owner = ctx.owner(cursor, request)
        if cursor.dataset is None:
            raise StoreError("choose a dataset to export")
        if not low or not high:
            raise ExportError("set the trainer's min_pixels and max_pixels (or pick a preset)")
        store = ctx.services.store()
        record = store.dataset(cursor.dataset, owner=owner)
        wording = (wording or "").strip()
        templates = saved_templates(store, record.id, fam)
        templates.pop(chosen_task, None)  # the page's wording for this task, or the family's when it is empty
        if wording:
            templates[chosen_task] = wording
        settings = ExportSettings.create(fam, min_pixels=int(low), max_pixels=int(high),
                                         statuses=tuple(chosen or ()), task=chosen_task or "objects",
                                         question_templates=templates, negatives=bool(keep_negatives),
                                         paths=path_style or "absolute")
        result = export_dataset(store, record.id, format_name, settings, ctx.services.download_dir())
        save_template(store, record.id, fam, settings.task, wording)  # the dataset asks it next time too
        counts = result.manifest.get("counts", {})
        lines = [f"Exported **{plain(record.name)}** as {plain(format_name)} for {plain(fam)} (trainer limits "
                 f"{int(low)}–{int(high)}): " + ", ".join(f"{k} {v}" for k, v in counts.items())]
        if result.manifest.get("usage"):
            lines.append(f"Train with: {plain(result.manifest['usage'])}")
        message = say("warning" if result.warnings else "ok", f"Exported {counts.get('samples', 0)} sample(s) of "
                      f"'{record.name}'.", list(result.warnings))
        return {download: str(result.zip_path), report: "\n\n".join(lines), ctx.notice: message}

    family.change(_family, [ctx.cursor, family, task], [preset, min_pixels, max_pixels, task, question], **PRIVATE)
    task.input(_question, [ctx.cursor, family, task], question, **PRIVATE)
    preset.input(_preset, [family, preset], [min_pixels, max_pixels], **PRIVATE)
    export.click(_export, [ctx.cursor, fmt, family, min_pixels, max_pixels, statuses, task, question, negatives, paths],
                 [download, report, ctx.notice], **QUEUED)
    return ExportPage(_question, [ctx.cursor, family, task], [question])

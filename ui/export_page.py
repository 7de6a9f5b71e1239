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
from workbench.export.registry import FORMATS
from workbench.presets import preset_limits, presets_for
from workbench.store import ITEM_STATUSES

__all__ = ["build"]


def build(ctx: AppContext) -> None:
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
    export = gr.Button("Export", variant="primary", elem_id="export")
    with gr.Row():
        download = gr.File(label="Download", interactive=False, elem_id="export-file")
        report = gr.Markdown(elem_id="export-report")

    def _family(name: str):
        fam = ModelFamily.from_name(name)
        return (gr.Dropdown(choices=[p.name for p in presets_for(fam)], value=None), fam.default_min_pixels,
                fam.default_max_pixels)

    def _preset(fam: str, name: str | None):
        limits = preset_limits(fam, name)
        return (limits.min_pixels, limits.max_pixels) if limits else (gr.skip(), gr.skip())

    @speaks(ctx.notice)
    def _export(data: Any, format_name: str, fam: str, low: Any, high: Any, chosen: list[str],
                request: gr.Request = None):
        cursor = ctx.cursor_of(data, request)
        owner = ctx.owner(cursor, request)
        if cursor.dataset is None:
            raise StoreError("choose a dataset to export")
        if not low or not high:
            raise ExportError("set the trainer's min_pixels and max_pixels (or pick a preset)")
        store = ctx.services.store()
        record = store.dataset(cursor.dataset, owner=owner)
        settings = ExportSettings.create(fam, min_pixels=int(low), max_pixels=int(high),
                                         statuses=tuple(chosen or ()))
        result = export_dataset(store, record.id, format_name, settings, ctx.services.download_dir())
        counts = result.manifest.get("counts", {})
        lines = [f"Exported **{plain(record.name)}** as {plain(format_name)} for {plain(fam)} (trainer limits "
                 f"{int(low)}–{int(high)}): " + ", ".join(f"{k} {v}" for k, v in counts.items())]
        if result.manifest.get("usage"):
            lines.append(f"Train with: {plain(result.manifest['usage'])}")
        message = say("warning" if result.warnings else "ok", f"Exported {counts.get('samples', 0)} sample(s) of "
                      f"'{record.name}'.", list(result.warnings))
        return {download: str(result.zip_path), report: "\n\n".join(lines), ctx.notice: message}

    family.change(_family, family, [preset, min_pixels, max_pixels], **PRIVATE)
    preset.input(_preset, [family, preset], [min_pixels, max_pixels], **PRIVATE)
    export.click(_export, [ctx.cursor, fmt, family, min_pixels, max_pixels, statuses], [download, report, ctx.notice],
                 **QUEUED)

"""Dataset tab: choose, create, rename or delete datasets; export one for a trainer and download it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import gradio as gr

from grounding import FAMILIES, ModelFamily
from workbench.errors import WorkbenchError
from workbench.export import ExportSettings, export_dataset
from workbench.export.registry import FORMATS
from workbench.presets import preset_limits, presets_for
from workbench.services import Services

__all__ = ["DatasetTab", "build", "dataset_summary", "refresh"]

_PRIVATE = {"queue": False, "api_visibility": "private", "show_progress": "hidden"}


@dataclass
class DatasetTab:
    dataset: gr.Dropdown
    summary: gr.Markdown


def dataset_summary(services: Services, name: str | None) -> str:
    if not name:
        return "No dataset chosen: create one to save accepted boxes."
    try:
        store = services.store()
        record = store.dataset(name)
        samples = store.samples(record)
    except WorkbenchError as exc:
        return f"⚠ {exc}"
    images = sum(len(s.images) for s in samples)
    boxes = sum(len(i.annotations) for s in samples for i in s.images)
    return f"**{record.name}**: {record.samples} sample(s), {images} image(s), {boxes} annotation(s)"


def _names(services: Services) -> list[str]:
    return [d.name for d in services.store().list_datasets()]


def refresh(services: Services, current: str | None):
    """Dataset choices as the store has them now (other sessions and the CLI add datasets too)."""
    names = _names(services)
    value = current if current in names else (names[0] if names else None)
    return gr.Dropdown(choices=names, value=value), dataset_summary(services, value)


def build(services: Services) -> DatasetTab:
    names = _names(services)
    with gr.Row():
        dataset = gr.Dropdown(names, value=names[0] if names else None, label="Current dataset (accepted boxes go here)",
                              elem_id="dataset-select", scale=2)
        new_name = gr.Textbox(label="Name", placeholder="e.g. kitchen-cats", elem_id="dataset-name", scale=2)
        create = gr.Button("Create", size="sm", elem_id="dataset-create")
        rename = gr.Button("Rename current", size="sm", elem_id="dataset-rename")
        delete = gr.Button("Delete current", size="sm", variant="stop", elem_id="dataset-delete")
    summary = gr.Markdown(dataset_summary(services, names[0] if names else None), elem_id="dataset-summary")

    def _create(name: str):
        try:
            services.store().create_dataset(name)
        except (WorkbenchError, ValueError) as exc:
            raise gr.Error(str(exc)) from None
        return gr.Dropdown(choices=_names(services), value=name.strip()), "", dataset_summary(services, name.strip())

    gr.on([create.click, new_name.submit], _create, new_name, [dataset, new_name, summary], **_PRIVATE)

    def _rename(current: str | None, name: str):
        if not current:
            raise gr.Error("Choose a dataset to rename.")
        try:
            record = services.store().rename_dataset(current, name)
        except (WorkbenchError, ValueError) as exc:
            raise gr.Error(str(exc)) from None
        return gr.Dropdown(choices=_names(services), value=record.name), "", dataset_summary(services, record.name)

    rename.click(_rename, [dataset, new_name], [dataset, new_name, summary], **_PRIVATE)

    def _delete(current: str | None, typed: str):
        if not current:
            raise gr.Error("Choose a dataset to delete.")
        if (typed or "").strip() != current:
            raise gr.Error(f"To delete '{current}' and all its samples, type its name in the Name box first.")
        try:
            services.store().delete_dataset(current)
        except WorkbenchError as exc:
            raise gr.Error(str(exc)) from None
        left = _names(services)
        gr.Info(f"Deleted dataset '{current}'.")
        return gr.Dropdown(choices=left, value=left[0] if left else None), dataset_summary(services, left[0] if left else None)

    delete.click(_delete, [dataset, new_name], [dataset, summary], api_visibility="private")
    dataset.change(lambda name: dataset_summary(services, name), dataset, summary, **_PRIVATE)

    gr.Markdown("### Export for a trainer\nBoxes are converted with the **trainer's** pixel limits; a manifest "
                "records them next to the data.")
    first = FAMILIES[1]
    with gr.Row():
        fmt = gr.Dropdown(sorted(FORMATS), value="qwen_finetune", label="Format", elem_id="export-format")
        family = gr.Dropdown([f.name for f in FAMILIES], value=first.name, label="Target model family",
                             elem_id="export-family")
        preset = gr.Dropdown([p.name for p in presets_for(first)], value=None, label="Trainer limits preset")
        min_pixels = gr.Number(first.default_min_pixels, precision=0, label="trainer min_pixels",
                               elem_id="export-min")
        max_pixels = gr.Number(first.default_max_pixels, precision=0, label="trainer max_pixels",
                               elem_id="export-max")
    export = gr.Button("Export", variant="primary", elem_id="export")
    with gr.Row():
        download = gr.File(label="Download", interactive=False, elem_id="export-file")
        report = gr.Markdown(elem_id="export-report")

    def _family(name: str):
        fam = ModelFamily.from_name(name)
        return (gr.Dropdown(choices=[p.name for p in presets_for(fam)], value=None), fam.default_min_pixels,
                fam.default_max_pixels)

    family.change(_family, family, [preset, min_pixels, max_pixels], **_PRIVATE)

    def _preset(fam: str, name: str | None):
        limits = preset_limits(fam, name)
        return (limits.min_pixels, limits.max_pixels) if limits else (gr.skip(), gr.skip())

    preset.input(_preset, [family, preset], [min_pixels, max_pixels], **_PRIVATE)

    def _export(name: str | None, format_name: str, fam: str, low, high):
        if not name:
            raise gr.Error("Choose a dataset to export.")
        if not low or not high:
            raise gr.Error("Set the trainer's min_pixels and max_pixels (or pick a preset).")
        try:
            settings = ExportSettings.create(fam, min_pixels=int(low), max_pixels=int(high))
            out_dir = services.exports_dir() / uuid.uuid4().hex[:12]  # one folder per export: sessions never collide
            result = export_dataset(services.store(), name, format_name, settings, out_dir)
        except (WorkbenchError, ValueError) as exc:
            raise gr.Error(str(exc)) from None
        counts = ", ".join(f"{k}: {v}" for k, v in result.manifest.get("counts", {}).items())
        lines = [f"Exported **{name}** as `{format_name}` for {fam} (trainer limits {int(low)}–{int(high)}).",
                 counts]
        lines += [f"- ⚠ {w}" for w in result.warnings]
        return str(result.zip_path), "\n\n".join(line for line in lines if line)

    export.click(_export, [dataset, fmt, family, min_pixels, max_pixels], [download, report],
                 api_visibility="private")
    return DatasetTab(dataset, summary)

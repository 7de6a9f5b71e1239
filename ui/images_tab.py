"""Images tab: upload, order, IDs, and the live geometry table."""

from __future__ import annotations

from dataclasses import dataclass, replace

import gradio as gr

from grounding import FAMILIES, GeometryError, ModelFamily, PixelLimits
from workbench.errors import WorkbenchError
from workbench.geometry_table import GEOMETRY_COLUMNS
from workbench.presets import preset_limits, presets_for
from workbench.services import Services
from workbench.uploads import UploadError, load_upload
from workbench.workspace import Workspace

__all__ = ["ImagesTab", "build"]

_PRIVATE = {"queue": False, "api_visibility": "private", "show_progress": "hidden"}


@dataclass
class ImagesTab:
    files: gr.File
    gallery: gr.Gallery
    selected: gr.Dropdown
    new_id: gr.Textbox
    family: gr.Dropdown
    preset: gr.Dropdown
    min_pixels: gr.Number
    max_pixels: gr.Number
    pre_resize: gr.Checkbox
    pre_resize_max: gr.Number
    table: gr.Dataframe
    summary: gr.Markdown


def gallery_items(ws: Workspace) -> list[tuple[str, str]]:
    return [(e.display_path, f"{n}. {e.image_id} · {e.name}") for n, e in enumerate(ws.images, start=1)]


def table_outputs(ws: Workspace):
    table = ws.table()
    return table.rows, table.summary()


def id_choices(ws: Workspace, selected: str | None = None) -> gr.Dropdown:
    ids = list(ws.images.ids)
    value = selected if selected in ids else (ids[0] if ids else None)
    return gr.Dropdown(choices=ids, value=value)


def add_files(ws: Workspace, files: list[str] | None, services: Services):
    """Add uploaded files; unreadable ones are reported and skipped, the others kept."""
    if not files:
        return ws, []
    if not ws.workdir:
        ws = replace(ws, workdir=str(services.session_dir()))
    entries, errors = [], []
    for path in files:
        try:
            entries.append(load_upload(path, f"{ws.workdir}/display", keep_dir=f"{ws.workdir}/originals"))
        except UploadError as exc:
            errors.append(str(exc))
    return ws.with_images(ws.images.add(entries)), errors


def read_limits(min_pixels: float | None, max_pixels: float | None) -> PixelLimits:
    if not min_pixels or not max_pixels:
        raise GeometryError("set both min_pixels and max_pixels")
    return PixelLimits(int(min_pixels), int(max_pixels))


def build(state: gr.State, services: Services) -> ImagesTab:
    first = FAMILIES[1]
    with gr.Row():
        with gr.Column(scale=3):
            files = gr.File(label="Drop images here (several at once; add more any time)", file_count="multiple",
                            file_types=["image"], type="filepath", elem_id="upload")
            gallery = gr.Gallery(label="Images in prompt order", columns=6, height=220, object_fit="contain",
                                 allow_preview=True, elem_id="thumbnails")
            with gr.Row():
                selected = gr.Dropdown(label="Image", choices=[], scale=2, elem_id="image-select")
                up = gr.Button("◀ Earlier", size="sm", elem_id="move-up")
                down = gr.Button("Later ▶", size="sm", elem_id="move-down")
                remove = gr.Button("Remove", size="sm", variant="stop", elem_id="remove")
            with gr.Row():
                new_id = gr.Textbox(label="New ID", placeholder="e.g. front, img2", scale=2, elem_id="new-id")
                rename = gr.Button("Rename", size="sm", elem_id="rename")
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
                pre_resize_max = gr.Number(16384 * 28 * 28, precision=0, label="its max_pixels", elem_id="pre-max")
    table = gr.Dataframe(headers=GEOMETRY_COLUMNS, label="What the model sees", interactive=False, wrap=True,
                         elem_id="geometry-table")
    summary = gr.Markdown(elem_id="geometry-summary")
    tab = ImagesTab(files, gallery, selected, new_id, family, preset, min_pixels, max_pixels, pre_resize,
                    pre_resize_max, table, summary)

    def _settings(ws: Workspace, fam: str, low, high, pre: bool, pre_max):
        try:
            limits = read_limits(low, high)
            pre_limits = None
            if pre:
                factor = ModelFamily.from_name(fam).factor
                pre_limits = PixelLimits(4 * factor * factor, int(pre_max or 16384 * factor * factor))
            ws = ws.with_settings(fam, limits, pre_limits)
        except (GeometryError, WorkbenchError) as exc:
            gr.Warning(f"Pixel limits not applied: {exc}")
        return (ws, *table_outputs(ws))

    settings_inputs = [state, family, min_pixels, max_pixels, pre_resize, pre_resize_max]
    gr.on([min_pixels.change, max_pixels.change, pre_resize.change, pre_resize_max.change], _settings,
          inputs=settings_inputs, outputs=[state, table, summary], **_PRIVATE)

    def _family(ws: Workspace, fam: str):
        family_ = ModelFamily.from_name(fam)
        presets = presets_for(family_)
        return (gr.Dropdown(choices=[p.name for p in presets], value=presets[0].name),
                family_.default_min_pixels, family_.default_max_pixels, 16384 * family_.factor**2)

    family.change(_family, [state, family], [preset, min_pixels, max_pixels, pre_resize_max], **_PRIVATE).then(
        _settings, settings_inputs, [state, table, summary], **_PRIVATE)

    def _preset(fam: str, name: str | None):
        limits = preset_limits(fam, name)
        return (limits.min_pixels, limits.max_pixels) if limits else (gr.skip(), gr.skip())

    preset.input(_preset, [family, preset], [min_pixels, max_pixels], **_PRIVATE)

    def _upload(ws: Workspace, paths: list[str] | None):
        ws, errors = add_files(ws, paths, services)
        for error in errors:
            gr.Warning(error)
        return (ws, None, gallery_items(ws), id_choices(ws, ws.images.ids[-1] if len(ws.images) else None),
                *table_outputs(ws))

    files.upload(_upload, [state, files], [state, files, gallery, selected, table, summary],
                 api_visibility="private", show_progress="minimal")

    def _reorder(ws: Workspace, image_id: str | None, action: str, new_name: str = ""):
        if not image_id:
            gr.Warning("Choose an image first.")
            return ws, gallery_items(ws), id_choices(ws), *table_outputs(ws), new_name
        try:
            if action == "up":
                ws = ws.with_images(ws.images.move(image_id, -1))
            elif action == "down":
                ws = ws.with_images(ws.images.move(image_id, +1))
            elif action == "remove":
                ws = ws.with_images(ws.images.remove(image_id))
                image_id = None
            else:
                ws = ws.rename(image_id, new_name)
                image_id, new_name = new_name.strip(), ""
        except WorkbenchError as exc:
            gr.Warning(str(exc))
        return ws, gallery_items(ws), id_choices(ws, image_id), *table_outputs(ws), new_name

    outputs = [state, gallery, selected, table, summary, new_id]
    up.click(lambda ws, i: _reorder(ws, i, "up"), [state, selected], outputs, **_PRIVATE)
    down.click(lambda ws, i: _reorder(ws, i, "down"), [state, selected], outputs, **_PRIVATE)
    remove.click(lambda ws, i: _reorder(ws, i, "remove"), [state, selected], outputs, **_PRIVATE)
    gr.on([rename.click, new_id.submit], lambda ws, i, n: _reorder(ws, i, "rename", n), [state, selected, new_id],
          outputs, **_PRIVATE)
    return tab

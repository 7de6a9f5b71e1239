"""Edit tab: correct boxes by hand (with undo/redo), accept them, or insert a region into the prompt."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr
from gradio_image_annotation import image_annotator

from workbench.editor import annotator_value, box_text, boxes_from_annotator, entry_for_value
from workbench.errors import WorkbenchError
from workbench.workspace import Workspace

__all__ = ["EditTab", "build", "editor_outputs", "status_text"]

_PRIVATE = {"queue": False, "api_visibility": "private", "show_progress": "hidden"}


@dataclass
class EditTab:
    selected: gr.Dropdown
    editor: image_annotator
    status: gr.Markdown
    undo: gr.Button
    redo: gr.Button
    accept: gr.Button
    region: gr.Button


def status_text(ws: Workspace, image_id: str | None, note: str = "") -> str:
    if not image_id or image_id not in ws.images.ids:
        return "Upload images first, then pick one here."
    history = ws.history(image_id)
    saved = ws.accepted.get(image_id)
    parts = [f"**{image_id}**: {len(history.current)} box(es) in original pixels",
             f"edit {history.index} of {len(history.states) - 1}"]
    if saved is not None:
        parts.append(f"accepted: {len(saved)} box(es)")
    text = " · ".join(parts)
    listing = "\n".join(f"- {box.label or '(no label)'}: {box_text(box)}" for box in history.current)
    text = f"{text}\n\n{listing}" if listing else text
    return f"{text}\n\n{note}" if note else text


def editor_outputs(ws: Workspace, image_id: str | None, note: str = ""):
    """Editor value and status line for one image (None when there is nothing to edit)."""
    if not image_id or image_id not in ws.images.ids:
        return None, status_text(ws, None)
    entry = ws.images.get(image_id)
    labels = sorted({b.label for b in ws.boxes(image_id)} | {b.label for b in ws.model_boxes(image_id)} | {"object"})
    value = annotator_value(entry, ws.boxes(image_id))
    return image_annotator(value=value, label_list=labels), status_text(ws, image_id, note)


def build(state: gr.State, prompt: gr.Textbox) -> EditTab:
    with gr.Row():
        selected = gr.Dropdown(label="Image to edit", choices=[], elem_id="edit-select", scale=2)
        undo = gr.Button("↶ Undo", size="sm", elem_id="undo")
        redo = gr.Button("↷ Redo", size="sm", elem_id="redo")
        reset = gr.Button("Reset to model output", size="sm", elem_id="reset")
    editor = image_annotator(label="Drag to draw a box; select a box to move, resize, relabel or delete it",
                             image_type="filepath", sources=[], show_clear_button=False, show_remove_button=False,
                             use_default_label=True, label_list=["object"], elem_id="editor", height=560)
    with gr.Row():
        accept = gr.Button("Accept boxes (save to dataset)", variant="primary", elem_id="accept")
        region = gr.Button("Insert last box into the prompt as a region", elem_id="insert-region")
    status = gr.Markdown(elem_id="edit-status")
    tab = EditTab(selected, editor, status, undo, redo, accept, region)

    selected.change(lambda ws, i: editor_outputs(ws, i), [state, selected], [editor, status], **_PRIVATE)

    def _edited(ws: Workspace, image_id: str | None, value: dict | None):
        entry = entry_for_value(value, ws.images, image_id)
        if entry is None or entry.image_id != image_id:
            return ws, gr.skip()  # a late event from the image shown before
        if value.get("orientation"):
            gr.Warning("Rotating in the editor is not supported: boxes are kept on the upright image.")
        ws = ws.edit(entry.image_id, boxes_from_annotator(value, entry, ws.boxes(entry.image_id)))
        return ws, status_text(ws, entry.image_id)

    editor.change(_edited, [state, selected, editor], [state, status], **_PRIVATE)

    def _step(ws: Workspace, image_id: str | None, direction: str):
        if not image_id or image_id not in ws.images.ids:
            return ws, gr.skip(), gr.skip()
        history = ws.history(image_id)
        if direction == "undo" and not history.can_undo:
            gr.Info("Nothing to undo.")
        if direction == "redo" and not history.can_redo:
            gr.Info("Nothing to redo.")
        ws = ws.undo(image_id) if direction == "undo" else ws.redo(image_id) if direction == "redo" else ws.reset(image_id)
        return ws, *editor_outputs(ws, image_id)

    undo.click(lambda ws, i: _step(ws, i, "undo"), [state, selected], [state, editor, status], **_PRIVATE)
    redo.click(lambda ws, i: _step(ws, i, "redo"), [state, selected], [state, editor, status], **_PRIVATE)
    reset.click(lambda ws, i: _step(ws, i, "reset"), [state, selected], [state, editor, status], **_PRIVATE)

    def _region(ws: Workspace, image_id: str | None, current: str):
        boxes = ws.boxes(image_id) if image_id and image_id in ws.images.ids else ()
        if not boxes:
            gr.Warning("Draw a box on the image first.")
            return current
        try:
            region = ws.region_text(image_id, boxes[-1].xyxy)
        except WorkbenchError as exc:
            raise gr.Error(str(exc)) from None
        return (current.rstrip() + " " if current.strip() else "") + f"the region {region} of {image_id}"

    region.click(_region, [state, selected, prompt], prompt, **_PRIVATE)
    return tab

"""The Gradio Blocks app. Nothing is built at import time: call :func:`create_app`.

>>> import tempfile
>>> demo = create_app(Services.create(tempfile.mkdtemp()))
>>> type(demo).__name__
'Blocks'
"""

from __future__ import annotations

import gradio as gr

from ui import api, dataset_tab, edit_tab, ground_tab, images_tab
from workbench.dataset_session import save_accepted
from workbench.errors import WorkbenchError
from workbench.services import Services
from workbench.workspace import Workspace

__all__ = ["create_app"]

SESSION_TTL_S = 6 * 3600

def create_app(services: Services | None = None) -> gr.Blocks:
    """Build the workbench UI around ``services`` (data folder, model backends)."""
    services = services or Services.create()
    # The browser fetches display copies, drawn results and export zips straight from the data folder,
    # which is neither the working directory nor the temp folder (~/.local/share/..., /data on a Space):
    # serve exactly those folders, never the database or the image store beside them.
    gr.set_static_paths([services.sessions_root, services.exports_dir()])

    def _cleanup(ws: Workspace) -> None:
        if ws and ws.workdir:
            services.drop_session_dir(ws.workdir)

    with gr.Blocks(title="Grounding Workbench") as demo:
        state = gr.State(Workspace(), time_to_live=SESSION_TTL_S, delete_callback=_cleanup)
        gr.Markdown("# Grounding Workbench\nExact Qwen-VL geometry, grounding, box editing and fine-tuning data.")
        gr.Markdown(f"⚠ {services.storage_problem}", visible=services.storage_problem is not None,
                    elem_id="storage-banner")
        with gr.Tabs():
            with gr.Tab("1 · Images", id="images"):
                images = images_tab.build(state, services)
            with gr.Tab("2 · Ground", id="ground"):
                ground = ground_tab.build(state, services)
            with gr.Tab("3 · Edit boxes", id="edit"):
                edit = edit_tab.build(state, ground.prompt)
            with gr.Tab("4 · Dataset & export", id="dataset") as dataset_page:
                dataset = dataset_tab.build(services)
        api.register(services)

        def _accept(ws: Workspace, image_id: str | None, dataset_name: str | None, prompt: str):
            if not image_id or image_id not in ws.images.ids:
                raise gr.Error("Pick an image first.")
            try:
                ws, note = save_accepted(services.store(), ws, image_id, dataset_name or "", prompt=prompt)
            except WorkbenchError as exc:
                raise gr.Error(str(exc)) from None
            gr.Info(note)
            return ws, edit_tab.status_text(ws, image_id, note), dataset_tab.dataset_summary(services, dataset_name)

        gr.on([demo.load, dataset_page.select], lambda name: dataset_tab.refresh(services, name), dataset.dataset,
              [dataset.dataset, dataset.summary], queue=False, api_visibility="private", show_progress="hidden")

        edit.accept.click(_accept, [state, edit.selected, dataset.dataset, ground.prompt],
                          [state, edit.status, dataset.summary], api_visibility="private")

        # keep the editor's image list in step with the images tab
        def _ids(ws: Workspace, current: str | None, chosen_on_images_tab: str | None):
            # an ID that disappeared was renamed or removed: follow the image chosen on the Images tab
            return images_tab.id_choices(ws, current if current in ws.images.ids else chosen_on_images_tab)

        images.table.change(_ids, [state, edit.selected, images.selected], edit.selected, queue=False,
                            api_visibility="private", show_progress="hidden")

        def _targets(ws: Workspace, current: str | None):
            choices = [ground_tab.ALL_IMAGES, *ws.images.ids]
            return gr.Dropdown(choices=choices, value=current if current in choices else ground_tab.ALL_IMAGES)

        images.table.change(_targets, [state, ground.for_image], ground.for_image, queue=False,
                            api_visibility="private", show_progress="hidden")
        # a new grounding result refreshes the editor
        gr.on([ground.version.change], lambda ws, i: edit_tab.editor_outputs(ws, i), [state, edit.selected],
              [edit.editor, edit.status], queue=False, api_visibility="private", show_progress="hidden")
    return demo

"""The Gradio Blocks app. Nothing is built at import time: call :func:`create_app`.

>>> import tempfile
>>> demo = create_app(Services.create(tempfile.mkdtemp()))
>>> type(demo).__name__
'Blocks'
"""

from __future__ import annotations

import gradio as gr

from ui import api, edit_tab, ground_tab, images_tab
from workbench.services import Services
from workbench.workspace import Workspace

__all__ = ["create_app"]

SESSION_TTL_S = 6 * 3600

def create_app(services: Services | None = None) -> gr.Blocks:
    """Build the workbench UI around ``services`` (data folder, model backends)."""
    services = services or Services.create()

    def _cleanup(ws: Workspace) -> None:
        if ws and ws.workdir:
            services.drop_session_dir(ws.workdir)

    with gr.Blocks(title="Grounding Workbench") as demo:
        state = gr.State(Workspace(), time_to_live=SESSION_TTL_S, delete_callback=_cleanup)
        gr.Markdown("# Grounding Workbench\nExact Qwen-VL geometry, grounding, box editing and fine-tuning data.")
        with gr.Tabs():
            with gr.Tab("1 · Images", id="images"):
                images = images_tab.build(state, services)
            with gr.Tab("2 · Ground", id="ground"):
                ground = ground_tab.build(state, services)
            with gr.Tab("3 · Edit boxes", id="edit"):
                edit = edit_tab.build(state, ground.prompt)
        api.register(services)

        # keep the editor's image list in step with the images tab
        def _ids(ws: Workspace, current: str | None):
            return images_tab.id_choices(ws, current)

        images.table.change(_ids, [state, edit.selected], edit.selected, queue=False, api_visibility="private",
                            show_progress="hidden")
        # a new grounding result refreshes the editor
        gr.on([ground.detections.change], lambda ws, i: edit_tab.editor_outputs(ws, i), [state, edit.selected],
              [edit.editor, edit.status], queue=False, api_visibility="private", show_progress="hidden")
    return demo

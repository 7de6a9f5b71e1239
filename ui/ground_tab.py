"""Ground tab: choose a backend, write a prompt from templates, run or paste, see boxes drawn."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from grounding.prompts import GroundingTask, grounding_instruction
from workbench.backend_settings import BACKEND_LABELS, BackendSettings
from workbench.errors import WorkbenchError
from workbench.results import DETECTION_COLUMNS, detection_rows, render_results
from workbench.services import Services
from workbench.session_run import stream_grounding
from workbench.workspace import Workspace

__all__ = ["ALL_IMAGES", "GroundTab", "build", "result_outputs"]

ALL_IMAGES = "all images (image keys / Picture N in the output)"

_PRIVATE = {"queue": False, "api_visibility": "private", "show_progress": "hidden"}


@dataclass
class GroundTab:
    backend: gr.Radio
    prompt: gr.Textbox
    output: gr.Textbox
    drawn: gr.Gallery
    detections: gr.Dataframe
    warnings: gr.Markdown
    run: gr.Button
    parse: gr.Button
    for_image: gr.Dropdown
    version: gr.Number
    """Counts parsed results: the editor refreshes on its change (even when the detections look the same)."""


def result_outputs(ws: Workspace):
    """Drawn images, detection rows and warnings for the workspace's last run."""
    drawn = render_results(ws, f"{ws.workdir}/drawn") if ws.workdir and len(ws.images) else []
    warnings = ws.run.warnings if ws.run else ()
    text = "\n".join(f"- ⚠ {w}" for w in warnings) if warnings else ("No warnings." if ws.run else "")
    return drawn, detection_rows(ws), text


def build(state: gr.State, services: Services) -> GroundTab:
    with gr.Row():
        with gr.Column(scale=2):
            backend = gr.Radio(list(BACKEND_LABELS.values()), value=BACKEND_LABELS["paste"], label="Backend",
                               elem_id="backend")
            with gr.Group(visible=False) as local_box:
                local_model = gr.Textbox(BackendSettings().model, label="Checkpoint (Hub ID or local folder)")
            with gr.Group(visible=False) as server_box:
                base_url = gr.Textbox(BackendSettings().base_url or "", label="Server base URL",
                                      placeholder="http://127.0.0.1:8000/v1")
                server_model = gr.Textbox(BackendSettings().model, label="Served model name")
                api_key = gr.Textbox("", label="API key (blank: WORKBENCH_API_KEY / OPENAI_API_KEY)", type="password")
                limits_style = gr.Dropdown(["vllm", "dashscope", "transformers", "none"], value="vllm",
                                           label="How to send pixel limits")
            with gr.Row():
                target = gr.Textbox(label="What to find", placeholder="cat, the red car, every person", scale=3,
                                    elem_id="target")
                task = gr.Dropdown([t.value for t in GroundingTask], value="boxes", label="Ask for", scale=1)
                template = gr.Button("Write prompt", size="sm", elem_id="write-prompt")
            prompt = gr.Textbox(label="Prompt (images are referred to by their IDs)", lines=4, elem_id="prompt")
            with gr.Row():
                vision_id = gr.Checkbox(True, label='add_vision_id ("Picture N:" before each image)')
                max_new_tokens = gr.Slider(16, 8192, value=1024, step=16, label="max new tokens")
            with gr.Row():
                run = gr.Button("Run grounding", variant="primary", elem_id="run")
                parse = gr.Button("Parse pasted output", elem_id="parse")
                for_image = gr.Dropdown([ALL_IMAGES], value=ALL_IMAGES, label="Pasted output is for",
                                        elem_id="output-for", scale=1)
        with gr.Column(scale=3):
            output = gr.Textbox(label="Model output (streams here; paste an output to parse it)", lines=10,
                                elem_id="model-output")
            warnings = gr.Markdown(elem_id="warnings")
    drawn = gr.Gallery(label="Boxes and points on your original images", columns=3, height=480,
                       object_fit="contain", elem_id="drawn")
    detections = gr.Dataframe(headers=DETECTION_COLUMNS, label="Detections (original pixels)", interactive=False,
                              wrap=True, elem_id="detections")
    version = gr.Number(0, visible=False)
    tab = GroundTab(backend, prompt, output, drawn, detections, warnings, run, parse, for_image, version)

    def _backend_boxes(label: str):
        kind = next(k for k, v in BACKEND_LABELS.items() if v == label)
        return gr.Group(visible=kind == "local"), gr.Group(visible=kind == "openai")

    backend.change(_backend_boxes, backend, [local_box, server_box], **_PRIVATE)

    def _template(ws: Workspace, what: str, kind: str, current: str):
        try:
            return grounding_instruction(what, ws.family, task=kind, image_ids=ws.images.ids if len(ws.images) > 1 else ())
        except ValueError as exc:
            gr.Warning(str(exc))
            return current

    gr.on([template.click, target.submit], _template, [state, target, task, prompt], prompt, **_PRIVATE)

    def _parse(ws: Workspace, text: str, count: float, target: str | None):
        try:
            number = ws.images.picture_number(target) if target and target in ws.images.ids else None
            ws = ws.with_output(text or "", target_image=number)
        except WorkbenchError as exc:
            raise gr.Error(str(exc)) from None
        return ws, *result_outputs(ws), (count or 0) + 1

    parse.click(_parse, [state, output, version, for_image], [state, drawn, detections, warnings, version],
                api_visibility="private")

    pending = gr.State(None)

    def _run(ws: Workspace, label: str, prompt_text: str, add_vision_id: bool, tokens: int, local: str,
             url: str, served: str, key: str, style: str):
        kind = next(k for k, v in BACKEND_LABELS.items() if v == label)
        if kind == "paste":
            gr.Info("Paste mode: paste a model output on the right, then press “Parse pasted output”.")
            yield gr.skip(), None
            return
        settings = BackendSettings(kind=kind, model=local if kind == "local" else served, base_url=url or None,
                                   api_key=key or None, limits_style=style)
        text = ""
        try:
            for event in stream_grounding(services, settings, ws, prompt_text, add_vision_id=add_vision_id,
                                          max_new_tokens=int(tokens)):
                if isinstance(event, str):
                    text += event
                    yield text, gr.skip()
                else:
                    yield event.output.text, event
        except WorkbenchError as exc:
            raise gr.Error(f"{exc} — the app keeps working: you can paste an output instead.") from None

    def _apply(ws: Workspace, finished, count: float):
        """Merge the answer into the session as it is now (edits made during the run are kept)."""
        if finished is None:
            return ws, gr.skip(), gr.skip(), gr.skip(), None, gr.skip()
        ws = finished.apply(ws)
        return ws, *result_outputs(ws), None, (count or 0) + 1

    run.click(_run, [state, backend, prompt, vision_id, max_new_tokens, local_model, base_url, server_model, api_key,
                     limits_style],
              [output, pending], api_visibility="private", concurrency_id="model", concurrency_limit=1).success(
        _apply, [state, pending, version], [state, drawn, detections, warnings, pending, version],
        api_visibility="private")
    return tab

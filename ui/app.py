"""The Gradio Blocks app: a view over the dataset store. Nothing is built at import time: call :func:`create_app`.

Screens: **Queue** (home: datasets, adding images, filters, thumbnails, labels), **Review** (one
item in the box editor, keyboard-first), **Several images** (the multi-image and high-resolution
tools on the current item), **Batch**, **Evaluate** (models, prompts and budgets measured on the
accepted items of a split), **Export**, and **Try it** (the light demo). The browser
keeps a cursor (dataset, item, filter) in its local storage; the store keeps everything else.

>>> import tempfile
>>> demo = create_app(Services.create(tempfile.mkdtemp()))
>>> type(demo).__name__
'Blocks'
"""

from __future__ import annotations

import contextlib
import json

import gradio as gr

from ui import batch_page, endpoints, evaluate_page, export_page, multi_page, queue_page, review_page, try_page
from ui.context import PRIVATE, AppContext
from ui.live import Live
from ui.notice import say
from ui.refresh import Pages
from ui.visitors import current_request, visitor_key
from workbench.environment import gradio_analytics, oauth_configured
from workbench.review import Cursor
from workbench.services import Services

__all__ = ["create_app"]

CURSOR_KEY = "grounding-workbench-cursor"

_HEAD = """
<style>
.wb-notice { padding: 8px 12px; border-radius: 6px; margin: 2px 0; border-left: 4px solid; }
.wb-notice ul { margin: 4px 0 0 18px; }
.wb-ok { border-color: #2e7d32; background: rgba(46, 125, 50, 0.10); }
.wb-info { border-color: #1565c0; background: rgba(21, 101, 192, 0.10); }
.wb-warning { border-color: #ef6c00; background: rgba(239, 108, 0, 0.12); }
.wb-error { border-color: #c62828; background: rgba(198, 40, 40, 0.12); }
#notice:empty { display: none; }
#title h3 { margin: 0 0 2px 0; }
#title p { margin: 0; font-size: 13px; opacity: 0.8; }
#queue-gallery .caption-label { white-space: normal; overflow: visible; text-overflow: clip; max-width: none;
  overflow-wrap: anywhere; }
</style>
"""


SCREENS = {"Queue": "queue", "Review": "review", "Several images": "multi", "Batch": "batch", "Evaluate": "evaluate",
           "Export": "export", "Try it": "try"}
"""The app's screens: tab label -> the id a cursor keeps."""

REMEMBER_SCREEN_JS = """(cursor) => {
  const screens = SCREENS;
  const tab = [...document.querySelectorAll('[role=tab]')]
    .find(e => e.getAttribute('aria-selected') === 'true' && screens[e.innerText.trim()]);
  return tab ? {...(cursor || {}), tab: screens[tab.innerText.trim()]} : cursor;
}""".replace("SCREENS", json.dumps(SCREENS))
"""Browser code that keeps the selected screen in the cursor, so a reload comes back to it. It runs in the
browser, at once and on that field only: a server round trip would write back the whole cursor as it was at
the click, undoing a filter typed meanwhile on a busy server."""


def create_app(services: Services | None = None) -> gr.Blocks:
    """Build the workbench UI around ``services`` (data folder, model backends)."""
    services = services or Services.create()
    # the page's own model runs are told apart by visitor (signed-in user, else browser session): ui.visitors
    services.visitor_lookup = lambda: visitor_key(current_request(), api=False,
                                                  proxy_hops=services.deployment.proxy_hops)
    # The browser fetches thumbnails, display copies, drawn results and export zips from the data folder,
    # which is neither the working directory nor the temp folder (~/.local/share/..., /data on a Space):
    # serve exactly that one folder of it, never the database or the image store beside it.
    for folder in services.static_paths():
        with contextlib.suppress(OSError):  # a data folder that cannot be written: the page says so (banner)
            folder.mkdir(parents=True, exist_ok=True)
    gr.set_static_paths(services.static_paths())
    with gr.Blocks(title="Grounding Workbench", analytics_enabled=gradio_analytics()) as demo:
        gr.HTML("", head=_HEAD, visible="hidden", container=False, padding=False)
        # one compact header (title, dataset, counts and the notice beside them), so the editor starts high on a
        # 900-pixel-high window and a short message does not push the page down
        with gr.Row(equal_height=False, elem_id="header"):
            with gr.Column(scale=1, min_width=220):
                gr.Markdown("### Grounding Workbench\nQwen-VL grounding with exact geometry: review boxes, build "
                            "fine-tuning datasets.", elem_id="title")
                if services.public and oauth_configured():  # a Space with `hf_oauth: true`
                    gr.LoginButton()
            with gr.Column(scale=1, min_width=220):
                dataset = gr.Dropdown([], value=None, label="Dataset", elem_id="dataset", interactive=False)
            with gr.Column(scale=3, min_width=320):
                counts = gr.Markdown(elem_id="counts")
                notice = gr.HTML("", elem_id="notice", container=False, padding=False)
        note = services.data_note()
        gr.HTML(say("warning", note) if note else "", elem_id="data-note", visible=bool(note), container=False,
                padding=False)
        services.store()  # opened now: a store that cannot be used is said in the banner below, not on first use
        if services.storage_problem:  # the same words under the id the safety tests look for
            gr.HTML(say("warning", services.storage_problem), elem_id="storage-banner", container=False, padding=False)
        cursor = gr.BrowserState(Cursor().to_json(), storage_key=CURSOR_KEY, secret=services.browser_secret())
        with gr.Tabs(selected="queue") as tabs:
            ctx = AppContext(services, notice, cursor, tabs, dataset, counts, demo)
            pages = Pages()
            with gr.Tab("Queue", id="queue") as queue_tab:
                queue = queue_page.build(ctx, pages)
            with gr.Tab("Review", id="review"):
                review = review_page.build(ctx, pages)
            with gr.Tab("Several images", id="multi") as multi_tab:
                multi_page.build(ctx, pages, multi_tab)
            with gr.Tab("Batch", id="batch"):
                pages.batch = batch_page.build(ctx, pages)
            with gr.Tab("Evaluate", id="evaluate") as evaluate_tab:
                evaluate = evaluate_page.build(ctx, pages)
            with gr.Tab("Export", id="export") as export_tab:
                export_page.build(ctx).wire(export_tab)
            with gr.Tab("Try it", id="try"):
                try_it = try_page.build(ctx, pages)
        pages.live = Live(ctx, pages)  # outside the tabs: its timer and memory are no part of a screen
        tabs.select(None, [cursor], [cursor], js=REMEMBER_SCREEN_JS, **PRIVATE)  # one listener for every screen
        queue.wire()
        evaluate_tab.select(evaluate.show, ctx.cursor, evaluate.outputs, **PRIVATE)
        demo.load(evaluate.show, ctx.cursor, evaluate.outputs, **PRIVATE)
        review.wire()
        try_it.wire()
        pages.shared.wire(ctx)
        pages.live.wire(queue_tab)
        endpoints.register(services)
    return demo

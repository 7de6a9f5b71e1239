"""Batch: pre-annotate many items of the dataset with a model, in the background.

The job runs in the server (closing the tab does not stop it); this page shows its progress
whenever it is open, from the store, and can cancel it. Items a person already worked on keep
their work: the model's boxes are kept beside it. Re-running skips what is already done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import gradio as gr

from ui.context import MODEL_RUN, PRIVATE, AppContext
from ui.notice import say, speaks
from ui.refresh import Pages
from ui.views import plain
from workbench.batch.jobs import JobRequest, describe
from workbench.convention import ReadingSettings, probe_convention
from workbench.errors import StoreError
from workbench.run_settings import DEFAULT_MAX_NEW_TOKENS

__all__ = ["BatchPage", "build"]

STATUS_CHOICES = ["new", "pre-annotated", "accepted", "rejected"]


@dataclass(frozen=True)
class BatchPage:
    progress: gr.Markdown
    jobs_text: Callable[[int | None], str]
    """The jobs of a dataset as the page shows them (the app's live refresh keeps ``progress`` current)."""


def build(ctx: AppContext, pages: Pages) -> BatchPage:
    gr.Markdown("Run a model over many items of the current dataset. The job goes on in the server when you close "
                "the page, and its progress shows here when you come back. Items someone already worked on keep "
                "their boxes (the model's are kept beside them); items done with the same settings are skipped.")
    with gr.Row():
        backend = gr.Radio([("OpenAI-compatible server (vLLM…)", "openai"), ("Local model (transformers)", "local")],
                           value="openai", label="Backend", elem_id="batch-backend")
        model = gr.Textbox(ctx.services.deployment.model, label="Model (served name or checkpoint)", elem_id="batch-model")
        base_url = gr.Textbox(ctx.services.deployment.shown_base_url, label="Server base URL (replicas: comma-separated)",
                              elem_id="batch-base-url")
        probe = gr.Button("Probe its coordinates (saved for the dataset)", size="sm", elem_id="batch-probe")
    with gr.Row():
        labels = gr.Textbox(label="Labels to find (comma-separated: the family's own request)", elem_id="batch-labels")
        prompt = gr.Textbox(label="…or your own prompt (used when filled)", elem_id="batch-prompt")
    with gr.Row():
        statuses = gr.CheckboxGroup(STATUS_CHOICES, value=["new"], label="Items to run on", elem_id="batch-statuses")
        use_filter = gr.Checkbox(False, label="only those the queue's filter shows", elem_id="batch-filter")
        concurrency = gr.Slider(1, 32, value=4, step=1, label="requests at once", elem_id="batch-concurrency")
        max_new_tokens = gr.Slider(16, 8192, value=DEFAULT_MAX_NEW_TOKENS, step=16, label="max new tokens", elem_id="batch-tokens")
        check = gr.Checkbox(True, label="check the server's resizing first", elem_id="batch-check")
    with gr.Row():
        start = gr.Button("Start", variant="primary", elem_id="batch-start")
        cancel = gr.Button("Cancel the running job", variant="stop", elem_id="batch-cancel")
    progress = gr.Markdown("No job yet for this dataset.", elem_id="batch-progress")
    shared = pages.shared
    shared.add_model(backend, model, base_url, ctx.services.deployment)
    shared.add("find", labels, "")
    shared.add("prompt", prompt, "")

    def _jobs_text(dataset: int | None) -> str:
        if dataset is None:
            return "Choose a dataset first."
        jobs = ctx.services.store().jobs(dataset)
        if not jobs:
            return "No job yet for this dataset."
        return "\n\n".join(plain(describe(job)) for job in jobs)

    @speaks(ctx.notice)
    def _start(data: Any, kind: str, name: str, url: str, wanted: str, text: str, chosen: list[str],
               filtered: bool, at_once: float, tokens: float, probe: bool, request: gr.Request | None = None):
        cursor = ctx.cursor_of(data, request)
        if cursor.dataset is None:
            raise StoreError("choose a dataset first")
        ctx.services.store().dataset(cursor.dataset, owner=ctx.owner(cursor, request))  # only one's own
        own = (text or "").strip()  # the prompt when filled, else the family's own request for the labels
        job = JobRequest(backend=kind, model=(name or "").strip(), base_url=(url or "").strip(), prompt=own,
                         labels=() if own else tuple(label.strip() for label in (wanted or "").split(",")
                                                     if label.strip()),
                         statuses=tuple(chosen or ()), max_new_tokens=int(tokens), concurrency=int(at_once),
                         geometry_check=bool(probe),
                         filter={k: v for k, v in asdict(cursor.filter).items() if v} if filtered else {})
        job_id = ctx.services.jobs().start(cursor.dataset, job)
        return {progress: _jobs_text(cursor.dataset),
                ctx.notice: say("ok", f"Job {job_id} started: it runs in the background; its progress shows below.")}

    @speaks(ctx.notice)
    def _cancel(data: Any, request: gr.Request | None = None):
        cursor = ctx.cursor_of(data, request)
        if cursor.dataset is None:
            raise StoreError("choose a dataset first")
        store = ctx.services.store()
        store.dataset(cursor.dataset, owner=ctx.owner(cursor, request))
        running = [job for job in store.jobs(cursor.dataset) if job.active]
        if not running:
            return {ctx.notice: say("info", "No job of this dataset is running.")}
        for job in running:
            ctx.services.jobs().cancel(job.id)
        return {progress: _jobs_text(cursor.dataset),
                ctx.notice: say("ok", "Asked the job to stop: the items in flight finish, the rest wait for a "
                                      "new start (they are skipped if already done).")}

    @speaks(ctx.notice)
    def _probe(data: Any, kind: str, name: str, url: str, request: gr.Request | None = None):
        cursor = ctx.cursor_of(data, request)
        if cursor.dataset is None:
            raise StoreError("choose a dataset first")
        store = ctx.services.store()
        store.dataset(cursor.dataset, owner=ctx.owner(cursor, request))  # only one's own
        options = {"model": name.strip()} if (name or "").strip() else {}
        if kind == "openai" and (url or "").strip():
            options["base_url"] = url.split(",")[0].strip()  # replicas serve the same model: the first tells
        engine = ctx.services.backend(kind, **options)
        report = probe_convention(engine)
        found = ReadingSettings.of(report)
        if found is None:
            return {ctx.notice: say("warning", f"{engine.model}: {report.message()}. The dataset's settings are "
                                               "unchanged.")}
        store.update_dataset_settings(cursor.dataset, {"family": engine.family().name, **found.as_dict()})
        return {ctx.notice: say("ok", f"{engine.model}: {report.message()}. Saved as this dataset's reading settings "
                                      "(Review shows them under “Coordinates”; the next jobs read answers so).")}

    inputs = [ctx.cursor, backend, model, base_url, labels, prompt, statuses, use_filter, concurrency, max_new_tokens,
              check]
    probe.click(_probe, [ctx.cursor, backend, model, base_url], [ctx.notice], **MODEL_RUN)
    start.click(_start, inputs, [progress, ctx.notice], **PRIVATE)
    cancel.click(_cancel, ctx.cursor, [progress, ctx.notice], **PRIVATE)
    return BatchPage(progress, _jobs_text)

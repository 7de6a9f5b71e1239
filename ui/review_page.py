"""Review: one item in the box editor, keyboard-first, with what the model sees and what it proposed.

Every button is one user action: one transaction, one history entry, checked against the item
version this page shows (a change made meanwhile in another window is refused, said, and shown).
Keys (also written on the buttons): ← → previous/next, A accept and open the next unreviewed,
X reject, Ctrl+Z / Ctrl+Y undo/redo; in the editor Del, L, 1–9, Tab, Esc, P.
"""

from __future__ import annotations

import base64
import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import gradio as gr

from grounding import DEFAULT_FAMILY, FAMILIES, CoordinateConvention
from grounding.parse import EMPTY_ANSWER_NOTE, coordinate_keys
from grounding.prompts import GroundingTask, grounding_instruction
from ui.box_editor import box_editor, drafts_from_value
from ui.context import MODEL_RUN, PRIVATE, AppContext
from ui.notice import say, speaks
from ui.refresh import ALL_PICTURES, Pages, review_part
from ui.views import counts_text, review_settings, status_text
from workbench.carry import previous_annotations
from workbench.config import BACKEND_LABELS
from workbench.convention import ReadingSettings, probe_convention
from workbench.errors import USER_ERRORS, StoreError, WorkbenchError
from workbench.review import Cursor, item_view
from workbench.run_settings import DEFAULT_MAX_NEW_TOKENS, Reading
from workbench.runs.agreement import AGREEMENT_MODES
from workbench.runs.items import paste_on_item, run_on_item
from workbench.store import StaleItemError
from workbench.zoom import ZoomCrops

__all__ = ["ReviewPage", "build"]

FAMILY_CHOICES = [f.name for f in FAMILIES]
CONVENTION_CHOICES = [("the family's", ""), *[(c.value, c.value) for c in CoordinateConvention]]
_EDITOR_CALL_ERRORS: tuple[type[Exception], ...] = (*USER_ERRORS, ValueError, KeyError, TypeError, IndexError,
                                                    OSError)
"""What a bad request of the editor's own calls (zoom, previous boxes) raises: answered in words, not raised."""


def _backend_kind(label: str) -> str:
    """The backend kind (``paste``, ``local``, ``openai``) of a label of the Backend radio."""
    return next((k for k, v in BACKEND_LABELS.items() if v == label), "paste")


@dataclass
class ReviewPage:
    status: gr.Markdown
    editor: gr.HTML
    picture: gr.Radio
    geometry: gr.Markdown
    proposals: gr.Markdown
    proposal_buttons: gr.Row
    for_picture: gr.Dropdown
    wire: Callable[[], None] = field(init=False, repr=False)
    """Registers the page's events; set by :func:`build`, called by ``create_app`` once every page exists."""


def build(ctx: AppContext, pages: Pages) -> ReviewPage:
    zoom = ZoomCrops()

    def picture_of(data: Any) -> tuple[Any, Any, int]:
        """The item and picture the editor names (``key`` "item:picture"), when ``sha`` is that picture's: only
        a page that was shown the picture knows its hash, as it knows its display copy's address."""
        item_id, picture = (int(part) for part in str(data.get("key") or "").split(":"))
        item = ctx.services.store().item(item_id)
        image = item.image(picture)
        if not data.get("sha") or data.get("sha") != image.sha256:
            raise StoreError("this picture changed since the page showed it: open the item again")
        return item, image, picture

    def crop(data: dict) -> dict:
        """The visible region of the editor's picture at the screen's resolution (:mod:`workbench.zoom`)."""
        try:
            _, image, _ = picture_of(data)
            if data.get("warm"):  # the view starts zooming in: decode now, the crops that follow are cut from it
                zoom.warm(image.file, image.wh)
                return {"warm": True}
            x0, y0, x1, y1 = (float(v) for v in data["box"][:4])
            out_w, out_h = (int(v) for v in data["out"][:2])
            found = zoom.crop(image.file, image.wh, (x0, y0, x1, y1), (out_w, out_h))
        except _EDITOR_CALL_ERRORS as exc:
            return {"error": f"no zoomed pixels: {exc}"}
        url = "data:image/jpeg;base64," + base64.b64encode(found.jpeg).decode("ascii")
        return {"url": url, "box": list(found.box), "size": list(found.size)}

    def previous_boxes(data: dict) -> dict:
        """The boxes of the item before this one in the dataset, in this picture's display pixels."""
        try:
            item, image, picture = picture_of(data)
            previous, found = previous_annotations(ctx.services.store(), item, picture)
            scale = ctx.services.served(item.dataset_id).display(image.file, image.sha256, image.wh).scale
        except _EDITOR_CALL_ERRORS as exc:
            return {"error": f"cannot copy the previous item's boxes: {exc}"}
        if previous is None:
            return {"error": "this is the dataset's first item: there is no previous item to copy from"}
        return {"item": previous.id, "key": f"{previous.id}:{min(picture, len(previous.images))}",
                "shapes": [{"kind": a.kind, "c": [round(v, 3) for v in scale.to_display(a.coords)],
                            "label": a.label} for a in found]}

    # the editor first, at the top of the screen (a portrait photo fits a 900-pixel-high window); the item's
    # status, the actions and what the model sees beside it
    with gr.Row(elem_id="review-top", equal_height=False):
        with gr.Column(scale=5, min_width=480):
            editor = box_editor("editor", server_functions=[crop, previous_boxes])
        with gr.Column(scale=2, min_width=300, elem_id="review-side"):
            status = gr.Markdown("Open an item from the queue.", elem_id="item-status")
            with gr.Row(elem_id="review-actions"):
                prev = gr.Button("◀ Previous (←)", size="sm", elem_id="wb-prev", min_width=60)
                nxt = gr.Button("Next (→) ▶", size="sm", elem_id="wb-next", min_width=60)
                accept = gr.Button("✓ Accept → next (A)", size="sm", variant="primary", elem_id="wb-accept",
                                   min_width=60)
                reject = gr.Button("✗ Reject (X)", size="sm", variant="stop", elem_id="wb-reject", min_width=60)
            with gr.Row(elem_id="review-history"):
                reopen = gr.Button("Reopen", size="sm", elem_id="wb-reopen", min_width=60)
                undo = gr.Button("↶ Undo (Ctrl+Z)", size="sm", elem_id="wb-undo", min_width=60)
                redo = gr.Button("↷ Redo (Ctrl+Y)", size="sm", elem_id="wb-redo", min_width=60)
            picture = gr.Radio([], label="Picture", visible=False, elem_id="picture")
            proposals = gr.Markdown(elem_id="proposals")
            with gr.Row(visible=False) as proposal_buttons:
                take = gr.Button("Take the model's boxes instead", size="sm", elem_id="take-proposals")
                add = gr.Button("Add the ones missing", size="sm", elem_id="add-proposals")
            geometry = gr.Markdown(elem_id="item-geometry")
            with gr.Accordion("Picture IDs and order", open=False):
                new_id = gr.Textbox(label="New ID for this picture", elem_id="picture-id")
                with gr.Row():
                    rename = gr.Button("Rename", size="sm", elem_id="picture-rename")
                    earlier = gr.Button("Earlier", size="sm", elem_id="picture-earlier")
                    later = gr.Button("Later", size="sm", elem_id="picture-later")
                with gr.Row():
                    group = gr.Button("Group with the next item", size="sm", elem_id="item-group")
                    split = gr.Button("Split into single images", size="sm", elem_id="item-split")
    with gr.Accordion("Ground this item with a model, or paste a model's output", open=True, elem_id="ground-panel"):
        with gr.Row():
            family = gr.Dropdown(FAMILY_CHOICES, value=DEFAULT_FAMILY.name, label="Model family (this dataset)",
                                 elem_id="review-family")
            min_pixels = gr.Number(None, precision=0, label="min_pixels (blank: the family's)", elem_id="review-min")
            max_pixels = gr.Number(None, precision=0, label="max_pixels (blank: the family's)", elem_id="review-max")
            keys = gr.Textbox("", label="Extra coordinate keys", placeholder="position, loc",
                              info="JSON keys your prompt asks coordinates under, read besides bbox_2d/point_2d",
                              elem_id="review-keys")
            convention = gr.Dropdown(CONVENTION_CHOICES, value="", label="Coordinates", elem_id="review-convention",
                                     info="How answers are read: the family's, or what a probe found")
            save_settings = gr.Button("Use these for the dataset", size="sm", elem_id="review-settings")
        with gr.Row():
            backend = gr.Radio(list(BACKEND_LABELS.values()), value=BACKEND_LABELS["paste"], label="Backend",
                               elem_id="backend")
        with gr.Row():
            target = gr.Textbox(label="What to find", placeholder="cat, the red car", elem_id="target", scale=3)
            task = gr.Dropdown([t.value for t in GroundingTask], value="boxes", label="Ask for", scale=1)
            allow_none = gr.Checkbox(True, label="It may be absent (the family's wording for \"none\")",
                                     elem_id="allow-none", scale=1)
            write = gr.Button("Write prompt", size="sm", elem_id="write-prompt", scale=1)
        prompt = gr.Textbox(label="Prompt", lines=2, elem_id="prompt")
        with gr.Group(visible=False) as model_box:
            with gr.Row():
                model = gr.Textbox(ctx.services.deployment.model, label="Checkpoint or served model", elem_id="model")
                base_url = gr.Textbox(ctx.services.deployment.shown_base_url, label="Server base URL (OpenAI-compatible)",
                                      placeholder="http://127.0.0.1:8000/v1", elem_id="base-url")
                api_key = gr.Textbox("", label="API key (blank: the server's configured key)", type="password")
                probe = gr.Button("Probe its coordinates", size="sm", elem_id="probe-convention")
            with gr.Row():
                max_new_tokens = gr.Slider(16, 8192, value=DEFAULT_MAX_NEW_TOKENS, step=16, label="max new tokens")
                agreement = gr.Dropdown([("off", ""), *((words, key) for key, words in AGREEMENT_MODES.items())],
                                        value="", label="Agreement check (a second call)", elem_id="agreement")
                run = gr.Button("Run on this item", variant="primary", elem_id="run-item")
        with gr.Group(visible=True) as paste_box:
            pasted = gr.Textbox(label="Model output to parse for this item", lines=4, elem_id="pasted")
            with gr.Row():
                for_picture = gr.Dropdown([(ALL_PICTURES, 0)], value=0, label="The output is for",
                                          elem_id="paste-for")
                parse = gr.Button("Parse into this item", variant="primary", elem_id="parse-item")
        output = gr.Textbox(label="Model output", lines=3, interactive=False, elem_id="model-output", visible=False)
    shared = pages.shared
    shared.add("backend", backend, BACKEND_LABELS["paste"], show=BACKEND_LABELS.get, read=_backend_kind)
    shared.add("model", model, ctx.services.deployment.model)
    shared.add("base_url", base_url, ctx.services.deployment.shown_base_url)
    shared.add("find", target, "")
    shared.add("prompt", prompt, "")
    shared.add("family", family, DEFAULT_FAMILY.name)
    shared.add("min_pixels", min_pixels)
    shared.add("max_pixels", max_pixels)
    shared.add("coordinate_keys", keys, "")
    shared.add("convention", convention, "")

    page = ReviewPage(status, editor, picture, geometry, proposals, proposal_buttons, for_picture)
    pages.review = page

    def review_outs() -> list[Any]:
        return [ctx.notice, ctx.cursor, *pages.review_outputs()]

    def show(cursor: Cursor, message: str = "", *, label: str | None = None) -> dict:
        cursor, review = review_part(ctx, pages, cursor, label=label)
        return {**review, ctx.cursor: cursor.to_json(), ctx.notice: message}

    def stale(exc: StaleItemError, cursor: Cursor) -> dict:
        return show(cursor.at(exc.item), say("warning", str(exc)))

    def refreshed(cursor: Cursor, message: str) -> dict:
        """The review screen plus the dataset counts (after a status change). Not the queue: redrawing a page of
        thumbnails on every key would delay the next item; the queue shows the store when it is looked at
        (:mod:`ui.live`)."""
        cursor, review = review_part(ctx, pages, cursor)
        store = ctx.services.store()
        record = store.dataset(cursor.dataset) if cursor.dataset is not None else None
        return {**review, ctx.counts: counts_text(record), ctx.cursor: cursor.to_json(), ctx.notice: message}

    def item_of(cursor: Cursor) -> int:
        if cursor.item is None:
            raise StoreError("open an item from the queue first")
        return cursor.item

    def _edited(data: Any, value: dict | None, request: gr.Request | None = None):
        """Store a committed gesture; the answer always acknowledges the commit it carried (``ack``), so the
        editor knows the edits before an item action are stored."""
        answer = _store_edit(data, value, request)
        if editor not in answer:
            answer[editor] = gr.HTML(ack=int((value or {}).get("commit") or 0))
        return answer

    @speaks(ctx.notice)
    def _store_edit(data: Any, value: dict | None, request: gr.Request | None = None) -> dict:
        cursor = ctx.cursor_of(data, request)
        if not value or cursor.item is None or value.get("key") != f"{cursor.item}:{cursor.picture}":
            return {ctx.notice: gr.skip()}  # a late event from the picture shown before
        store = ctx.services.store()
        item = store.item(cursor.item)
        image = item.image(cursor.picture)
        copy = ctx.services.served(item.dataset_id).display(image.file, image.sha256, image.wh)
        drafts = drafts_from_value(value, copy.scale, {a.id: a for a in image.annotations})
        try:
            updated = store.set_annotations(item.id, cursor.picture, drafts, kinds=("box", "point"),
                                            expected_version=cursor.version)
        except StaleItemError as exc:
            return stale(exc, cursor)
        cursor = cursor.at(updated, cursor.picture)
        view = item_view(store, cursor, review_settings(store, cursor.dataset))
        return {status: status_text(view), ctx.cursor: cursor.to_json(), ctx.notice: ""}

    answered = itertools.count(1)

    def action(fn: Any) -> Any:
        """An item action (a button the editor's keys press): its answer always tells the editor it is done
        (a new item shown, or ``done`` changed), so the next queued key runs on the page as it is now."""
        spoken = speaks(ctx.notice)(fn)

        @functools.wraps(fn)
        def handler(*args: Any, **kwargs: Any) -> dict:
            answer = spoken(*args, **kwargs)
            if editor not in answer:
                answer[editor] = gr.HTML(done=next(answered))
            return answer

        return handler

    @action
    def _move(data: Any, step: int, request: gr.Request | None = None):
        cursor = ctx.cursor_of(data, request)
        store = ctx.services.store()
        if cursor.dataset is None:
            raise StoreError("create a dataset and add images first")
        target = store.neighbour(cursor.dataset, cursor.item, step=step, filter=cursor.filter)
        if target is None:
            return {ctx.notice: say("info", "This is the last item of the queue." if step > 0 else
                                    "This is the first item of the queue.")}
        return show(cursor.at(store.item(target)))

    @action
    def _status(data: Any, new_status: str, request: gr.Request | None = None):
        cursor = ctx.cursor_of(data, request)
        store = ctx.services.store()
        item_id = item_of(cursor)
        try:
            item = store.set_status(item_id, new_status, expected_version=cursor.version)
        except StaleItemError as exc:
            return stale(exc, cursor)
        message = say("ok", f"Item {item.id} {new_status}.")
        if new_status in ("accepted", "rejected"):
            target = store.neighbour(item.dataset_id, item.id, filter=replace(cursor.filter, status=None)
                                     if cursor.filter.status in ("accepted", "rejected") else cursor.filter,
                                     unreviewed=True)
            if target is None:
                message = say("ok", f"Item {item.id} {new_status}. Every item is reviewed: nothing new or "
                                    "pre-annotated is left.")
                return refreshed(cursor.at(item), message)
            return refreshed(cursor.at(store.item(target)), message)
        return refreshed(cursor.at(item), message)

    @action
    def _history(data: Any, direction: str, request: gr.Request | None = None):
        cursor = ctx.cursor_of(data, request)
        store = ctx.services.store()
        item_id = item_of(cursor)
        try:
            item = (store.undo if direction == "undo" else store.redo)(item_id, expected_version=cursor.version)
        except StaleItemError as exc:
            return stale(exc, cursor)
        state = "as it was before that action" if direction == "undo" else "as that action left it"
        return refreshed(cursor.at(item), say("info", f"{direction.capitalize()}: item {item.id} is {state} "
                                                      f"({item.status}; saved as version {item.version})."))

    @speaks(ctx.notice)
    def _picture(data: Any, number: Any, request: gr.Request | None = None):
        cursor = ctx.cursor_of(data, request)
        if number is None or cursor.item is None or int(number) == cursor.picture:
            return {ctx.notice: gr.skip()}
        return show(replace(cursor, picture=int(number)))

    @speaks(ctx.notice)
    def _proposals(data: Any, mode: str, request: gr.Request | None = None):
        cursor = ctx.cursor_of(data, request)
        store = ctx.services.store()
        item_id = item_of(cursor)
        run, _ = store.proposals(item_id, cursor.run)  # the run shown (an evaluation's, when opened from it)
        if run is None:
            raise StoreError("no model has proposed anything for this item")
        try:
            item = store.apply_proposals(item_id, run.id, mode=mode, expected_version=cursor.version)
        except StaleItemError as exc:
            return stale(exc, cursor)
        return show(cursor.at(item), say("ok", "The model's boxes are now the item's." if mode == "replace"
                                         else "Added the model's boxes the item lacked."))

    @speaks(ctx.notice)
    def _structure(data: Any, action: str, new: str = "", request: gr.Request | None = None):
        cursor = ctx.cursor_of(data, request)
        store = ctx.services.store()
        item_id = item_of(cursor)
        try:
            if action == "rename":
                item = store.rename_image(item_id, cursor.picture, new, expected_version=cursor.version)
                return {**show(cursor.at(item), say("ok", f"Picture {cursor.picture} is now called "
                                                          f"'{item.image(cursor.picture).image_id}'.")), new_id: ""}
            if action in ("earlier", "later"):
                count = len(store.item(item_id).images)
                to = cursor.picture + (-1 if action == "earlier" else 1)
                if not 1 <= to <= count:
                    return {ctx.notice: say("info", "The picture is already at that end.")}
                order = list(range(1, count + 1))
                order[cursor.picture - 1], order[to - 1] = order[to - 1], order[cursor.picture - 1]
                item = store.reorder_images(item_id, order, expected_version=cursor.version)
                return show(cursor.at(item, to), say("ok", f"The picture is now picture {to}."))
        except StaleItemError as exc:
            return stale(exc, cursor)
        if action == "group":
            other = store.neighbour(store.item(item_id).dataset_id, item_id,
                                    filter=cursor.filter)
            if other is None:
                raise StoreError("there is no next item to group with")
            item = store.group_items([item_id, other])
            return refreshed(cursor.at(item), say("ok", f"Item {item.id} now holds {len(item.images)} pictures "
                                                        "(one training sample)."))
        parts = store.split_item(item_id)
        return refreshed(cursor.at(parts[0], 1), say("ok", f"Split into {len(parts)} items."))

    @speaks(ctx.notice)
    def _save_settings(data: Any, fam: str, low: Any, high: Any, extra: str, reading: str = "",
                       request: gr.Request | None = None):
        cursor = ctx.cursor_of(data, request)
        if cursor.dataset is None:
            raise StoreError("choose a dataset first")
        settings = Reading(fam, int(low) if low else None, int(high) if high else None,
                                  coordinate_keys(extra or ""), reading or None)
        _ = settings.limits  # raises on min above max, in words
        ctx.services.store().update_dataset_settings(cursor.dataset, {
            "family": settings.family, "min_pixels": settings.min_pixels, "max_pixels": settings.max_pixels,
            "coordinate_keys": list(settings.coordinate_keys) or None, "convention": settings.convention})
        reads = (f" Answers are also read under {', '.join(settings.coordinate_keys)}."
                 if settings.coordinate_keys else "")
        reads += f" Coordinates are read as {settings.convention}." if settings.convention else ""
        return show(cursor, say("ok", f"This dataset's model is {settings.family} with min_pixels "
                                      f"{settings.limits.min_pixels} and max_pixels {settings.limits.max_pixels}."
                                      + reads))

    def unsaved_note(settings: Any, fields: tuple) -> tuple[str, ...]:
        """A warning when the settings fields are not what the dataset uses (they apply once saved)."""
        differences = settings.unsaved(*fields)
        if not differences:
            return ()
        return (f"Read with the dataset's settings, not the fields above ({'; '.join(differences)}): press "
                "“Use these for the dataset” to use the fields, then parse or run again.",)

    @speaks(ctx.notice)
    def _parse(data: Any, text: str, picture_for: Any, what: str, fam: str, lo: float | None, hi: float | None,
               extra_keys: str, reading: str = "", request: gr.Request | None = None):
        cursor = ctx.cursor_of(data, request)
        store = ctx.services.store()
        settings = review_settings(store, cursor.dataset)
        try:
            outcome = paste_on_item(store, item_of(cursor), text or "", settings,
                                    target_image=int(picture_for) or None if picture_for else None,
                                    expected_version=cursor.version, fallback_label=what or "")
        except StaleItemError as exc:
            return stale(exc, cursor)
        note = unsaved_note(settings, (fam, lo, hi, extra_keys, reading or None))
        return {**refreshed(cursor.at(outcome.item), run_message(replace(outcome, warnings=(*note, *outcome.warnings)))),
                pasted: ""}

    def run_message(outcome) -> str:
        if outcome.empty:  # an answer, not a failure
            notes = [w for w in outcome.warnings if w != EMPTY_ANSWER_NOTE]
            return say("warning" if notes else "ok", "The model answered that there is none (an explicit empty "
                       "answer): the item has no model boxes.", notes)
        where = ("They are the item's boxes now." if outcome.applied else
                 "The item has work by hand, so they are shown beside it (dashed).")
        kind = "warning" if outcome.warnings else "ok"
        thinking = f" {outcome.thinking}" if outcome.thinking else ""
        return say(kind, f"Read {outcome.detections} box(es)/point(s). {where}{thinking}", list(outcome.warnings),
                   folded=outcome.reasoning)

    def _backend(label: str):
        kind = _backend_kind(label)
        return (gr.Group(visible=kind != "paste"), gr.Group(visible=kind == "paste"), gr.Textbox(visible=kind != "paste"))

    @speaks(ctx.notice)
    def _write_prompt(data: Any, what: str, kind: str, none: bool, request: gr.Request | None = None):
        cursor = ctx.cursor_of(data, request)
        store = ctx.services.store()
        settings = review_settings(store, cursor.dataset)
        ids = [image.image_id for image in store.item(cursor.item).images] if cursor.item else []
        text = grounding_instruction(what or "", settings.family, task=kind, image_ids=ids if len(ids) > 1 else (),
                                     allow_none=bool(none))
        return {prompt: text, ctx.notice: ""}

    @speaks(ctx.notice)
    def _run(data: Any, label: str, text: str, checkpoint: str, url: str, key: str, tokens: float, second: str,
             what: str, fam: str, lo: float | None, hi: float | None, extra_keys: str, reading: str = "",
             request: gr.Request | None = None):
        cursor = ctx.cursor_of(data, request)
        kind = next(k for k, v in BACKEND_LABELS.items() if v == label)
        store = ctx.services.store()
        if kind == "paste":
            raise WorkbenchError("paste mode runs no model: paste an output and press “Parse into this item”")
        item_id = item_of(cursor)
        if not (text or "").strip():
            raise WorkbenchError("write a prompt first (the “Write prompt” button writes the family's own)")
        settings = review_settings(store, cursor.dataset)
        engine = ctx.engine(kind, checkpoint, url, key)
        same_family = engine.family().name == settings.family
        note = () if same_family else (f"{engine.model} is a {engine.family().name} model, not {settings.family}: "
                                       "its own pixel limits were used",)
        note = (*unsaved_note(settings, (fam, lo, hi, extra_keys, reading or None)), *note)
        try:
            outcome = run_on_item(store, engine, item_id, text, limits=settings.limits if same_family else None,
                                  max_new_tokens=int(tokens), expected_version=cursor.version,
                                  fallback_label=what or "", coordinate_keys=settings.coordinate_keys,
                                  agreement=second or None,
                                  convention=settings.convention if same_family else None)
        except StaleItemError as exc:
            return stale(exc, cursor)
        message = run_message(replace(outcome, warnings=(*note, *outcome.warnings)))
        return {**refreshed(cursor.at(outcome.item), message), output: gr.Textbox(value=outcome.text, visible=True)}

    @speaks(ctx.notice)
    def _probe(data: Any, label: str, checkpoint: str, url: str, key: str, request: gr.Request | None = None):
        kind = _backend_kind(label)
        if kind == "paste":
            raise WorkbenchError("choose a model or a server first: the probe asks it about synthetic images")
        engine = ctx.engine(kind, checkpoint, url, key)
        report = probe_convention(engine)
        found = ReadingSettings.of(report)
        if found is None:
            return {ctx.notice: say("warning", f"{engine.model}: {report.message()}")}
        return {family: engine.family().name, convention: found.convention, min_pixels: found.min_pixels,
                max_pixels: found.max_pixels,
                ctx.notice: say("ok", f"{engine.model}: {report.message()}. The fields above now say so: press “Use "
                                      "these for the dataset” to read this dataset's answers that way.")}

    def wire() -> None:
        outs = review_outs()
        # always_last: a gesture made while the previous one is being stored is sent right after it, with the
        # editor's shapes and the cursor as they are then (the default, "once", dropped it)
        editor.input(_edited, [ctx.cursor, editor], outs, trigger_mode="always_last", **PRIVATE)
        prev.click(_move, [ctx.cursor, gr.State(-1)], outs, **PRIVATE)
        nxt.click(_move, [ctx.cursor, gr.State(+1)], outs, **PRIVATE)
        full = [*outs, ctx.counts]
        accept.click(_status, [ctx.cursor, gr.State("accepted")], full, **PRIVATE)
        reject.click(_status, [ctx.cursor, gr.State("rejected")], full, **PRIVATE)
        reopen.click(_status, [ctx.cursor, gr.State("pre-annotated")], full, **PRIVATE)
        undo.click(_history, [ctx.cursor, gr.State("undo")], full, **PRIVATE)
        redo.click(_history, [ctx.cursor, gr.State("redo")], full, **PRIVATE)
        picture.input(_picture, [ctx.cursor, picture], outs, **PRIVATE)
        take.click(_proposals, [ctx.cursor, gr.State("replace")], outs, **PRIVATE)
        add.click(_proposals, [ctx.cursor, gr.State("add")], outs, **PRIVATE)
        gr.on([rename.click, new_id.submit], _structure, [ctx.cursor, gr.State("rename"), new_id], [*outs, new_id],
              **PRIVATE)
        earlier.click(_structure, [ctx.cursor, gr.State("earlier")], outs, **PRIVATE)
        later.click(_structure, [ctx.cursor, gr.State("later")], outs, **PRIVATE)
        group.click(_structure, [ctx.cursor, gr.State("group")], full, **PRIVATE)
        split.click(_structure, [ctx.cursor, gr.State("split")], full, **PRIVATE)
        save_settings.click(_save_settings, [ctx.cursor, family, min_pixels, max_pixels, keys, convention], outs,
                            **PRIVATE)
        probe.click(_probe, [ctx.cursor, backend, model, base_url, api_key],
                    [family, convention, min_pixels, max_pixels, ctx.notice], **MODEL_RUN)
        backend.change(_backend, backend, [model_box, paste_box, output], **PRIVATE)
        gr.on([write.click, target.submit], _write_prompt, [ctx.cursor, target, task, allow_none], [prompt, ctx.notice],
              **PRIVATE)
        fields = [family, min_pixels, max_pixels, keys, convention]
        parse.click(_parse, [ctx.cursor, pasted, for_picture, target, *fields], [*full, pasted], **PRIVATE)
        run.click(_run, [ctx.cursor, backend, prompt, model, base_url, api_key, max_new_tokens, agreement, target,
                         *fields],
                  [*full, output], **MODEL_RUN)

    page.wire = wire
    return page


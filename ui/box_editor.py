"""The box editor: a Gradio ``gr.HTML`` component (SVG over the image) and its payload adapter.

A commit from the page triggers the component's ``input`` event (``change`` also fires when the server
sends a new value, which must not be taken for an edit).

Why our own and not gradio_image_annotation: review is keyboard-first (delete the selected box,
cycle its label, next/accept without the mouse), which needs to know the selected box; every
finished gesture must be ONE change event (that component sends one when a box starts, one when it
ends and one when it is labelled, so one drawn box made three undo steps); a press inside a box
must select it, not start a new one; it rotates the picture without rotating the boxes; a portrait
photo must fit the screen; zoom must show the original's pixels, not the display copy enlarged; and
item actions must wait for the edits before them (no overlapping events on a stale version). The
component is ~500 lines of JS (``box_editor.js``); the image fits the window below the editor's top.

The value travels as plain JSON. Coordinates in it are display-copy pixels; this module maps them
to original pixels with :class:`grounding.display.DisplayScale` (and nothing else does):

>>> from workbench.store import Annotation
>>> scale = DisplayScale((4000, 3000), (1600, 1200))
>>> box = Annotation("box", (400, 300, 800, 600), "cat", "model", id=7, item_image_id=1)
>>> value = editor_value("img.jpg", scale, [box], [("cat", "#ff0000")], key="1:1")
>>> value["shapes"][0]["c"], value["shapes"][0]["from"]
([160.0, 120.0, 320.0, 240.0], 'model')
>>> moved = dict(value, shapes=[dict(value["shapes"][0], c=[170, 120, 320, 240], dirty=True)])
>>> drafts_from_value(moved, scale, {7: box})[0].coords, drafts_from_value(value, scale, {7: box})[0].provenance
((425.0, 300.0, 800.0, 600.0), 'model')
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import gradio as gr

from grounding import clamp_to
from grounding.display import DisplayScale
from workbench.errors import StoreError
from workbench.store import Annotation, AnnotationDraft, Proposal
from workbench.store.bounds import check_annotation_count

__all__ = ["box_editor", "drafts_from_value", "editor_value", "empty_value", "file_url"]

_JS = (Path(__file__).with_name("box_editor.js")).read_text(encoding="utf-8")

_CSS = """
.wb-editor { display: flex; flex-direction: column; gap: 6px; }
.wb-toolbar { display: flex; flex-wrap: wrap; gap: 4px; align-items: center; }
.wb-chip, .wb-mode { border: 2px solid #999; border-radius: 12px; padding: 1px 10px; background: transparent;
  color: inherit; cursor: pointer; font-size: 13px; }
.wb-chip.wb-on { background: rgba(127, 127, 127, 0.25); font-weight: 600; }
.wb-stage { position: relative; align-self: center; overflow: hidden; line-height: 0; touch-action: none; }
.wb-stage img { position: absolute; left: 0; top: 0; display: block; max-width: none; user-select: none;
  transform-origin: 0 0; }
.wb-detail { position: absolute; background-size: 100% 100%; background-repeat: no-repeat; pointer-events: none; }
.wb-newlabel { border: 1px solid #999; border-radius: 12px; padding: 1px 8px; font-size: 13px; width: 150px;
  background: transparent; color: inherit; }
.wb-overlay { position: absolute; inset: 0; width: 100%; height: 100%; cursor: crosshair; touch-action: none; }
.wb-shape { cursor: move; }
.wb-shape text { pointer-events: none; paint-order: stroke; stroke: #000; font-family: sans-serif; }
.wb-model rect { stroke-dasharray: none; }
.wb-handle { fill: #fff; stroke: #000; cursor: nwse-resize; }
.wb-proposal { fill: none; stroke: #ffeb3b; pointer-events: none; }
.wb-score { pointer-events: none; font-family: sans-serif; paint-order: stroke; stroke: #000; stroke-width: 0.6px; }
.wb-band { fill: rgba(255, 255, 255, 0.15); stroke: #fff; stroke-dasharray: 4 3; pointer-events: none; }
.wb-info { font-size: 12px; opacity: 0.8; line-height: 1.3; }
.wb-empty { padding: 40px; text-align: center; opacity: 0.7; }
"""

def file_url(path: str | Path) -> str:
    """The URL of a served file (relative, so it works under any root path)."""
    return "gradio_api/file=" + quote(str(Path(path).resolve()))


def empty_value(message: str = "Open an item from the queue.") -> dict[str, Any]:
    return {"image": None, "empty": message, "shapes": [], "labels": [], "key": None}


def _shape(a: Annotation | AnnotationDraft, scale: DisplayScale) -> dict[str, Any]:
    score = None if a.score is None or a.provenance != "model" else round(float(a.score), 4)
    return {"aid": getattr(a, "id", None), "kind": a.kind, "c": [round(v, 3) for v in scale.to_display(a.coords)],
            "label": a.label, "from": a.provenance, "dirty": False, "score": score}


def editor_value(image_url: str, scale: DisplayScale, annotations: Sequence[Annotation],
                 labels: Sequence[tuple[str, str]], *, key: str, proposals: Sequence[Proposal] = (),
                 label: str | None = None, readonly: bool = False, alt: str = "", sha: str = "",
                 calibrated: bool = False) -> dict[str, Any]:
    """The editor's value for one image: display-pixel shapes, the dataset's labels (name, colour), the
    original's size (``ow``, ``oh``: zoomed views and keyboard steps in original pixels) and the image's
    content hash (``sha``: the editor asks for zoomed pixels and the previous item's boxes with it).

    A model box carries its ``score``; ``calibrated`` says whether scores are probabilities that the
    box survives review (else raw signals): the editor tints each model box by it, shows it, and Tab
    visits the weakest box first."""
    labels = list(labels) or [("object", "#e6194b")]  # a dataset without labels yet still has one to draw with
    names = [name for name, _ in labels]
    known = dict(labels)
    for a in annotations:  # a label only the item has still gets a chip
        if a.label not in known:
            known[a.label] = "#888888"
            names.append(a.label)
    return {
        "image": image_url,
        "w": scale.display_wh[0],
        "h": scale.display_wh[1],
        "ow": scale.original_wh[0],
        "oh": scale.original_wh[1],
        "sha": sha,
        "key": key,
        "alt": alt,
        "labels": [{"name": name, "color": known[name]} for name in names],
        "label": label if label in known else (names[0] if names else "object"),
        "shapes": [_shape(a, scale) for a in annotations],
        "proposals": [{"kind": p.kind, "c": [round(v, 3) for v in scale.to_display(p.coords)], "label": p.label}
                      for p in proposals],
        "commit": 0,
        "readonly": readonly,
        "calibrated": calibrated,
    }


def drafts_from_value(value: Mapping[str, Any], scale: DisplayScale,
                      stored: Mapping[int, Annotation]) -> list[AnnotationDraft]:
    """The editor's shapes as annotations in original pixels.

    A shape the person did not move keeps the stored annotation's exact coordinates (the display
    copy is coarser than the original); a relabelled one becomes the person's; a moved or resized one
    is the stored coordinates plus the move (those not moved stay exact), a new one is mapped from
    display pixels; both are clamped to the image.
    """
    shapes = value.get("shapes") or []
    check_annotation_count([shapes])  # before a draft is made of each: 100 000 shapes are refused at once
    try:
        return _drafts(shapes, scale, stored)
    except ValueError as exc:  # a label past its bound, a coordinate that is not a number
        raise StoreError(str(exc)) from None


def _drafts(shapes: list, scale: DisplayScale, stored: Mapping[int, Annotation]) -> list[AnnotationDraft]:
    drafts = []
    for shape in shapes:
        kind = shape.get("kind", "box")
        label = str(shape.get("label") or "")
        known = stored.get(shape.get("aid")) if shape.get("aid") is not None else None
        if known is not None and not shape.get("dirty"):
            provenance = known.provenance if label == known.label else "human"
            drafts.append(AnnotationDraft(known.kind, known.coords, label, provenance,
                                          known.model if provenance == "model" else None,
                                          dict(known.settings) if provenance == "model" else {},
                                          dict(known.attributes), known.score if provenance == "model" else None))
            continue
        coords = [float(v) for v in shape["c"]]
        if known is not None and known.kind == kind and len(coords) == len(known.coords):
            # moved by the person: the stored coordinates plus the move, so a coordinate left alone keeps its
            # exact value and a keyboard step of one original pixel is exactly one (display pixels are coarser)
            shown = [round(v, 3) for v in scale.to_display(known.coords)]
            moves = scale.to_original([c - s for c, s in zip(coords, shown)])
            coords = [o if c == s else o + d for o, c, s, d in zip(known.coords, coords, shown, moves)]
            original = clamp_to(tuple(coords), scale.original_wh)
        else:
            original = clamp_to(scale.to_original(coords), scale.original_wh)
        drafts.append(AnnotationDraft(kind, original, label, "human"))
    return drafts


def box_editor(elem_id: str = "editor", server_functions: Sequence[Callable[..., Any]] = ()) -> gr.HTML:
    """The editor component (one per page); its ``input`` event carries each committed gesture.

    ``server_functions`` (named ``crop`` and ``previous_boxes``) answer the editor's own requests: a zoomed
    region's pixels, the previous item's boxes. Two props report back to it: ``ack``, the number of the last
    commit stored, and ``done``, changed whenever an item action has answered (see ``box_editor.js``).
    """
    return gr.HTML(empty_value(), html_template="<div class='wb-editor'></div>", css_template=_CSS, js_on_load=_JS,
                   elem_id=elem_id, apply_default_css=False, server_functions=list(server_functions) or None,
                   ack=0, done=0)

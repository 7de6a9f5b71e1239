"""The multi-image and tiling tools on a dataset item: its images in order, named by their IDs.

The boxes of a merged-canvas, step-by-step or tiled run land on the item as that run's proposals,
by the rule every model answer follows (:mod:`workbench.runs.items`): they become the item's
annotations when nobody has worked on it yet, and are kept beside the human work otherwise. The
order probe only reports (its answers are many, for the same images). The run's settings name
the tool (``{"tool": "canvas", ...}``), so each tool's answer is its own run.

>>> import tempfile
>>> from pathlib import Path
>>> from PIL import Image
>>> from workbench.backends import FakeBackend
>>> from workbench.store import DatasetStore
>>> folder = Path(tempfile.mkdtemp())
>>> Image.new("RGB", (640, 480)).save(folder / "a.png"); Image.new("RGB", (300, 500)).save(folder / "b.png")
>>> store = DatasetStore(folder / "db.sqlite3")
>>> item = store.add_item(store.create_dataset("pets"), [folder / "a.png", folder / "b.png"])
>>> answer = lambda request, geometry: '[{"bbox_2d": [0, 0, 28, 28], "label": "cat"}]'
>>> result, outcome = steps_on_item(store, FakeBackend(answer), item.id, target="cat")
>>> outcome.applied, [len(image.annotations) for image in outcome.item.images]
(True, [1, 1])
>>> store.proposals(item.id)[0].settings["tool"]
'steps'
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from grounding import PixelLimits
from grounding.parse import Detection, ParseResult
from workbench.backends.base import ModelBackend
from workbench.errors import WorkbenchError
from workbench.multi.common import with_names
from workbench.run_settings import DEFAULT_MAX_NEW_TOKENS
from workbench.runs.items import ItemRunOutcome, drafts_from
from workbench.store import DatasetStore, Item

__all__ = ["TOOLS", "item_inputs", "record_tool_run", "preview_item", "probe_item", "canvas_on_item", "steps_on_item",
           "tiles_on_item"]

TOOLS = {"canvas": "merged canvas", "steps": "step by step", "tiles": "tiles"}
"""The tools whose boxes are stored on the item, and how messages name them."""


def item_inputs(item: Item) -> tuple[list[Path], list[str]]:
    """The item's image files in order and their IDs."""
    return [Path(image.file) for image in item.images], [image.image_id for image in item.images]


def _detection(data: Mapping[str, Any]) -> Detection:
    return Detection(data["kind"], str(data.get("label") or ""), int(data["image"]), tuple(data.get("model") or ()),
                     tuple(data["original"]), bool(data.get("outside")), dict(data.get("attributes") or {}))


def _tool_text(tool: str, result: Mapping[str, Any]) -> str:
    """What the model wrote, kept with the run (several answers for steps and tiles, each headed)."""
    if tool == "steps":
        return "\n\n".join(f"--- turn {t['turn']} ({t['image_id']}) ---\n{t['text']}" for t in result["turns"])
    if tool == "tiles":
        parts = [f"--- tile {t['index']} at {t['offset']} ({t['size'][0]}x{t['size'][1]}) ---\n{t['text']}"
                 for t in result["tiles"]]
        single = result.get("single") or {}
        if "text" in single:
            parts.append(f"--- the whole image in one pass (compared, not stored) ---\n{single['text']}")
        return "\n\n".join(parts)
    return str(result.get("text") or "")


def record_tool_run(store: DatasetStore, item_id: int, result: Mapping[str, Any], *, tool: str,
                    settings: Mapping[str, Any], fallback_label: str = "") -> ItemRunOutcome:
    """Store a tool's JSON result (``detections`` on the item's images, ``model``, ``family``) as a run's proposals."""
    if tool not in TOOLS:
        raise WorkbenchError(f"tool must be one of {', '.join(TOOLS)}, got {tool!r}")
    item = store.item(item_id)
    count = len(item.images)
    detections = [_detection(d) for d in result["detections"]]
    kept = [d for d in detections if 1 <= d.image <= count]
    lost = [f"{len(detections) - len(kept)} detection(s) named no image of the item and were left out"] \
        if len(kept) < len(detections) else []
    per_image, warnings = drafts_from(ParseResult(tuple(kept)), [image.wh for image in item.images],
                                      fallback_label=fallback_label)
    run = store.run(item.dataset_id, model=str(result["model"]), family=str(result["family"]),
                    settings={"tool": tool, **dict(settings)})
    all_warnings = (*result.get("warnings", ()), *lost, *warnings)
    text = _tool_text(tool, result)
    updated, applied = store.record_proposals(run.id, item.id, per_image, text=text, warnings=all_warnings)
    return ItemRunOutcome(updated, applied, sum(len(p) for p in per_image), tuple(all_warnings), text)


def _asked(target: str, prompt: str) -> dict[str, Any]:
    """The user's own prompt when given, else the target in the family's phrasing."""
    prompt = (prompt or "").strip()
    target = (target or "").strip()
    if not prompt and not target:
        raise WorkbenchError("say what to find (or write your own prompt) first")
    return {"target": None if prompt else target, "prompt": prompt or None}


def _limits_setting(limits: PixelLimits | None) -> dict[str, int]:
    return {"min_pixels": limits.min_pixels, "max_pixels": limits.max_pixels} if limits is not None else {}


def preview_item(store: DatasetStore, backend: ModelBackend, item_id: int, *, target: str = "", prompt: str = "",
                 task: str = "boxes", naming: str | None = None, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
                 limits: PixelLimits | None = None) -> dict[str, Any]:
    """The exact prompt the model gets for the item's pictures in their order (:func:`workbench.runs.prompt_view.exact_prompt`)."""
    from workbench.multi.common import make_request
    from workbench.runs.prompt_view import exact_prompt

    files, ids = item_inputs(store.item(item_id))
    request = make_request(backend.family(), files, ids, **_asked(target, prompt), task=task, naming=naming or None,
                           max_new_tokens=max_new_tokens, limits=limits)
    return with_names(exact_prompt(backend, request) | {"prompt": request.prompt}, files, ids)


def probe_item(store: DatasetStore, backend: ModelBackend, item_id: int, *, target: str = "", prompt: str = "",
               task: str = "boxes", naming: str | None = None, max_orders: int = 12, seed: int = 0,
               max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS, limits: PixelLimits | None = None, on_progress: Any = None) -> dict[str, Any]:
    """:func:`workbench.multi.order_probe.probe_order` over the item's images, named by their IDs (nothing is stored)."""
    from workbench.multi.order_probe import probe_order

    files, ids = item_inputs(store.item(item_id))
    if len(files) < 2:
        raise WorkbenchError("the order probe needs an item with at least two pictures (group it with the next "
                             "item on the Review page)")
    result = probe_order(backend, files, **_asked(target, prompt), task=task, image_ids=ids, naming=naming,
                         max_orders=max_orders, seed=seed, max_new_tokens=max_new_tokens, limits=limits,
                         on_progress=on_progress)
    return with_names(result, files, ids)


def canvas_on_item(store: DatasetStore, backend: ModelBackend, item_id: int, *, target: str = "", prompt: str = "",
                   task: str = "boxes", layout: str = "h", canvas_max_pixels: int | None = None, gap: int = 0,
                   max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS, limits: PixelLimits | None = None) -> tuple[dict[str, Any], ItemRunOutcome]:
    """Ground the item's images merged into one canvas; the boxes, back on each image, become the run's proposals."""
    from workbench.multi.canvas import ground_canvas

    files, ids = item_inputs(store.item(item_id))
    asked = _asked(target, prompt)
    result = ground_canvas(backend, files, **asked, task=task, layout=layout, max_pixels=canvas_max_pixels or None,
                           gap=gap, max_new_tokens=max_new_tokens, limits=limits)
    result = with_names(result, files, ids)
    settings = {**asked, "task": task, "layout": layout, "canvas_max_pixels": canvas_max_pixels or 0, "gap": gap,
                "max_new_tokens": max_new_tokens, **_limits_setting(limits)}
    return result, record_tool_run(store, item_id, result, tool="canvas", settings=settings, fallback_label=target)


def steps_on_item(store: DatasetStore, backend: ModelBackend, item_id: int, *, target: str = "", prompt: str = "",
                  task: str = "boxes", naming: str = "picture", max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
                  limits: PixelLimits | None = None, on_progress: Any = None) -> tuple[dict[str, Any], ItemRunOutcome]:
    """One picture of the item per turn of one conversation; each turn's boxes become proposals on its picture."""
    from workbench.multi.steps import ground_step_by_step

    files, ids = item_inputs(store.item(item_id))
    asked = _asked(target, prompt)
    result = ground_step_by_step(backend, files, **asked, task=task, image_ids=ids, naming=naming or "picture",
                                 max_new_tokens=max_new_tokens, limits=limits, on_progress=on_progress)
    result = with_names(result, files, ids)
    settings = {**asked, "task": task, "naming": result["naming"], "max_new_tokens": max_new_tokens,
                **_limits_setting(limits)}
    return result, record_tool_run(store, item_id, result, tool="steps", settings=settings, fallback_label=target)


def tiles_on_item(store: DatasetStore, backend: ModelBackend, item_id: int, *, target: str = "", prompt: str = "",
                  task: str = "boxes", tile_max_pixels: int | None = None, overlap: float = 0.15, refine: bool = False,
                  compare: bool = True, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
                  on_progress: Any = None) -> tuple[dict[str, Any], ItemRunOutcome]:
    """Ground a one-picture item tile by tile; the merged boxes become the run's proposals (the single pass
    is compared, not stored)."""
    from workbench.multi.tiles import ground_tiled

    files, ids = item_inputs(store.item(item_id))
    if len(files) != 1:
        raise WorkbenchError(f"tiles are for an item of one picture; this one has {len(files)} (split it into "
                             "single images on the Review page, or use the canvas or step by step)")
    asked = _asked(target, prompt)
    result = ground_tiled(backend, files[0], **asked, task=task, tile_max_pixels=tile_max_pixels, overlap=overlap,
                          refine=refine, compare=compare, max_new_tokens=max_new_tokens, on_progress=on_progress)
    result = with_names(result, files, ids)
    settings = {**asked, "task": task, "tile_max_pixels": result["limits"]["max_pixels"], "overlap": overlap, "refine": refine,
                "max_new_tokens": max_new_tokens}
    return result, record_tool_run(store, item_id, result, tool="tiles", settings=settings, fallback_label=target)


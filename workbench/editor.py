"""Between the box editor (gradio_image_annotation) and boxes in original pixels.

The editor shows the display copy of an image, so its boxes are in display pixels; this module
maps them with :class:`grounding.display.DisplayScale` and nothing else. The editor accepts only
the keys xmin, ymin, xmax, ymax, label and color.

>>> from workbench.image_set import ImageEntry
>>> entry = ImageEntry("img1", "big.jpg", "big.jpg", (4000, 3000), "big_small.jpg", (1600, 1200))
>>> value = annotator_value(entry, [EditorBox("cat", (400, 300, 800, 600))])
>>> value["boxes"][0]["xmin"], value["boxes"][0]["xmax"]
(160.0, 320.0)
>>> boxes_from_annotator(value, entry)[0].xyxy
(400.0, 300.0, 800.0, 600.0)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from grounding import order_corners
from grounding.display import DisplayScale
from grounding.draw import PALETTE, label_color_index
from workbench.box_history import EditorBox
from workbench.image_set import ImageEntry, ImageSet

__all__ = ["annotator_value", "box_text", "boxes_from_annotator", "entry_for_value", "label_rgb"]


def label_rgb(label: str) -> tuple[int, int, int]:
    """The same colour the drawn results use for this label."""
    color = PALETTE.by_idx(label_color_index(label))
    return (color.r, color.g, color.b)


def _scale(entry: ImageEntry) -> DisplayScale:
    return DisplayScale(entry.original_wh, entry.display_wh)


def annotator_value(entry: ImageEntry, boxes: Sequence[EditorBox]) -> dict:
    """``{"image": display copy, "boxes": [...]}`` for the editor, boxes in display pixels.

    Colours go as CSS ``rgb(r, g, b)`` text: the component reads that form back, while a tuple
    comes back from the browser as a list that its own preprocessing cannot read.
    """
    scale = _scale(entry)
    shown = []
    for box in boxes:
        x1, y1, x2, y2 = scale.to_display(box.xyxy)
        shown.append({"xmin": round(x1, 2), "ymin": round(y1, 2), "xmax": round(x2, 2), "ymax": round(y2, 2),
                      "label": box.label, "color": "rgb({}, {}, {})".format(*label_rgb(box.label))})
    return {"image": entry.display_path, "boxes": shown}


def boxes_from_annotator(
    value: Mapping | None, entry: ImageEntry, current: Sequence[EditorBox] = ()
) -> list[EditorBox]:
    """Editor boxes back in original pixels (corners ordered, clamped to the image).

    The component rounds boxes to whole display pixels on the way back; a box that still matches
    one of ``current`` as displayed keeps that box's exact original coordinates, so untouched
    boxes lose no precision and echoing a value back is not an edit.
    """
    if not value:
        return []
    scale = _scale(entry)
    shown: dict[tuple, list[EditorBox]] = {}
    for box in current:
        key = (box.label, tuple(round(v) for v in scale.to_display(box.xyxy)))
        shown.setdefault(key, []).append(box)
    boxes = []
    for box in value.get("boxes") or []:
        label = str(box.get("label") or "").strip()
        xyxy = order_corners((box["xmin"], box["ymin"], box["xmax"], box["ymax"]))
        same = shown.get((label, tuple(round(v) for v in xyxy)))
        boxes.append(same.pop(0) if same else EditorBox(label, scale.to_original(xyxy, clamp=True)))
    return boxes


def box_text(box: EditorBox) -> str:
    """Original-pixel corners with one decimal, e.g. ``[320.0, 240.0, 640.0, 480.0]``."""
    return "[" + ", ".join(f"{v:.1f}" for v in box.xyxy) + "]"


def entry_for_value(value: Mapping | None, images: ImageSet, preferred: str | None = None) -> ImageEntry | None:
    """The image an editor value shows, recognised by its display copy's file name.

    The component re-saves the image under the same stem, so a late change event from the
    previous image is never taken for an edit of the newly selected one.
    """
    if not value or not value.get("image"):
        return None
    stem = Path(str(value["image"])).stem
    matches = [entry for entry in images if Path(entry.display_path).stem == stem]
    for entry in matches:
        if entry.image_id == preferred:
            return entry
    return matches[0] if matches else None

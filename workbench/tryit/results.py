"""Drawn results and the detection list of a workspace's last run, ready for the UI.

>>> from workbench.tryit.workspace import Workspace
>>> detection_rows(Workspace())
[]
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from PIL import Image

from grounding.decode import decode_upright
from grounding.display import DisplayScale
from grounding.draw import DrawStyle, draw_file
from workbench.tryit.image_set import ImageEntry
from workbench.tryit.uploads import DISPLAY_MAX_SIDE
from workbench.tryit.workspace import Workspace

__all__ = ["DETECTION_COLUMNS", "detection_rows", "render_results", "open_upright"]

_PLACEMENT_KEYS = {"image", "img_idx", "image_id", "image_index"}
"""Keys that only say which image a detection is on: shown in the image column already."""

DETECTION_COLUMNS = ["image", "kind", "label", "model coords", "original coords", "outside", "extra"]


def _fmt(values) -> str:
    return "[" + ", ".join(f"{v:.1f}".rstrip("0").rstrip(".") for v in values) + "]"


def detection_rows(workspace: Workspace) -> list[list[object]]:
    """One row per detection: image ID, kind, label, model and original coordinates."""
    run = workspace.run
    if run is None:
        return []
    rows: list[list[object]] = []
    for d in run.result.detections:
        image_id = run.image_ids[d.image - 1] if d.image - 1 < len(run.image_ids) else f"picture {d.image}"
        extra = ", ".join(f"{k}={v}" for k, v in d.attributes.items() if k not in _PLACEMENT_KEYS)
        rows.append([image_id, d.kind, d.label, _fmt(d.model), _fmt(d.original), "yes" if d.outside else "", extra])
    return rows


def open_upright(path: str | os.PathLike) -> Image.Image:
    """The original image as the user sees it (EXIF orientation applied), RGB."""
    return decode_upright(path)


DRAWN_STYLE = DrawStyle(max_side=DISPLAY_MAX_SIDE)
"""Drawn results are display copies: the same long side as the editor's."""


def _draw_source(entry: ImageEntry) -> tuple[str, tuple[int, int] | None]:
    """The upload's display copy when it is the drawn size (decoded small, already upright), else the original."""
    fits = entry.display_wh == DisplayScale.fit(entry.original_wh, DRAWN_STYLE.max_side).display_wh
    if fits and entry.display_path != entry.path and os.path.isfile(entry.display_path):
        return entry.display_path, entry.original_wh
    return entry.path, None


def render_results(workspace: Workspace, out_dir: str | os.PathLike) -> list[tuple[str, str]]:
    """Each image with its boxes and points drawn (display-sized), as (path, caption) pairs in order.

    Drawn from the upload's display copy when there is one of the right size, else from the
    original file (a JPEG decoded at reduced size: :func:`grounding.draw.draw_file`).
    """
    run = workspace.run
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    drawn = []
    for entry in workspace.images:
        detections = run.detections_for(entry.image_id) if run else ()
        key = hashlib.sha1(repr((entry.path, [d.as_dict() for d in detections])).encode()).hexdigest()[:16]
        target = out_dir / f"drawn_{key}.jpg"
        if not target.exists():
            source, original_wh = _draw_source(entry)
            picture = draw_file(source, list(detections), style=DRAWN_STYLE, original_wh=original_wh)
            picture.save(target, "JPEG", quality=90)
        caption = f"{entry.image_id} · {len(detections)} detection(s)"
        drawn.append((str(target), caption))
    return drawn

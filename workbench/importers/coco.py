"""COCO detection JSON -> a dataset: one single-image sample per COCO image, boxes as accepted ground truth.

Checked by supervision's own COCO loader (``sv.DetectionDataset.from_coco``: image paths kept inside
the images folder, categories, box extents), so whatever it accepts we accept; labels come from
the category names. The coordinates themselves are read from the JSON as Python floats, not from
supervision's ``float32`` arrays (which turn 600.7 into 600.7000122). Images this project exported
(``"workbench": {sample, picture, image_id, status}`` in the entry) become their samples again,
with their IDs and status.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import supervision as sv

from workbench.importers.base import (
    DatasetImportError,
    ImportImage,
    ImportReport,
    Picture,
    regroup,
    write_samples,
)
from workbench.importers.paths import ImportFolder
from workbench.store import ITEM_STATUSES, AnnotationDraft, DatasetStore

__all__ = ["coco_xyxy", "import_coco"]


def coco_xyxy(bbox: list[Any]) -> tuple[float, float, float, float]:
    """COCO ``[x, y, w, h]`` -> ``(x1, y1, x2, y2)`` in double precision.

    >>> coco_xyxy([600.7, 10, 0.2, 5])
    (600.7, 10.0, 600.9000000000001, 15.0)
    """
    x, y, w, h = (float(v) for v in bbox)
    return (x, y, x + w, y + h)


def _origin(entry: dict[str, Any]) -> dict[str, Any]:
    origin = entry.get("workbench")
    return origin if isinstance(origin, dict) else {}


def import_coco(store: DatasetStore, dataset: str, annotations_path: str | os.PathLike,
                images_dir: str | os.PathLike, *, prompt: str = "", status: str | None = None,
                allow_outside: bool = False) -> ImportReport:
    """Import ``annotations_path`` (images under ``images_dir``, and only there unless ``allow_outside``) into
    ``dataset`` (created if missing)."""
    try:
        coco = sv.DetectionDataset.from_coco(str(images_dir), str(annotations_path))
        doc = json.loads(Path(annotations_path).read_text(encoding="utf-8"))
    except Exception as exc:  # supervision raises many types for bad files; all mean "cannot read it"
        raise DatasetImportError(f"{annotations_path}: not a COCO detection file supervision can read ({exc})") from None
    names = {category["id"]: str(category["name"]) for category in doc["categories"]}
    boxes: dict[Any, list[dict[str, Any]]] = {}
    for annotation in doc["annotations"]:  # in file order, as supervision groups them
        boxes.setdefault(annotation["image_id"], []).append(annotation)
    folder = ImportFolder(images_dir, allow_outside=allow_outside)
    pictures = []
    for path, entry in zip(coco.image_paths, doc["images"], strict=True):  # supervision keeps the file's order
        folder.check(path, f"{Path(annotations_path).name}")
        drafts = tuple(AnnotationDraft.box(coco_xyxy(a["bbox"]), names[a["category_id"]], provenance="human")
                       for a in boxes.get(entry["id"], []))
        origin = _origin(entry)
        grouped = isinstance(origin.get("sample"), int) and isinstance(origin.get("picture"), int)
        kept = origin.get("status") if origin.get("status") in ITEM_STATUSES else "accepted"
        image_id = str(origin.get("image_id") or Path(path).stem)
        pictures.append(Picture(ImportImage(Path(path), image_id, drafts), prompt, kept,
                                sample=origin["sample"] if grouped else None,
                                picture=origin["picture"] if grouped else 1))
    return write_samples(store, dataset, regroup(pictures), status=status)

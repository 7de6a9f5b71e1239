"""COCO detection JSON: xywh in original pixels, category ids from 1 (as supervision and CVAT write).

One image entry per sample image, files under ``images/``. The document holds what
pycocotools' ``COCO`` indexes (``images``, ``annotations``, ``categories``) plus ``info`` (which
``COCO.loadRes`` copies); sizes come from the store, never from decoding the images. Each image
entry also says where it came from (``"workbench": {sample, picture, image_id, status}``), so an
import makes the same samples again; ``x + w`` gives back exactly the ``x2`` that was stored.

>>> coco_box((146, 137, 615, 415))
[146.0, 137.0, 469.0, 278.0]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workbench.export.base import (
    ExportFormat,
    FormatOutput,
    ImageSizes,
    Problems,
    check_coords,
    check_label,
    load_json,
)
from workbench.export.detection import class_names, entries_of, write_entry_images
from workbench.export.files import write_json
from workbench.export.samples import ExportSample
from workbench.export.settings import ExportSettings

ANNOTATIONS = "annotations.json"
IMAGES = "images"
ORIGIN = "workbench"
"""Key of each image entry's origin (sample, picture, image ID, status), which ``workbench import coco`` reads;
COCO readers ignore keys they do not know."""


def _extent(start: float, end: float) -> float:
    """``end - start``, nudged by an ulp where needed so that ``start + extent == end`` (a reader's x + w gives
    back exactly the x2 that was written, not one a rounding away)."""
    extent = end - start
    for _ in range(4):
        if start + extent == end:
            break
        extent = math.nextafter(extent, math.inf if start + extent < end else -math.inf)
    return extent if start + extent == end else end - start


def coco_box(xyxy: Sequence[float]) -> list[float]:
    x1, y1, x2, y2 = (float(v) for v in xyxy)
    return [x1, y1, _extent(x1, x2), _extent(y1, y2)]


def to_coco(samples: Sequence[ExportSample], created_at: str | None, classes: Sequence[str] = ()) -> dict:
    names = class_names(samples, classes)
    ids = {name: n for n, name in enumerate(names, 1)}
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for image_id, entry in enumerate(entries_of(samples), 1):
        w, h = entry.image.wh
        images.append({"id": image_id, "file_name": entry.name, "width": w, "height": h, ORIGIN: entry.origin})
        for box in entry.image.boxes:
            bbox = coco_box(box.coords)
            annotations.append({"id": len(annotations) + 1, "image_id": image_id, "category_id": ids[box.label],
                                "bbox": bbox, "area": bbox[2] * bbox[3], "segmentation": [], "iscrowd": 0,
                                **({"score": box.score} if box.score is not None else {})})  # as COCO results
    return {"info": {"description": "Grounding Workbench export", "date_created": created_at or ""},
            "licenses": [],
            "categories": [{"id": n, "name": name, "supercategory": "object"} for name, n in ids.items()],
            "images": images, "annotations": annotations}


def write(samples: Sequence[ExportSample], settings: ExportSettings, folder: Path) -> FormatOutput:
    write_entry_images(samples, folder, IMAGES)
    doc = to_coco(samples, settings.created_at, settings.class_names)
    write_json(folder / ANNOTATIONS, doc, indent=None)
    usage = (f"pycocotools.coco.COCO('{folder / ANNOTATIONS}') with images in {folder / IMAGES} "
             "(category ids start at 1).")
    return FormatOutput(len(doc["images"]), (ANNOTATIONS, f"{IMAGES}/"), (), usage)


def validate(folder: Path, settings: ExportSettings) -> list[str]:
    problems = Problems()
    doc = load_json(folder / ANNOTATIONS, problems)
    if not isinstance(doc, dict) or not all(isinstance(doc.get(k), list) for k in ("images", "annotations",
                                                                                     "categories")):
        return problems.result() or [f"{ANNOTATIONS}: needs 'images', 'annotations' and 'categories' lists"]
    categories = {c.get("id"): c.get("name") for c in doc["categories"] if isinstance(c, dict)}
    for name in categories.values():
        check_label(name, problems, f"{ANNOTATIONS} category")
    sizes = ImageSizes(folder / IMAGES)
    images = {}
    for image in doc["images"]:
        where = f"{ANNOTATIONS} image {image.get('file_name')!r}"
        wh = sizes(str(image.get("file_name")), problems, where)
        if wh and wh != (image.get("width"), image.get("height")):
            problems.add(f"{where}: the file is {wh[0]}x{wh[1]}, the entry says {image.get('width')}x"
                         f"{image.get('height')}")
        images[image.get("id")] = wh
    if len(images) != len(doc["images"]):
        problems.add(f"{ANNOTATIONS}: image ids are not unique")
    for annotation in doc["annotations"]:
        where = f"{ANNOTATIONS} annotation {annotation.get('id')}"
        if annotation.get("image_id") not in images:
            problems.add(f"{where}: image_id {annotation.get('image_id')!r} names no image")
            continue
        if annotation.get("category_id") not in categories:
            problems.add(f"{where}: category_id {annotation.get('category_id')!r} names no category")
        bbox = annotation.get("bbox")
        wh = images[annotation["image_id"]]
        if not isinstance(bbox, list) or len(bbox) != 4:
            problems.add(f"{where}: bbox {bbox!r} is not [x, y, w, h]")
        elif wh:
            check_coords([bbox[0], bbox[1], bbox[0] + bbox[2], bbox[1] + bbox[3]], wh, problems, where, integers=False)
    return problems.result()


FORMAT = ExportFormat("coco", "COCO detection JSON", False, "original-image pixels, xywh", write, validate,
                      kinds=("box",))

"""Shared by the COCO, YOLO and Pascal VOC exporters: an ``sv.DetectionDataset`` of the samples.

These formats have no multi-image samples: one entry per sample image (its own file name,
``s<sample>-<picture>-<id>.ext``), boxes in original pixels, classes numbered in first-seen
label order. Points have no place in them and are left out with a warning.

>>> import numpy as np
>>> detections_of([], {}).xyxy.shape
(0, 4)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import supervision as sv

from grounding import ImageReadError, read_image_size
from workbench.export.base import Problems, check_coords
from workbench.export.files import copy_images
from workbench.export.samples import ExportObject, ExportSample, labels_of

__all__ = ["build_dataset", "check_dataset", "detections_of"]


def detections_of(boxes: Sequence[ExportObject], class_ids: dict[str, int]) -> sv.Detections:
    if not boxes:
        return sv.Detections.empty()
    return sv.Detections(xyxy=np.array([b.coords for b in boxes], dtype=np.float64),
                         class_id=np.array([class_ids[b.label] for b in boxes], dtype=int))


def build_dataset(samples: Sequence[ExportSample], folder: Path, warnings: list[str],
                  images_subdir: str = "images") -> sv.DetectionDataset:
    """Copy one image file per sample image into ``folder/images_subdir`` and describe them for supervision."""
    classes = labels_of(samples, kinds=("box",))
    class_ids = {label: i for i, label in enumerate(classes)}
    copy_images(samples, folder, per_entry=True, subdir=images_subdir)
    paths: list[str] = []
    annotations: dict[str, sv.Detections] = {}
    points = 0
    for sample in samples:
        for image in sample.images:
            path = str(folder / images_subdir / image.entry_name)
            paths.append(path)
            annotations[path] = detections_of(image.boxes, class_ids)
            points += len(image.points)
    if points:
        warnings.append(f"{points} points left out: this format carries boxes only")
    return sv.DetectionDataset(classes=classes, images=paths, annotations=annotations)


def check_dataset(dataset: sv.DetectionDataset, expected_images: int | None, problems: Problems, name: str) -> None:
    """Boxes inside their image, as loaded back by supervision's own reader."""
    if expected_images is not None and len(dataset) != expected_images:
        problems.add(f"{name}: {len(dataset)} images loaded, {expected_images} expected")
    for path in dataset.image_paths:
        try:
            wh = read_image_size(path).wh
        except ImageReadError as exc:
            problems.add(f"{name}: {exc}")
            continue
        detections = dataset.annotations[path]
        for box, class_id in zip(detections.xyxy.tolist(), detections.class_id.tolist()):
            check_coords([float(v) for v in box], (wh[0] + 0.01, wh[1] + 0.01), problems,
                         f"{name} {Path(path).name}", integers=False)
            if not 0 <= class_id < len(dataset.classes):
                problems.add(f"{name} {Path(path).name}: class id {class_id} has no class")

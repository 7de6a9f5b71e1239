"""COCO detection JSON -> a dataset: one single-image sample per COCO image, boxes as accepted ground truth.

Read by supervision's own COCO loader (``sv.DetectionDataset.from_coco``), so whatever it
accepts we accept; labels come from the category names.
"""

from __future__ import annotations

import os
from pathlib import Path

import supervision as sv

from workbench.importers.base import (
    DatasetImportError,
    ImportImage,
    ImportReport,
    ImportSample,
    write_samples,
)
from workbench.importers.paths import ImportFolder
from workbench.store import AnnotationDraft, DatasetStore

__all__ = ["import_coco"]


def import_coco(store: DatasetStore, dataset: str, annotations_path: str | os.PathLike,
                images_dir: str | os.PathLike, *, prompt: str = "", allow_outside: bool = False) -> ImportReport:
    """Import ``annotations_path`` (images under ``images_dir``, and only there unless ``allow_outside``) into
    ``dataset`` (created if missing)."""
    try:
        coco = sv.DetectionDataset.from_coco(str(images_dir), str(annotations_path))
    except Exception as exc:  # supervision raises many types for bad files; all mean "cannot read it"
        raise DatasetImportError(f"{annotations_path}: not a COCO detection file supervision can read ({exc})") from None
    folder = ImportFolder(images_dir, allow_outside=allow_outside)
    samples = []
    for path in coco.image_paths:
        folder.check(path, f"{Path(annotations_path).name}")
        detections = coco.annotations[path]
        drafts = tuple(AnnotationDraft.box(tuple(float(v) for v in xyxy), coco.classes[int(class_id)],
                                           provenance="human")
                       for xyxy, class_id in zip(detections.xyxy, detections.class_id))
        samples.append(ImportSample((ImportImage(Path(path), Path(path).stem, drafts),), prompt, status="accepted"))
    return write_samples(store, dataset, samples)

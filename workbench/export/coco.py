"""COCO detection JSON (xywh in original pixels) written by supervision's ``as_coco``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import supervision as sv

from workbench.export.base import ExportFormat, FormatOutput, Problems
from workbench.export.detection import build_dataset, check_dataset
from workbench.export.samples import ExportSample
from workbench.export.settings import ExportSettings

ANNOTATIONS = "annotations.json"


def write(samples: Sequence[ExportSample], settings: ExportSettings, folder: Path) -> FormatOutput:
    warnings: list[str] = []
    dataset = build_dataset(samples, folder, warnings)
    # the images are already in place (copied upright); letting supervision save them again would
    # decode and re-encode every file (slower, and lossy for JPEG)
    dataset.as_coco(images_directory_path=None, annotations_path=str(folder / ANNOTATIONS))
    return FormatOutput(len(dataset), (ANNOTATIONS, "images/"), tuple(warnings),
                        "COCO detection: images/ + annotations.json (category ids start at 1).")


def validate(folder: Path, settings: ExportSettings) -> list[str]:
    problems = Problems()
    try:
        dataset = sv.DetectionDataset.from_coco(str(folder / "images"), str(folder / ANNOTATIONS))
    except Exception as exc:  # supervision's loader is the check: any failure is the finding
        return [f"{ANNOTATIONS}: supervision cannot load it ({exc})"]
    check_dataset(dataset, None, problems, ANNOTATIONS)
    return problems.result()


FORMAT = ExportFormat("coco", "COCO detection JSON (supervision)", False, "original-image pixels, xywh",
                      write, validate)

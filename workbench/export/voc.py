"""Pascal VOC XML per image (original pixels), written by supervision's ``as_pascal_voc``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import supervision as sv

from workbench.export.base import ExportFormat, FormatOutput, Problems
from workbench.export.detection import build_dataset, check_dataset
from workbench.export.samples import ExportSample
from workbench.export.settings import ExportSettings


def write(samples: Sequence[ExportSample], settings: ExportSettings, folder: Path) -> FormatOutput:
    warnings: list[str] = []
    dataset = build_dataset(samples, folder, warnings, images_subdir="JPEGImages")
    dataset.as_pascal_voc(images_directory_path=None,  # already copied upright: no lossy re-encode
                          annotations_directory_path=str(folder / "Annotations"))
    return FormatOutput(len(dataset), ("JPEGImages/", "Annotations/"), tuple(warnings),
                        "Pascal VOC: JPEGImages/ (original file types) and Annotations/*.xml.")


def validate(folder: Path, settings: ExportSettings) -> list[str]:
    problems = Problems()
    try:
        dataset = sv.DetectionDataset.from_pascal_voc(str(folder / "JPEGImages"), str(folder / "Annotations"))
    except Exception as exc:  # supervision's loader is the check: any failure is the finding
        return [f"VOC: supervision cannot load it ({exc})"]
    check_dataset(dataset, len(list((folder / "Annotations").glob("*.xml"))), problems, "VOC")
    return problems.result()


FORMAT = ExportFormat("voc", "Pascal VOC XML (supervision)", False, "original-image pixels, xyxy", write, validate)

"""YOLO labels (``cls cx cy w h`` normalised) and ``data.yaml``, written by supervision's ``as_yolo``."""

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
    dataset = build_dataset(samples, folder, warnings)
    dataset.as_yolo(images_directory_path=None, annotations_directory_path=str(folder / "labels"),  # images already in place
                    data_yaml_path=str(folder / "data.yaml"))
    return FormatOutput(len(dataset), ("data.yaml", "images/", "labels/"), tuple(warnings),
                        "YOLO detection: images/, labels/ and data.yaml.")


def validate(folder: Path, settings: ExportSettings) -> list[str]:
    problems = Problems()
    try:
        dataset = sv.DetectionDataset.from_yolo(str(folder / "images"), str(folder / "labels"),
                                                str(folder / "data.yaml"))
    except Exception as exc:  # supervision's loader is the check: any failure is the finding
        return [f"YOLO: supervision cannot load it ({exc})"]
    labels = len(list((folder / "labels").glob("*.txt")))
    check_dataset(dataset, labels, problems, "YOLO")
    return problems.result()


FORMAT = ExportFormat("yolo", "YOLO detection (supervision)", False, "normalised cx cy w h of the original image",
                      write, validate)

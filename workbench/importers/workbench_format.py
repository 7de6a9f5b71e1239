"""This project's own export (``dataset.json`` + ``images/``) back into a store, unchanged.

The whole file is checked before anything is written, so a broken export adds nothing. Image
paths must stay inside the export folder: an absolute path or one through ``..`` (a
``dataset.json`` from someone else naming ``/home/you/.ssh/...``) is refused.
"""

from __future__ import annotations

import json
import os
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from workbench.export.workbench_format import DATASET_JSON, FORMAT_ID, VERSION
from workbench.importers.base import (
    DatasetImportError,
    ImportImage,
    ImportReport,
    ImportSample,
    write_samples,
)
from workbench.store import ITEM_STATUSES, SPLITS, AnnotationDraft, DatasetStore

__all__ = ["import_workbench"]


def _inside(folder: Path, file: Any, where: str) -> Path:
    """``folder / file`` when ``file`` is a relative path that stays inside ``folder``."""
    if not isinstance(file, str) or not file:
        raise DatasetImportError(f"{where}: image 'file' must be a path inside the export folder, got {file!r}")
    pure = PurePosixPath(file.replace("\\", "/"))
    if pure.is_absolute() or PureWindowsPath(file).drive or ".." in pure.parts:
        raise DatasetImportError(f"{where}: image path {file!r} points outside the export folder; "
                                 "a workbench export names its images under images/, so this file is refused")
    path = folder / pure
    if not path.resolve().is_relative_to(folder.resolve()):
        raise DatasetImportError(f"{where}: image path {file!r} leads outside the export folder (a link?); refused")
    return path


def _drafts(image: dict[str, Any], where: str) -> tuple[AnnotationDraft, ...]:
    """The image's annotations (a version-1 file's rejected ones stay out)."""
    try:
        return tuple(AnnotationDraft(a["kind"], tuple(a["coords"]), a["label"], a.get("provenance", "human"),
                                     a.get("model"), a.get("settings") or {}, a.get("attributes") or {})
                     for a in image.get("annotations", []) if a.get("status") != "rejected")
    except (KeyError, TypeError, ValueError) as exc:
        raise DatasetImportError(f"{where}: bad annotation ({exc})") from None


def _status(sample: dict[str, Any], images: list[dict[str, Any]]) -> str | None:
    """The item's status: as written (version 2), else accepted when every annotation was (version 1)."""
    if sample.get("status") in ITEM_STATUSES:
        return sample["status"]
    statuses = [a.get("status") for image in images for a in image.get("annotations", [])
                if a.get("status") != "rejected"]
    return "accepted" if statuses and all(s == "accepted" for s in statuses) else None


def import_workbench(store: DatasetStore, folder: str | os.PathLike, *, name: str | None = None,
                     status: str | None = None) -> ImportReport:
    """Create a dataset from an export folder (named as exported unless ``name`` is given)."""
    folder = Path(folder)
    try:
        doc = json.loads((folder / DATASET_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DatasetImportError(f"{folder / DATASET_JSON}: cannot read ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_ID or not isinstance(doc.get("samples"), list):
        raise DatasetImportError(f"{folder}: not a {FORMAT_ID} export")
    if doc.get("version", 0) > VERSION:
        raise DatasetImportError(f"{folder}: written by a newer workbench (version {doc['version']})")
    staged = []
    for n, sample in enumerate(doc["samples"], 1):
        images = sample.get("images") if isinstance(sample, dict) else None
        if not images or not all(isinstance(image, dict) for image in images):
            raise DatasetImportError(f"{folder}: sample {n} has no images")
        entries = []
        for image in images:
            path = _inside(folder, image.get("file"), f"{folder}: sample {n}")
            if not path.is_file():
                raise DatasetImportError(f"{folder}: sample {n}: image {image.get('file')!r} is missing")
            entries.append(ImportImage(path, image.get("image_id"), _drafts(image, f"sample {n}"),
                                       name=Path(str(image.get("original_name") or path.name)).name))
        split = sample.get("split") if sample.get("split") in SPLITS else ""
        staged.append(ImportSample(tuple(entries), str(sample.get("prompt", "")), status=_status(sample, images),
                                   split=split))
    return write_samples(store, name or str(doc.get("dataset") or folder.name), staged, new=True, status=status)

"""This project's own export (``dataset.json`` + ``images/``) back into a store, unchanged.

The whole file is checked before anything is written, so a broken export adds nothing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from workbench.export.workbench_format import DATASET_JSON, FORMAT_ID, VERSION
from workbench.importers.base import DatasetImportError, ImportReport
from workbench.errors import StoreError
from workbench.store import ITEM_STATUSES, AnnotationDraft, DatasetStore, ImageSource

__all__ = ["import_workbench"]


def _drafts(image: dict[str, Any], where: str) -> list[AnnotationDraft]:
    """The image's annotations (a version-1 file's rejected ones stay out)."""
    try:
        return [AnnotationDraft(a["kind"], tuple(a["coords"]), a["label"], a.get("provenance", "human"),
                                a.get("model"), a.get("settings") or {}, a.get("attributes") or {})
                for a in image.get("annotations", []) if a.get("status") != "rejected"]
    except (KeyError, TypeError, ValueError) as exc:
        raise DatasetImportError(f"{where}: bad annotation ({exc})") from None


def _status(sample: dict[str, Any], images: list[dict[str, Any]]) -> str | None:
    """The item's status: as written (version 2), else accepted when every annotation was (version 1)."""
    if sample.get("status") in ITEM_STATUSES:
        return sample["status"]
    statuses = [a.get("status") for image in images for a in image.get("annotations", [])
                if a.get("status") != "rejected"]
    return "accepted" if statuses and all(s == "accepted" for s in statuses) else None


def import_workbench(store: DatasetStore, folder: str | os.PathLike, *, name: str | None = None) -> ImportReport:
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
        if not images:
            raise DatasetImportError(f"{folder}: sample {n} has no images")
        entries = []
        for image in images:
            try:
                blob = store.blobs.put_file(folder / image["file"])
            except (KeyError, TypeError, StoreError) as exc:
                raise DatasetImportError(f"{folder}: sample {n}: {exc}") from None
            source = ImageSource(Path(image.get("original_name") or image["file"]), image.get("image_id"))
            entries.append((source, blob, _drafts(image, f"sample {n}")))
        staged.append((str(sample.get("prompt", "")), entries, _status(sample, images)))
    dataset = store.create_dataset(name or str(doc.get("dataset") or folder.name))
    ids = [store.add_item_blobs(dataset, [(s, b) for s, b, _ in entries], prompt, [d for *_, d in entries],
                                status=status).id for prompt, entries, status in staged]
    count = sum(len(d) for _, entries, _ in staged for *_, d in entries)
    return ImportReport(dataset.name, tuple(ids), count)

"""A Hugging Face ``datasets`` dataset (saved to disk, or a local folder of its data files) -> a dataset.

Two layouts are read (``datasets`` decodes images upright, so boxes are in upright pixels):

- this project's own export (``workbench export --format hf_datasets``): ``image``,
  ``objects`` = ``{bbox: [[x1, y1, x2, y2]...], label: [...], provenance: [...]}``, ``points`` =
  ``{xy, label, provenance}``, and optionally ``sample``/``picture``/``image_id``/``prompt``:
  rows of one ``sample`` become one multi-image sample again, in ``picture`` order;
- the COCO-style layout of the Hub's detection datasets: ``image`` and ``objects`` =
  ``{bbox: [[x, y, w, h]...], category: [...]}`` (a list of such objects is read too), the
  category a ``ClassLabel`` id or a name. Each row is one sample; boxes are accepted ground truth.

Image bytes go to the store as they are (never decoded here); a split of a ``DatasetDict``
is chosen with ``split``, else every split is imported in order.

>>> coco_xyxy([10, 20, 30, 40])
(10.0, 20.0, 40.0, 60.0)
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from grounding import clamp_to
from workbench.importers.base import (
    DatasetImportError,
    ImportImage,
    ImportReport,
    ImportSample,
    Picture,
    draft,
    image_wh,
    regroup,
    reviewed_status,
    write_samples,
)
from workbench.store import ITEM_STATUSES, DatasetStore

__all__ = ["coco_xyxy", "import_hf"]


def coco_xyxy(xywh: Sequence[float]) -> tuple[float, float, float, float]:
    x, y, w, h = (float(v) for v in xywh)
    return (x, y, x + w, y + h)


def _load(path: Path, split: str | None, cache: str) -> list[tuple[str, Any]]:
    import datasets

    try:
        if any((path / name).is_file() for name in ("state.json", "dataset_dict.json", "dataset_info.json")):
            loaded = datasets.load_from_disk(str(path))
        else:  # data files (parquet, arrow...): prepared in a throwaway cache, not the user's
            loaded = datasets.load_dataset(str(path), cache_dir=cache, keep_in_memory=True)
    except Exception as exc:  # datasets raises many kinds for a folder it cannot read; all mean "not a dataset"
        raise DatasetImportError(f"{path}: datasets cannot load it ({exc})") from None
    if isinstance(loaded, Mapping):
        if split is not None:
            if split not in loaded:
                raise DatasetImportError(f"{path}: no split {split!r}; it has {', '.join(loaded)}")
            return [(split, loaded[split])]
        return list(loaded.items())
    return [("", loaded)]


def _objects(value: Any) -> dict[str, list]:
    """``{key: [...]}`` whether the column is a struct of lists or a list of structs."""
    if isinstance(value, list):
        keys = {k for item in value if isinstance(item, dict) for k in item}
        return {k: [item.get(k) for item in value] for k in keys}
    return value if isinstance(value, dict) else {}


def _category_names(features: Any) -> list[str] | None:
    from datasets import ClassLabel

    objects = features.get("objects")
    for candidate in (objects, getattr(objects, "feature", None)):
        category = candidate.get("category") if isinstance(candidate, Mapping) else None
        category = getattr(category, "feature", category)
        if isinstance(category, ClassLabel):
            return list(category.names)
    return None


def _image(value: Any, where: str) -> tuple[Path | bytes, str]:
    if isinstance(value, dict) and value.get("bytes"):
        return value["bytes"], Path(str(value.get("path") or "")).name
    if isinstance(value, dict) and value.get("path") and Path(value["path"]).is_file():
        return Path(value["path"]), Path(value["path"]).name
    raise DatasetImportError(f"{where}: the image column holds neither bytes nor a readable file")


def _row_drafts(row: dict, ours: bool, names: list[str] | None, wh: tuple[int, int], where: str) -> tuple:
    objects = _objects(row.get("objects"))
    drafts = []
    labels = objects.get("label") if ours else objects.get("category")
    provenance = objects.get("provenance") or []
    for n, (bbox, label) in enumerate(zip(objects.get("bbox") or [], labels or [])):
        if not ours:
            label = names[label] if names is not None and isinstance(label, int) else label
        box = tuple(clamp_to(bbox if ours else coco_xyxy(bbox), wh))
        reviewed = not ours or (provenance[n] if n < len(provenance) else "human") == "human"
        drafts.append(draft("box", box, str(label), where, provenance="human" if reviewed else "model",
))
    points = _objects(row.get("points")) if ours else {}
    point_provenance = points.get("provenance") or []
    for n, (xy, label) in enumerate(zip(points.get("xy") or [], points.get("label") or [])):
        reviewed = (point_provenance[n] if n < len(point_provenance) else "human") == "human"
        drafts.append(draft("point", tuple(clamp_to(xy, wh)), str(label), where,
                            provenance="human" if reviewed else "model"))
    return tuple(drafts)


def _status(row: dict, images: tuple[ImportImage, ...]) -> str | None:
    """The item's status as exported (this project's layout), else accepted for ground truth."""
    status = row.get("status")
    return status if status in ITEM_STATUSES else reviewed_status(images)


def import_hf(store: DatasetStore, dataset: str, path: str | os.PathLike, *, split: str | None = None,
              status: str | None = None) -> ImportReport:
    """Import a ``datasets`` dataset folder into ``dataset`` (created if missing)."""
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="workbench-hf-") as cache:
        samples = _read(path, _load(path, split, cache))
    return write_samples(store, dataset, samples, status=status)


def _read(path: Path, parts: list[tuple[str, Any]]) -> list[ImportSample]:
    from datasets import Image

    pictures: list[Picture] = []
    for name, part in parts:
        columns = set(part.column_names)
        if "image" not in columns or "objects" not in columns:
            raise DatasetImportError(f"{path}: needs an 'image' and an 'objects' column (found: "
                                     f"{', '.join(sorted(columns))})")
        inner = _objects(part.features["objects"]) if isinstance(part.features["objects"], (dict, list)) else {}
        inner = inner or _objects(getattr(part.features["objects"], "feature", {}))
        ours = "label" in inner
        if not ours and "category" not in inner:
            raise DatasetImportError(f"{path}: 'objects' needs 'bbox' with 'label' (this project's layout) or "
                                     f"'category' (COCO style); found {', '.join(sorted(inner)) or 'nothing'}")
        names = None if ours else _category_names(part.features)
        rows = part.cast_column("image", Image(decode=False))
        for n, row in enumerate(rows, 1):
            where = f"{path.name}{'/' + name if name else ''} row {n}"
            source, file_name = _image(row["image"], where)
            wh = image_wh(source, where)
            image = ImportImage(source, str(row.get("image_id") or Path(file_name).stem or f"row{n}"),
                                _row_drafts(row, ours, names, wh, where), name=file_name)
            grouped = ours and row.get("sample") is not None
            pictures.append(Picture(image, str(row.get("prompt") or ""), _status(row, (image,)),
                                    sample=(name, row["sample"]) if grouped else None,
                                    picture=int(row.get("picture") or 1) if grouped else 1))
    return regroup(pictures)

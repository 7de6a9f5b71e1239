"""YOLO detection folders -> a dataset: one single-image sample per image, boxes as accepted ground truth.

Two layouts are read:

- Ultralytics: a ``data.yaml`` with ``names`` (a list, or a mapping of class ids) and image
  folders or list files under ``train``/``val``/``test`` (relative to its ``path`` or its own
  folder; default ``images/``); each image's labels are found as Ultralytics finds them, the
  last ``images`` folder of its path swapped for ``labels`` and the suffix for ``.txt``;
- darknet-style exports (Label Studio, labelImg): ``classes.txt`` (one name per line) beside
  ``images/`` and ``labels/``.

A line is ``class cx cy w h`` normalised to the upright image (a sixth value, a confidence, is
ignored; a polygon row becomes its bounding box). Boxes are converted to original pixels of
the upright image and clamped into it (6-decimal rounding can reach a hair past its edge).
An image with an empty label file is a reviewed negative (``accepted``, no boxes), as Ultralytics
reads it; an image without a label file is imported with no boxes, ``new``. A folder this project
exported also holds ``workbench_origins.json``: its images become their samples again, with their
IDs, picture order and status.

>>> yolo_box(0.5, 0.5, 1.0, 0.5, (640, 480))
(0.0, 120.0, 640.0, 360.0)
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from grounding import clamp_to
from workbench.export.yolo import ORIGINS
from workbench.importers.base import (
    DatasetImportError,
    ImportImage,
    ImportReport,
    Picture,
    draft,
    image_wh,
    regroup,
    write_samples,
)
from workbench.importers.paths import ImportFolder
from workbench.store import ITEM_STATUSES, DatasetStore

__all__ = ["import_yolo", "yolo_box"]

IMAGE_SUFFIXES = {".bmp", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp", ".mpo"}


def yolo_box(cx: float, cy: float, w: float, h: float, wh: tuple[int, int]) -> tuple[float, ...]:
    """Normalised centre/size -> xyxy pixels of an image of ``wh``, clamped into it."""
    W, H = wh
    return tuple(clamp_to(((cx - w / 2) * W, (cy - h / 2) * H, (cx + w / 2) * W, (cy + h / 2) * H), wh))


def _names_from_yaml(data: dict, where: str) -> list[str]:
    names = data.get("names")
    if isinstance(names, dict):
        try:
            return [str(names[key]) for key in sorted(names, key=int)]
        except (TypeError, ValueError):
            raise DatasetImportError(f"{where}: 'names' keys must be class ids 0, 1, 2...") from None
    if isinstance(names, list):
        return [str(name) for name in names]
    if isinstance(data.get("nc"), int):
        return [f"class_{i}" for i in range(data["nc"])]
    raise DatasetImportError(f"{where}: needs 'names' (a list or a mapping of class ids)")


def _listed_images(entry: str, root: Path, allowed: ImportFolder) -> list[Path]:
    path = allowed.check((root / entry) if not Path(entry).is_absolute() else Path(entry), f"split {entry!r}")
    if path.is_dir():
        return sorted(allowed.check(p, str(path)) for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if path.suffix == ".txt" and path.is_file():
        return [allowed.check((root / line.strip()) if not Path(line.strip()).is_absolute() else Path(line.strip()),
                              f"{path} line {number}")
                for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if line.strip()]
    raise DatasetImportError(f"{path}: no such image folder or image list")


def _layout(folder: Path, allow_outside: bool = False) -> tuple[list[str], list[Path]]:
    """Class names and image files of a YOLO folder (or of a data.yaml file); files named outside the
    dataset's folder (list files, ``path:``, splits) are refused unless ``allow_outside``."""
    yaml_path = folder if folder.is_file() else next((folder / n for n in ("data.yaml", "data.yml")
                                                       if (folder / n).is_file()), None)
    if yaml_path is not None:
        try:
            data = yaml.safe_load(yaml_path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise DatasetImportError(f"{yaml_path}: cannot read it ({exc})") from None
        if not isinstance(data, dict):
            raise DatasetImportError(f"{yaml_path}: not a YOLO data.yaml (a mapping with 'names')")
        names = _names_from_yaml(data, str(yaml_path))
        allowed = ImportFolder(yaml_path.parent, allow_outside=allow_outside)
        root = yaml_path.parent / str(data["path"]) if data.get("path") else yaml_path.parent
        allowed.check(root, f"{yaml_path} path")
        splits = [data[k] for k in ("train", "val", "test") if data.get(k)] or ["images"]
        entries = [e for split in splits for e in (split if isinstance(split, list) else [split])]
        images = list(dict.fromkeys(p for entry in entries for p in _listed_images(str(entry), root, allowed)))
        return names, images
    classes = folder / "classes.txt"
    if classes.is_file():
        names = [line.strip() for line in classes.read_text(encoding="utf-8").splitlines() if line.strip()]
        return names, _listed_images("images", folder, ImportFolder(folder, allow_outside=allow_outside))
    raise DatasetImportError(f"{folder}: no data.yaml or classes.txt; not a YOLO dataset folder")


def _label_file(image: Path) -> Path:
    """Ultralytics' rule: the last ``images`` folder in the path becomes ``labels``, the suffix ``.txt``."""
    parts = list(image.parts)
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            break
    return Path(*parts).with_suffix(".txt")


def _boxes(path: Path, names: Sequence[str], wh: tuple[int, int], warnings: list[str]) -> tuple:
    drafts = []
    for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
        where = f"{path} line {number}"
        parts = line.split()
        if not parts:
            continue
        try:
            class_id, values = int(float(parts[0])), [float(v) for v in parts[1:]]
        except ValueError:
            raise DatasetImportError(f"{where}: {line!r} is not 'class cx cy w h'") from None
        if not 0 <= class_id < len(names):
            raise DatasetImportError(f"{where}: class {class_id} has no name ({len(names)} classes)")
        if len(values) in (4, 5):
            box = yolo_box(values[0], values[1], values[2], values[3], wh)
        elif len(values) >= 6:
            xs, ys = values[0:len(values) - len(values) % 2:2], values[1:len(values) - len(values) % 2:2]
            box = tuple(clamp_to((min(xs) * wh[0], min(ys) * wh[1], max(xs) * wh[0], max(ys) * wh[1]), wh))
            warnings.append(f"{where}: a polygon, imported as its bounding box")
        else:
            raise DatasetImportError(f"{where}: {line!r} is not 'class cx cy w h'")
        drafts.append(draft("box", box, names[class_id], where, provenance="human"))
    return tuple(drafts)


def import_yolo(store: DatasetStore, dataset: str, folder: str | os.PathLike, *, prompt: str = "",
                status: str | None = None, allow_outside: bool = False) -> ImportReport:
    """Import a YOLO dataset folder (or its data.yaml) into ``dataset`` (created if missing); files outside its
    folder only with ``allow_outside``."""
    folder = Path(folder)
    names, images = _layout(folder, allow_outside)
    allowed = ImportFolder(folder.parent if folder.is_file() else folder, allow_outside=allow_outside)
    if not images:
        raise DatasetImportError(f"{folder}: no images found")
    warnings: list[str] = []
    origins = _origins(folder)
    pictures = []
    for image in images:
        wh = image_wh(image, str(image))
        labels = _label_file(image)
        reviewed = labels.is_file() and allowed.contains(labels)  # an empty label file: a person looked and found nothing (a negative)
        boxes = _boxes(labels, names, wh, warnings) if reviewed else ()
        origin = origins.get(image.stem, {})
        grouped = isinstance(origin.get("sample"), int) and isinstance(origin.get("picture"), int)
        kept = origin.get("status") if origin.get("status") in ITEM_STATUSES else ("accepted" if reviewed else None)
        pictures.append(Picture(ImportImage(image, str(origin.get("image_id") or image.stem), boxes), prompt, kept,
                                sample=origin["sample"] if grouped else None,
                                picture=origin["picture"] if grouped else 1))
    return write_samples(store, dataset, regroup(pictures), status=status, warnings=warnings[:20] + (
        [f"... and {len(warnings) - 20} more"] if len(warnings) > 20 else []))


def _origins(folder: Path) -> dict[str, dict[str, Any]]:
    """What this project's export wrote of each image's sample, picture, ID and status (by file stem); {} if none."""
    path = (folder.parent if folder.is_file() else folder) / ORIGINS
    if not path.is_file():
        return {}
    try:
        origins = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DatasetImportError(f"{path}: cannot read it ({exc})") from None
    if not isinstance(origins, dict):
        raise DatasetImportError(f"{path}: expected an object of image origins by file stem")
    return {str(stem): origin for stem, origin in origins.items() if isinstance(origin, dict)}

"""YOLO labels (``cls cx cy w h`` normalised, 6 decimals) and a ``data.yaml`` Ultralytics accepts.

``data.yaml`` names the classes and, as Ultralytics' dataset check requires, ``train`` and
``val`` (both ``images``: the export makes no split), relative to the file's own folder. An
image with an empty label file is a reviewed negative (nothing there), as in Ultralytics.
``workbench_origins.json`` says which sample, picture, image ID and status each file came from.
A value written with 6 decimals is off by up to half a unit in the last place, so a box read
back may reach ``W * 1e-6`` beyond the image (a clamped box on the right edge of a 4032 px
photo: 0.004 px); the validator allows exactly that, no more.

>>> yolo_line(0, (146, 137, 615, 415), (640, 428))
'0 0.594531 0.644860 0.732812 0.649533'
>>> tolerance((4032, 3024))
(0.004032, 0.003024)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import yaml

from workbench.errors import ExportError
from workbench.export.base import (
    ExportFormat,
    FormatOutput,
    ImageSizes,
    Problems,
    check_label,
)
from workbench.export.detection import class_names, entries_of, write_entry_images
from workbench.export.files import write_json
from workbench.export.samples import ExportSample
from workbench.export.settings import ExportSettings

DECIMALS = 6
DATA_YAML = "data.yaml"
IMAGES, LABELS = "images", "labels"
ORIGINS = "workbench_origins.json"
"""Where each image came from (sample, picture, image ID, status), by file stem: YOLO has no place for it,
Ultralytics ignores the file, and ``workbench import yolo`` makes the samples again from it."""


def tolerance(wh: tuple[int, int]) -> tuple[float, float]:
    """How far past the image a box read back may reach from rounding alone (pixels per axis)."""
    return (wh[0] / 10 ** DECIMALS, wh[1] / 10 ** DECIMALS)


def yolo_line(class_id: int, xyxy: Sequence[float], wh: tuple[int, int]) -> str:
    x1, y1, x2, y2 = xyxy
    w, h = wh
    values = ((x1 + x2) / 2 / w, (y1 + y2) / 2 / h, (x2 - x1) / w, (y2 - y1) / h)
    return f"{class_id} " + " ".join(f"{v:.{DECIMALS}f}" for v in values)


def write(samples: Sequence[ExportSample], settings: ExportSettings, folder: Path) -> FormatOutput:
    names = class_names(samples, settings.class_names)
    ids = {name: n for n, name in enumerate(names)}
    write_entry_images(samples, folder, IMAGES)
    (folder / LABELS).mkdir(parents=True, exist_ok=True)
    entries = entries_of(samples)
    for entry in entries:
        lines = [yolo_line(ids[box.label], box.coords, entry.image.wh) + "\n" for box in entry.image.boxes]
        (folder / LABELS / f"{entry.stem}.txt").write_text("".join(lines), encoding="utf-8")
    data = {"train": IMAGES, "val": IMAGES, "nc": len(names), "names": names}
    (folder / DATA_YAML).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    write_json(folder / ORIGINS, {entry.stem: entry.origin for entry in entries}, indent=None)
    usage = (f"Ultralytics: model.train(data='{folder / DATA_YAML}') (train and val are the same images: "
             "split them for a real validation).")
    return FormatOutput(len(entries), (DATA_YAML, f"{IMAGES}/", f"{LABELS}/", ORIGINS), (), usage)


def validate(folder: Path, settings: ExportSettings) -> list[str]:
    problems = Problems()
    try:
        data = yaml.safe_load((folder / DATA_YAML).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        return [f"{DATA_YAML}: cannot load it ({exc})"]
    if not isinstance(data, dict) or not {"train", "val", "names"} <= data.keys():
        return [f"{DATA_YAML}: Ultralytics needs 'train', 'val' and 'names'"]
    names = data["names"]
    if not isinstance(names, list):
        return [f"{DATA_YAML}: 'names' must be a list"]
    for name in names:
        check_label(name, problems, f"{DATA_YAML} names")
    sizes = ImageSizes(folder / IMAGES)
    images = sorted(p.name for p in (folder / IMAGES).iterdir()) if (folder / IMAGES).is_dir() else []
    labels = {p.stem for p in (folder / LABELS).glob("*.txt")}
    if {Path(name).stem for name in images} != labels:
        problems.add(f"YOLO: images and label files do not pair up ({len(images)} images, {len(labels)} labels)")
    for name in images:
        where = f"YOLO {LABELS}/{Path(name).stem}.txt"
        path = folder / LABELS / f"{Path(name).stem}.txt"
        wh = sizes(name, problems, where)
        if not wh or not path.is_file():
            continue
        tx, ty = tolerance(wh)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            try:
                class_id, cx, cy, w, h = (int(v) if i == 0 else float(v) for i, v in enumerate(line.split()))
            except ValueError:
                problems.add(f"{where} line {number}: {line!r} is not 'class cx cy w h'")
                continue
            if not 0 <= class_id < len(names):
                problems.add(f"{where} line {number}: class {class_id} has no name")
            x1, y1, x2, y2 = (cx - w / 2) * wh[0], (cy - h / 2) * wh[1], (cx + w / 2) * wh[0], (cy + h / 2) * wh[1]
            if not (-tx <= x1 <= x2 <= wh[0] + tx and -ty <= y1 <= y2 <= wh[1] + ty):
                problems.add(f"{where} line {number}: box [{x1:g}, {y1:g}, {x2:g}, {y2:g}] falls outside "
                             f"[0, {wh[0]}] x [0, {wh[1]}] by more than the {DECIMALS} decimals allow")
    return problems.result()


def write_split_yaml(folder: Path, splits: Sequence[str], names: Sequence[str]) -> tuple[str, list[str]]:
    """The ``data.yaml`` of an export written one folder per split (``train/images``, ``val/images``...): one
    class list for all of them; (usage, warnings). Without a val split Ultralytics validates on train (and
    without a train split it trains on the first split there is).

    Each split folder also holds a ``data.yaml`` of its own (it loads alone, as a one-split export).
    """
    warnings = []
    found = {split: f"{split}/{IMAGES}" for split in ("train", "val", "test") if split in splits}
    if not found:
        raise ExportError("no train, val or test split to name in data.yaml: give items a split (workbench split)")
    if "train" not in found:
        first = next(iter(found))
        found = {"train": found[first], **found}
        warnings.append(f"no train split: data.yaml trains on {first}")
    if "val" not in found:
        found["val"] = found["train"]
        warnings.append("no val split: data.yaml validates on the training images (give items the val split to "
                        "validate on others)")
    if "unsplit" in splits:
        warnings.append("items in no split were written under unsplit/, which data.yaml does not name")
    data = {**found, "nc": len(names), "names": list(names)}
    (folder / DATA_YAML).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return f"Ultralytics: model.train(data='{folder / DATA_YAML}').", warnings


FORMAT = ExportFormat("yolo", "YOLO detection (Ultralytics data.yaml)", False,
                      "normalised cx cy w h of the original image", write, validate, kinds=("box",))

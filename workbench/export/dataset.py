"""``export_dataset``: the one call the CLI and the UI make.

The files are written into ``<out_dir>/<dataset>-<format>/`` itself (so that absolute paths in
them and in the printed command are right), validated as the trainer's loader would check
them, and zipped. A failed export removes what it wrote and puts back an earlier export it
was replacing; without ``overwrite`` an earlier export is never touched. A folder without
``manifest.json`` is an export that was interrupted.

**Splits.** ``ExportSettings.splits`` chooses the splits exported (default: every one). When the items
exported have splits, each split is written as a complete export of its own in a folder named after it
(``train/``, ``val/``, ``test/``; items in no split under ``unsplit/``), validated alone — one data file
per split for the trainer formats, one COCO file per split, and for YOLO one ``data.yaml`` at the top
naming ``train``/``val``/``test`` with one class list; the top ``manifest.json`` lists the splits with
their counts. The workbench format stays one file and records each item's split.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from workbench.errors import ExportError
from workbench.export.base import MANIFEST_NAME, ExportFormat
from workbench.export.files import write_json, zip_folder
from workbench.export.manifest import build_manifest, limits_warning
from workbench.export.registry import get_format
from workbench.export.samples import Carried, carry, export_samples, labels_of
from workbench.export.settings import ExportSettings
from workbench.export.workbench_format import write_raw
from workbench.export.yolo import write_split_yaml
from workbench.store import SPLITS, DatasetRef, DatasetStore, Item, utc_now

__all__ = ["ExportResult", "export_dataset"]


@dataclass(frozen=True)
class ExportResult:
    folder: Path
    zip_path: Path
    manifest: dict[str, Any]
    warnings: tuple[str, ...]


_PLURAL = {"box": "boxes", "point": "points"}
UNSPLIT = "unsplit"
"""The folder of the items in no split, in an export written by split."""


class NothingToExport(ExportError):
    """Every entry of the (part of the) export would be empty."""


def _carry_report(fmt: ExportFormat, settings: ExportSettings, carried: Carried) -> list[str]:
    unit = "images" if not fmt.multi_image else "samples"
    kept = " and ".join(_PLURAL[kind] for kind in fmt.carried_kinds(settings)) or "nothing"
    task = f" for the {settings.task!r} task" if fmt.questions else ""
    lines = [f"{count} {_PLURAL.get(kind, kind)} left out: this {fmt.name} export{task} carries {kept}"
             for kind, count in carried.left_out.items()]
    if carried.skipped_dropped:
        lines.append(f"{carried.skipped_dropped} {unit} skipped: every annotation they had was of a kind this "
                     "export leaves out (they are not negatives: something is there)")
    if carried.skipped_empty:
        lines.append(f"{carried.skipped_empty} {unit} skipped: no annotation with the exported review statuses "
                     f"({', '.join(settings.statuses)}); export with negatives to keep them as explicit negatives")
    return lines


def _write(fmt: ExportFormat, name: str, samples: list[Item], settings: ExportSettings, folder: Path,
           warnings: list[str]) -> dict[str, Any]:
    if fmt.name == "workbench":
        output = write_raw(name, samples, settings, folder)
        exported: tuple = ()
        carried = None
    else:
        carried = carry(export_samples(samples, warnings), fmt.carried_kinds(settings),
                        per_image=not fmt.multi_image, negatives=settings.negatives)
        report = _carry_report(fmt, settings, carried)
        warnings.extend(report)
        if not carried.samples:
            raise NothingToExport(f"nothing to export as {fmt.name}: " + "; ".join(report))
        exported = carried.samples
        if settings.negatives:  # what a negative's question asks for: the labels this export teaches
            settings = replace(settings, negative_labels={kind: tuple(labels_of(exported, (kind,)))
                                                          for kind in fmt.carried_kinds(settings)})
        output = fmt.write(exported, settings, folder)
    warnings.extend(output.warnings)
    if fmt.name == "qwen_finetune" and (warning := limits_warning(settings)):
        warnings.append(warning)
    manifest = build_manifest(fmt, name, settings, exported, output, warnings, settings.created_at or utc_now(),
                              carried)
    write_json(folder / MANIFEST_NAME, manifest)
    problems = fmt.validate(folder, settings)
    if problems:
        raise ExportError(f"the {fmt.name} export would not load in its trainer:\n  " + "\n  ".join(problems[:10]))
    return manifest


def _by_split(samples: list[Item]) -> dict[str, list[Item]]:
    """The samples per split folder name, in the order train, val, test, unsplit."""
    groups: dict[str, list[Item]] = {}
    for sample in samples:
        groups.setdefault(sample.split or UNSPLIT, []).append(sample)
    return {name: groups[name] for name in (*SPLITS, UNSPLIT) if name in groups}


def _write_splits(fmt: ExportFormat, name: str, groups: dict[str, list[Item]], settings: ExportSettings,
                  folder: Path, warnings: list[str]) -> dict[str, Any]:
    """One complete export per split folder, one class list for all; the top manifest lists them."""
    every = [sample for samples in groups.values() for sample in samples]
    classes = tuple(labels_of(export_samples(every, []), kinds=("box",)))
    split_settings = replace(settings, class_names=classes)
    parts: dict[str, dict[str, Any]] = {}
    for split, samples in groups.items():
        part, said = folder / split, list[str]()
        part.mkdir()
        try:
            manifest = _write(fmt, name, samples, split_settings, part, said)
        except NothingToExport as exc:
            shutil.rmtree(part)
            warnings.append(f"{split}: left out, {exc}")
            continue
        manifest["split"] = split
        write_json(part / MANIFEST_NAME, manifest)
        warnings.extend(f"{split}: {w}" for w in said)
        parts[split] = manifest
    if not parts:
        raise ExportError(f"nothing to export as {fmt.name} in any split: " + "; ".join(warnings))
    usage = "\n".join(f"{split}: {m['usage']}" for split, m in parts.items())
    if fmt.name == "yolo":
        usage, said = write_split_yaml(folder, list(parts), classes)
        warnings.extend(said)
    counts: dict[str, int] = {}
    for manifest in parts.values():
        for key, value in manifest["counts"].items():
            counts[key] = counts.get(key, 0) + value
    first = next(iter(parts.values()))
    root: dict[str, Any] = {key: first[key] for key in ("format", "title", "dataset", "created_at", "workbench_version", "family",
                                        "coordinates", "trainer_pixel_limits", "review_statuses") if key in first}
    root |= {"layout": "one folder per split", "splits": {split: {"folder": split, "counts": m["counts"],
                                                                   "usage": m["usage"]} for split, m in parts.items()},
             "counts": counts, "usage": usage, "warnings": list(warnings)}
    if fmt.name == "yolo":
        root["files"] = ["data.yaml", *parts]
    write_json(folder / MANIFEST_NAME, root)
    return root


def export_dataset(store: DatasetStore, dataset: DatasetRef, format: str, settings: ExportSettings,
                   out_dir: str | os.PathLike, *, overwrite: bool = False) -> ExportResult:
    """Write ``dataset`` in ``format`` to ``out_dir/<dataset>-<format>/`` and ``…/<dataset>-<format>.zip``."""
    fmt = get_format(format)
    record = store.dataset(dataset)
    out = Path(os.path.abspath(Path(out_dir).expanduser()))  # absolute (paths in files, commands), links kept
    folder, zip_path = out / f"{record.name}-{fmt.name}", out / f"{record.name}-{fmt.name}.zip"
    if not overwrite and (folder.exists() or zip_path.exists()):
        raise ExportError(f"{folder} or {zip_path.name} already exists; choose another folder or overwrite")
    samples = store.items(record, statuses=settings.statuses)
    if settings.splits:
        samples = [sample for sample in samples if sample.split in settings.splits]
    if not samples:
        counts = ", ".join(f"{n} {status}" for status, n in record.counts.items() if n) or "no items"
        where = f" in {' or '.join(s or 'no split' for s in settings.splits)}" if settings.splits else ""
        raise ExportError(f"dataset {record.name!r} has no {' or '.join(settings.statuses)} items{where} to export "
                          f"({counts}); accept items in the review queue, or choose other statuses or splits")
    groups = _by_split(samples)
    by_split = fmt.name != "workbench" and set(groups) != {UNSPLIT}
    previous = out / f".{folder.name}.previous-{os.getpid()}"
    warnings: list[str] = []
    try:
        out.mkdir(parents=True, exist_ok=True)
        if folder.exists():
            os.replace(folder, previous)
        try:
            folder.mkdir()
            if by_split:
                manifest = _write_splits(fmt, record.name, groups, settings, folder, warnings)
            else:
                manifest = _write(fmt, record.name, samples, settings, folder, warnings)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            if previous.exists():
                os.replace(previous, folder)
            raise
    except OSError as exc:
        raise ExportError(f"could not write the export to {out} ({exc})") from None
    shutil.rmtree(previous, ignore_errors=True)
    try:
        zip_path.unlink(missing_ok=True)
        zip_folder(folder, zip_path)
    except OSError as exc:
        raise ExportError(f"wrote {folder} but could not zip it ({exc})") from None
    return ExportResult(folder, zip_path, manifest, tuple(warnings))

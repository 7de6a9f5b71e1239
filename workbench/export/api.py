"""``export_dataset``: the one call the CLI and the UI make.

The files are written into a hidden staging folder, validated as the trainer's loader would
check them, and only then moved into place and zipped: a failed export leaves nothing behind
and never touches an earlier export unless ``overwrite`` is set.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.errors import ExportError
from workbench.export.base import MANIFEST_NAME
from workbench.export.files import write_json, zip_folder
from workbench.export.manifest import build_manifest, limits_warning
from workbench.export.registry import get_format
from workbench.export.samples import export_samples
from workbench.export.settings import ExportSettings
from workbench.export.workbench_format import write_raw
from workbench.store import DatasetRef, DatasetStore, utc_now

__all__ = ["ExportResult", "export_dataset"]


@dataclass(frozen=True)
class ExportResult:
    folder: Path
    zip_path: Path
    manifest: dict[str, Any]
    warnings: tuple[str, ...]


def export_dataset(store: DatasetStore, dataset: DatasetRef, format: str, settings: ExportSettings,
                   out_dir: str | os.PathLike, *, overwrite: bool = False) -> ExportResult:
    """Write ``dataset`` in ``format`` to ``out_dir/<dataset>-<format>/`` and ``…/<dataset>-<format>.zip``."""
    fmt = get_format(format)
    record = store.dataset(dataset)
    out = Path(out_dir)
    folder, zip_path = out / f"{record.name}-{fmt.name}", out / f"{record.name}-{fmt.name}.zip"
    if not overwrite and (folder.exists() or zip_path.exists()):
        raise ExportError(f"{folder} or {zip_path.name} already exists; choose another folder or overwrite")
    samples = store.items(record, statuses=settings.statuses)
    if not samples:
        counts = ", ".join(f"{n} {status}" for status, n in record.counts.items() if n) or "no items"
        raise ExportError(f"dataset {record.name!r} has no {' or '.join(settings.statuses)} items to export "
                          f"({counts}); accept items in the review queue, or choose other statuses")
    staging = out / f".{folder.name}.partial-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    warnings: list[str] = []
    try:
        staging.mkdir(parents=True)
        exported = export_samples(samples, warnings)
        if fmt.name == "workbench":
            output = write_raw(record.name, samples, settings, staging)
        else:
            output = fmt.write(exported, settings, staging)
        warnings.extend(output.warnings)
        if fmt.name == "qwen_finetune" and (warning := limits_warning(settings)):
            warnings.append(warning)
        manifest = build_manifest(fmt, record.name, settings, exported, output, warnings,
                                  settings.created_at or utc_now())
        write_json(staging / MANIFEST_NAME, manifest)
        problems = fmt.validate(staging, settings)
        if problems:
            raise ExportError(f"the {fmt.name} export would not load in its trainer:\n  " + "\n  ".join(problems[:10]))
        if overwrite:
            shutil.rmtree(folder, ignore_errors=True)
            zip_path.unlink(missing_ok=True)
        os.replace(staging, folder)
    except OSError as exc:
        raise ExportError(f"could not write the export to {out} ({exc})") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    try:
        zip_folder(folder, zip_path)
    except OSError as exc:
        raise ExportError(f"wrote {folder} but could not zip it ({exc})") from None
    return ExportResult(folder, zip_path, manifest, tuple(warnings))

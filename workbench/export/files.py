"""Writing an export folder: JSON/JSONL files, image copies, the zip beside the folder.

>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> write_jsonl(folder / "a.jsonl", [{"x": 1}, {"y": "é"}])
>>> (folder / "a.jsonl").read_text(encoding="utf-8")
'{"x": 1}\\n{"y": "é"}\\n'
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from grounding import read_image_size
from workbench.export.samples import ExportSample

__all__ = ["copy_images", "copy_upright", "write_json", "write_jsonl", "zip_folder"]

_STORED = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".zip", ".arrow", ".parquet"}


def write_json(path: Path, doc: Any, *, indent: int | None = 2) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as out:
        json.dump(doc, out, ensure_ascii=False, indent=indent)
        out.write("\n")


def write_jsonl(path: Path, rows: Iterable[Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False))
            out.write("\n")


def copy_upright(source: str | os.PathLike, target: Path) -> None:
    """Copy an image so that its pixels are upright: EXIF-rotated files are transposed and lose the tag.

    Annotations are in upright (displayed) pixels, while trainers open files with plain PIL and no
    ``exif_transpose`` (qwen-vl-finetune, LLaMA-Factory, qwen-vl-utils): a rotated phone photo copied
    byte for byte would train on boxes of the other orientation. Upright files are copied unchanged.
    """
    if read_image_size(source).orientation == 1:
        shutil.copyfile(source, target)
        return
    with Image.open(source) as image:
        fmt = image.format or "PNG"
        fmt = "JPEG" if fmt == "MPO" else fmt  # phone photos are often MPO: JPEG with a preview image
        upright = ImageOps.exif_transpose(image)  # also drops the Orientation tag from its EXIF
        options: dict[str, Any] = {"exif": upright.getexif().tobytes()}
        if fmt == "JPEG":
            options.update(quality=95, subsampling=0)
            upright = upright.convert("RGB") if upright.mode not in ("RGB", "L", "CMYK") else upright
        upright.save(target, fmt, **options)


def copy_images(samples: Iterable[ExportSample], folder: Path, *, per_entry: bool = False,
                subdir: str = "images") -> int:
    """Copy each distinct image once (``file``), or once per sample image (``entry_name``); returns files written."""
    target_dir = folder / subdir
    target_dir.mkdir(parents=True, exist_ok=True)
    written: set[str] = set()
    for sample in samples:
        for image in sample.images:
            name = image.entry_name if per_entry else Path(image.file).name
            if name in written:
                continue
            copy_upright(image.source, target_dir / name)
            written.add(name)
    return len(written)


def zip_folder(folder: Path, zip_path: Path) -> Path:
    """Zip ``folder`` (paths inside start with the folder's name); images stored, text deflated."""
    tmp = zip_path.with_name(zip_path.name + ".partial")
    with zipfile.ZipFile(tmp, "w") as archive:
        for root, dirs, files in os.walk(folder):
            dirs.sort()
            for name in sorted(files):
                path = Path(root) / name
                compress = zipfile.ZIP_STORED if path.suffix.lower() in _STORED else zipfile.ZIP_DEFLATED
                archive.write(path, path.relative_to(folder.parent).as_posix(), compress_type=compress,
                              compresslevel=1 if compress == zipfile.ZIP_DEFLATED else None)
    os.replace(tmp, zip_path)
    return zip_path

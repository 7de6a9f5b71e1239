"""Writing an export folder: JSON/JSONL files, image copies, the zip beside the folder.

>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> write_jsonl(folder / "a.jsonl", [{"x": 1}, {"y": "é"}])
>>> (folder / "a.jsonl").read_text(encoding="utf-8")
'{"x": 1}\\n{"y": "é"}\\n'
"""

from __future__ import annotations

import io
import json
import os
import shutil
import zipfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from grounding import ImageSize, read_image_size
from grounding.decode import needs_rgb8, rgb8
from workbench.export.samples import ExportImage, ExportSample
from workbench.store.blobs import keep_upright, kept_upright, needs_upright
from workbench.store.lossless import rotate_upright

__all__ = ["copy_images", "copy_upright", "encode_upright", "export_name", "upright_bytes", "write_json", "write_jsonl",
           "zip_folder"]

_WRITABLE = {"JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF"}
_STORED = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".zip", ".arrow", ".parquet"}


def write_json(path: Path, doc: Any, *, indent: int | None = 2) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # json.dumps runs the C encoder; json.dump to a file runs the pure-Python one (several times slower)
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=indent) + "\n", encoding="utf-8")


def write_jsonl(path: Path, rows: Iterable[Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False))
            out.write("\n")


def _plain(size: ImageSize, as_jpeg: bool, data: bytes | None = None) -> bool:
    """True when a file of this header serves as it is (upright, a JPEG where one is asked for, and 8-bit pixels
    a plain ``convert("RGB")`` reads as shown: not 16-bit grey, see :func:`grounding.decode.rgb8`)."""
    return size.orientation == 1 and (size.format in ("JPEG", "MPO") or not as_jpeg) and \
        (data is None or not needs_rgb8(data))


def encode_upright(source: str | os.PathLike[str], *, as_jpeg: bool = False) -> bytes | None:
    """The bytes to write for ``source``: None when the file serves as it is, else a new copy.

    Annotations are in upright (displayed) pixels, while trainers open files with plain PIL and no
    ``exif_transpose`` (qwen-vl-finetune, LLaMA-Factory, qwen-vl-utils): a rotated phone photo copied
    byte for byte would train on boxes of the other orientation. So an EXIF-rotated JPEG is turned
    upright in the DCT domain (:func:`~workbench.store.lossless.rotate_upright`: lossless, its
    Orientation tag reset); any other rotated file, or a JPEG jpegtran cannot turn perfectly, is
    transposed and re-encoded in its own format (JPEG at quality 95, 4:4:4; MPO phone photos as
    JPEG). Pixels a plain ``convert("RGB")`` would clip (16-bit grey, 32-bit, float) are written as
    the 8-bit RGB the reviewer saw (:func:`grounding.decode.rgb8`). ``as_jpeg`` also re-encodes
    other formats as JPEG (Pascal VOC's ``JPEGImages``). Only the header is read to decide.

    A stored image's lossless turn is kept beside it (:func:`workbench.store.blobs.keep_upright`,
    made when the image was stored, or here the first time for an image stored before): this
    returns that copy's bytes, and jpegtran runs once per photo, not once per export.
    """
    return _encode(Path(source).read_bytes(), as_jpeg=as_jpeg, source=source)


def _encode(data: bytes, *, as_jpeg: bool = False, source: str | os.PathLike[str] | None = None) -> bytes | None:
    size = read_image_size(data)
    wide = needs_rgb8(data)
    if _plain(size, as_jpeg) and not wide:
        return None
    if needs_upright(size):
        turned = rotate_upright(data, size.orientation) if source is None else keep_upright(source, data, size)
        if turned is not None:
            return turned
    fmt = "JPEG" if size.format == "MPO" else size.format  # phone photos: JPEG with a preview image
    upright: Image.Image
    with Image.open(io.BytesIO(data)) as image:
        if size.orientation == 1:  # no transpose, the EXIF block kept as it is
            upright, exif = image, image.info.get("exif")
        else:
            upright = ImageOps.exif_transpose(image)  # also drops the Orientation tag from its EXIF
            exif = upright.getexif().tobytes()
        if wide:
            upright = rgb8(upright)  # the pixels the reviewer saw, not the ones a plain convert clips
        fmt = "JPEG" if as_jpeg else (fmt if fmt in _WRITABLE else "PNG")
        options: dict[str, Any] = {"exif": exif} if exif else {}
        if fmt == "JPEG":
            options.update(quality=95, subsampling=0)
            upright = upright.convert("RGB") if upright.mode not in ("RGB", "L", "CMYK") else upright
        buffer = io.BytesIO()
        upright.save(buffer, fmt, **options)
    return buffer.getvalue()


def copy_upright(source: str | os.PathLike[str], target: Path, *, as_jpeg: bool = False) -> None:
    """Copy an image so that its pixels are upright (see :func:`encode_upright`); upright files unchanged."""
    data = encode_upright(source, as_jpeg=as_jpeg)
    if data is None:
        shutil.copyfile(source, target)
    else:
        target.write_bytes(data)


def upright_bytes(source: str | os.PathLike[str]) -> bytes:
    """The upright image's bytes in its own format (the file's own bytes when it is upright already; a stored
    photo's kept upright copy when it has one)."""
    kept = kept_upright(source)
    if kept is not None:
        return kept
    data = Path(source).read_bytes()
    encoded = _encode(data, source=source)
    return data if encoded is None else encoded


def export_name(image: ExportImage, *, per_entry: bool = False, as_jpeg: bool = False) -> str:
    """An image's file name in an export: by content (``file``), or one per sample image (``entry_name``)."""
    name = image.entry_name if per_entry else Path(image.file).name
    return str(Path(name).with_suffix(".jpg")) if as_jpeg else name


def copy_images(samples: Iterable[ExportSample], folder: Path, *, per_entry: bool = False,
                subdir: str = "images", as_jpeg: bool = False) -> int:
    """Copy each distinct image once (``file``), or once per sample image (``entry_name``); returns files written.

    A rotated photo's kept upright copy (:func:`workbench.store.blobs.kept_upright`) is copied like
    any plain file. Files that must be turned or re-encoded (a photo without its copy yet, VOC's
    JPEGs of other formats, 16-bit pictures) go to one worker per core as soon as they are met,
    while this thread copies the plain files: the copies never wait behind an encode, and jpegtran,
    Pillow's codecs and its transposes run outside the GIL, so the encodes use every core.
    """
    target_dir = folder / subdir
    target_dir.mkdir(parents=True, exist_ok=True)
    jobs: dict[str, Path] = {}
    for sample in samples:
        for image in sample.images:
            jobs.setdefault(export_name(image, per_entry=per_entry, as_jpeg=as_jpeg), image.source)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        encodes = []
        for name, source in jobs.items():
            kept = kept_upright(source)  # a phone photo turned once, when it was stored
            data = Path(source).read_bytes() if kept is None else kept  # one read: the header check and the copy
            if _plain(read_image_size(data), as_jpeg, data):
                (target_dir / name).write_bytes(data)
            else:
                encodes.append(pool.submit(copy_upright, source, target_dir / name, as_jpeg=as_jpeg))
        for done in encodes:
            done.result()  # raises what an encode raised
    return len(jobs)


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

"""Turn uploaded files into :class:`ImageEntry` objects with a display copy for the browser.

The display copy is EXIF-transposed (so the browser shows what the model is given), converted
to RGB and at most ``max_side`` pixels on its long side; the original file is never changed.
A file that is not a readable image raises :class:`UploadError` with the reason, and nothing
else is affected.

Before anything is decoded, the file is held to the deployment's limits
(:class:`~workbench.deployment.ResourceLimits`): bytes and decoded pixels per upload, read from
the header, and, with ``keep_dir``, the budget of the whole session (what its kept originals
already cost). Copies are written under a temporary name and renamed, so a full disk never
leaves a truncated original or display copy behind to poison a later upload of the same file.

>>> import tempfile, pathlib
>>> from PIL import Image
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> Image.new("RGB", (4000, 1000)).save(folder / "wide.png")
>>> entry = load_upload(folder / "wide.png", folder / "display", max_side=1000)
>>> entry.original_wh, entry.display_wh
((4000, 1000), (1000, 250))
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from PIL import Image

from grounding import ImageReadError
from grounding.decode import decode_upright
from grounding.display import DisplayScale
from workbench.deployment import ResourceLimits
from workbench.errors import WorkbenchError
from workbench.files import ImageLimitError, check_image_file, session_usage
from workbench.store.faults import write_failure
from workbench.tryit.image_set import ImageEntry

__all__ = ["UploadError", "load_upload", "DISPLAY_MAX_SIDE"]

DISPLAY_MAX_SIDE = 1600
"""Long side of the copies sent to the browser (editor and drawn results)."""


class UploadError(WorkbenchError):
    """An uploaded file that cannot be used as an image."""


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            sha.update(chunk)
    return sha.hexdigest()[:16]


def _copy_atomically(source: Path, target: Path, label: str) -> None:
    """``source`` to ``target`` through a temporary name: ``target`` is whole or absent."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UploadError(f"{label}: not added, {write_failure(exc)}") from None


def load_upload(path: str | os.PathLike, display_dir: str | os.PathLike, *, max_side: int = DISPLAY_MAX_SIDE,
                name: str | None = None, keep_dir: str | os.PathLike | None = None,
                limits: ResourceLimits | None = None) -> ImageEntry:
    """Check the limits, read the header, decode once for the display copy; an entry without an ID yet.

    With ``keep_dir`` the original is copied there first (content-named), so the session does not
    depend on the upload cache of the web framework; the session's budget is what ``keep_dir`` holds.
    ``limits``: the deployment's (the page passes them); the built-in bounds when not given.
    """
    path = Path(path)
    label = name or path.name
    limits = limits or ResourceLimits()  # the built-in bounds; entry points pass the deployment's
    try:
        size = check_image_file(path, limits, name=label)
    except ImageLimitError as exc:
        raise UploadError(str(exc)) from None
    if keep_dir is not None:
        kept = Path(keep_dir) / f"{_digest(path)}{path.suffix.lower()}"
        if not kept.exists():
            held = sorted(p for p in Path(keep_dir).glob("*") if not p.name.startswith(".")) if Path(keep_dir).is_dir() else []
            try:
                session_usage(held).check_room(path.stat().st_size, size.width * size.height, limits, label)
            except ImageLimitError as exc:
                raise UploadError(str(exc)) from None
            _copy_atomically(path, kept, label)
        path = kept
    scale = DisplayScale.fit(size.wh, max_side)
    display_dir = Path(display_dir)
    target = display_dir / f"{_digest(path)}_{scale.display_wh[0]}x{scale.display_wh[1]}.jpg"
    if not target.exists():
        try:
            # a JPEG is decoded at 1/2, 1/4 or 1/8 scale when that is still larger than the copy
            shown = decode_upright(path, scale.display_wh, resize_to=scale.display_wh, resample=Image.Resampling.LANCZOS)
        except ImageReadError as exc:
            raise UploadError(f"{label}: the image data is damaged or truncated ({str(exc).split(': ', 1)[-1]})") from None
        tmp = target.with_name(f".{target.name}.{os.getpid()}.partial")
        try:
            display_dir.mkdir(parents=True, exist_ok=True)
            shown.save(tmp, "JPEG", quality=90)
            os.replace(tmp, target)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise UploadError(f"{label}: not added, {write_failure(exc)}") from None
    return ImageEntry(
        image_id="",
        name=label,
        path=str(path),
        original_wh=size.wh,
        display_path=str(target),
        display_wh=scale.display_wh,
    )

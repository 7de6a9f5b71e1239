"""Label Studio JSON export -> a dataset: one single-image sample per task (or per exported sample).

Tasks this project exported (``data`` with ``sample`` and ``picture``) become their multi-image
samples again, with the ``status`` they had. Rectangles (``rectanglelabels``, x/y/width/height in
percent) become boxes and keypoints
(``keypointlabels``) points, in original pixels of the upright image. A task's latest
annotation that was not cancelled is ground truth (``human``, ``accepted``); its predictions
are model proposals (``model``, ``pending``, the ``model_version`` as the model). Other
result types (polygons, text...) are counted and left out; a rotated rectangle becomes the
box around it.

Images: ``data.image`` may be a path relative to the JSON file or to ``images_dir``, Label
Studio's local-files URL (``/data/local-files/?d=...``, under ``images_dir``) or an uploaded
file (``/data/upload/<project>/<prefix>-<name>``, found in ``images_dir`` by its stored or its
original name). Web URLs are not downloaded: put the files in a folder and pass it. An image outside
those folders (an absolute path, ``../``, ``?d=../``, a link out) is refused unless ``allow_outside``.

>>> box_from_percent({"x": 10, "y": 10, "width": 40, "height": 40}, (640, 480))
(64.0, 48.0, 320.0, 240.0)
>>> [round(v, 6) for v in box_from_percent({"x": 50, "y": 0, "width": 10, "height": 20, "rotation": 90}, (100, 100))]
[30.0, 0.0, 50.0, 10.0]
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from grounding import clamp_to
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
from workbench.store import ITEM_STATUSES, AnnotationDraft, DatasetStore

__all__ = ["box_from_percent", "import_labelstudio"]


def box_from_percent(value: dict, wh: tuple[int, int]) -> tuple[float, ...]:
    """Label Studio's rectangle (percent, rotated about its top-left corner) -> xyxy pixels around it."""
    W, H = wh
    x, y, w, h = (float(value[k]) for k in ("x", "y", "width", "height"))
    x, y, w, h = x * W / 100, y * H / 100, w * W / 100, h * H / 100
    angle = math.radians(float(value.get("rotation") or 0))
    cos, sin = math.cos(angle), math.sin(angle)
    points = [(x + dx * cos - dy * sin, y + dx * sin + dy * cos) for dx, dy in ((0, 0), (w, 0), (w, h), (0, h))]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return tuple(clamp_to((min(xs), min(ys), max(xs), max(ys)), wh))


def _image_path(value: str, base: Path, images_dir: Path | None, where: str, folder: ImportFolder) -> Path:
    parsed = urlparse(value)
    if parsed.scheme in ("http", "https", "s3", "gs"):
        raise DatasetImportError(f"{where}: image {value!r} is a web address; download the images into a folder "
                                 "and pass it as the images folder")
    if parsed.path.startswith("/data/local-files/"):
        candidates = [unquote(parse_qs(parsed.query).get("d", [""])[0])]
    elif parsed.path.startswith("/data/upload/"):  # stored as "<8 hex>-<original name>"
        name = Path(unquote(parsed.path)).name
        candidates = [name] + ([name.split("-", 1)[1]] if "-" in name else [])
    else:
        candidates = [unquote(value)]
    roots = [r for r in (images_dir, base) if r is not None]
    outside = None
    for candidate in candidates:
        for root in roots:
            for path in (root / candidate, root / Path(candidate).name):
                if path.is_file():
                    if folder.contains(path):
                        return path
                    outside = outside or path  # an absolute path, ../, a link out: only with allow_outside
    if outside is not None:
        folder.check(outside, where)
    raise DatasetImportError(f"{where}: image {value!r} not found under {', '.join(str(r) for r in roots)}")


def _labels(value: dict, kind: str) -> list[str]:
    labels = value.get(kind)
    return [str(label) for label in labels] if isinstance(labels, list) else []


def _drafts(results: list, wh: tuple[int, int], where: str, skipped: dict[str, int], rotated: list[int],
            **options: object) -> list[AnnotationDraft]:
    drafts = []
    for result in results if isinstance(results, list) else []:
        kind, value = result.get("type"), result.get("value") or {}
        labels = _labels(value, kind) if kind in ("rectanglelabels", "keypointlabels") else []
        if not labels:
            skipped[str(kind)] = skipped.get(str(kind), 0) + 1
            continue
        try:
            if kind == "rectanglelabels":
                rotated[0] += bool(value.get("rotation"))
                drafts.append(draft("box", box_from_percent(value, wh), labels[0], where, **options))
            else:
                xy = (float(value["x"]) * wh[0] / 100, float(value["y"]) * wh[1] / 100)
                drafts.append(draft("point", clamp_to(xy, wh), labels[0], where, **options))
        except (KeyError, TypeError, ValueError) as exc:
            raise DatasetImportError(f"{where}: {kind} without its x/y/width/height ({exc})") from None
    return drafts


def import_labelstudio(store: DatasetStore, dataset: str, tasks_json: str | os.PathLike, *,
                       images_dir: str | os.PathLike | None = None, status: str | None = None,
                       allow_outside: bool = False) -> ImportReport:
    """Import a Label Studio JSON export into ``dataset`` (created if missing).

    Images are read from ``images_dir`` and the JSON's folder only (:class:`ImportFolder`), unless
    ``allow_outside``.
    """
    path = Path(tasks_json)
    try:
        tasks = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DatasetImportError(f"{path}: cannot read it as JSON ({exc})") from None
    if isinstance(tasks, dict):
        tasks = [tasks]
    if not isinstance(tasks, list) or not all(isinstance(t, dict) and isinstance(t.get("data"), dict) for t in tasks):
        raise DatasetImportError(f"{path}: not a Label Studio export (a list of tasks with 'data')")
    images = Path(images_dir) if images_dir is not None else None
    folder = ImportFolder(path.parent, images, allow_outside=allow_outside)
    skipped: dict[str, int] = {}
    rotated = [0]
    warnings: list[str] = []
    pictures: list[Picture] = []
    for n, task in enumerate(tasks, 1):
        where = f"{path.name} task {task.get('id', n)}"
        data = task["data"]
        value = data.get("image") or next((v for v in data.values() if isinstance(v, str)), None)
        if not isinstance(value, str):
            raise DatasetImportError(f"{where}: no image in its data")
        image = _image_path(value, path.parent, images, where, folder)
        wh = image_wh(image, where)
        done = [a for a in task.get("annotations") or task.get("completions") or []
                if isinstance(a, dict) and not a.get("was_cancelled")]
        if len(done) > 1:
            warnings.append(f"{where}: {len(done)} annotations; kept the latest")
        done.sort(key=lambda a: str(a.get("updated_at") or a.get("created_at") or ""))
        drafts = _drafts(done[-1].get("result", []), wh, where, skipped, rotated, provenance="human") if done else []
        for prediction in task.get("predictions") or []:
            if isinstance(prediction, dict):
                drafts += _drafts(prediction.get("result", []), wh, where, skipped, rotated, provenance="model",
                                  model=prediction.get("model_version") or None)
        kept = data.get("status") if data.get("status") in ITEM_STATUSES else ("accepted" if done else None)
        sample, picture = data.get("sample"), data.get("picture")
        grouped = isinstance(sample, int) and isinstance(picture, int)  # this project's export: one task per picture
        pictures.append(Picture(ImportImage(image, str(data.get("image_id") or image.stem), tuple(drafts)),
                                str(data.get("prompt") or ""), kept, sample=sample if grouped else None,
                                picture=picture if grouped else 1))
    warnings += [f"{count} {kind} results left out (only rectangles and keypoints are imported)"
                 for kind, count in skipped.items()]
    if rotated[0]:
        warnings.append(f"{rotated[0]} rotated rectangles imported as the upright boxes around them")
    return write_samples(store, dataset, regroup(pictures), warnings=warnings, status=status)

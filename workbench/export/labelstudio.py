"""Label Studio tasks: reviewed boxes under ``annotations``, model proposals under ``predictions``.

One task per sample image (Label Studio's image tag holds one image), every picture of a sample
(an empty one too, so the numbers stay right); the prompt, the image's sample/picture/ID and the
item's review status go into ``data``, and ``workbench import labelstudio`` makes the samples again. Objects a person drew, edited or accepted are
ground truth and go into the task's ``annotations``; model detections still pending review
go into ``predictions``, which Label Studio shows as pre-annotations. Rectangles and keypoints
are in percent of the original image. ``label_config.xml`` sets up a matching project.
Image URLs are relative to the export folder: serve it as local storage, or prefix them.

>>> percent_box((64, 48, 320, 240), (640, 480))
{'x': 10.0, 'y': 10.0, 'width': 40.0, 'height': 40.0}
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import quoteattr

from workbench.export.base import (
    ExportFormat,
    FormatOutput,
    ImageSizes,
    Problems,
    check_label,
    load_json,
)
from workbench.export.files import copy_images, write_json
from workbench.export.samples import ExportImage, ExportObject, ExportSample, labels_of
from workbench.export.settings import ExportSettings

TASKS = "tasks.json"
CONFIG = "label_config.xml"
_LABELS = {"rectanglelabels": "RectangleLabels", "keypointlabels": "KeyPointLabels"}


def percent_box(xyxy: Sequence[float], wh: tuple[int, int]) -> dict[str, float]:
    x1, y1, x2, y2 = xyxy
    w, h = wh
    return {"x": 100 * x1 / w, "y": 100 * y1 / h, "width": 100 * (x2 - x1) / w, "height": 100 * (y2 - y1) / h}


def label_config(labels: Sequence[str]) -> str:
    items = "".join(f"    <Label value={quoteattr(label)}/>\n" for label in labels)
    return ("<View>\n  <Image name=\"image\" value=\"$image\"/>\n  <Text name=\"prompt\" value=\"$prompt\"/>\n"
            f"  <RectangleLabels name=\"label\" toName=\"image\">\n{items}  </RectangleLabels>\n"
            f"  <KeyPointLabels name=\"point\" toName=\"image\">\n{items}  </KeyPointLabels>\n</View>\n")


def _result(obj: ExportObject, image: ExportImage, result_id: str) -> dict:
    w, h = image.wh
    common = {"id": result_id, "to_name": "image", "original_width": w, "original_height": h, "image_rotation": 0}
    if obj.score is not None and not obj.reviewed:  # a prediction's region score
        common["score"] = obj.score
    if obj.kind == "box":
        value = percent_box(obj.coords, image.wh) | {"rotation": 0, "rectanglelabels": [obj.label]}
        return common | {"from_name": "label", "type": "rectanglelabels", "value": value}
    value = {"x": 100 * obj.coords[0] / w, "y": 100 * obj.coords[1] / h, "width": 0.5, "keypointlabels": [obj.label]}
    return common | {"from_name": "point", "type": "keypointlabels", "value": value}


def to_tasks(samples: Sequence[ExportSample], settings: ExportSettings) -> list[dict]:
    tasks = []
    for sample in samples:
        for image in sample.images:
            results = [(obj.reviewed, _result(obj, image, f"s{sample.position}-{image.position}-{n}"))
                       for n, obj in enumerate(image.objects, 1)]
            reviewed = [result for done, result in results if done]
            proposed = [result for done, result in results if not done]
            looked_at = reviewed or (not image.objects and sample.status == "accepted")  # a reviewed empty picture
            task: dict = {"data": {"image": image.file, "prompt": sample.prompt, "sample": sample.position,
                                   "picture": image.position, "image_id": image.image_id, "status": sample.status},
                          "annotations": [{"result": reviewed}] if looked_at else [],
                          "predictions": []}
            if proposed:
                scores = [r["score"] for r in proposed if "score" in r]
                task["predictions"] = [{"model_version": f"grounding-workbench/{settings.family.name}",
                                        **({"score": min(scores)} if scores else {}), "result": proposed}]
            tasks.append(task)
    return tasks


def write(samples: Sequence[ExportSample], settings: ExportSettings, folder: Path) -> FormatOutput:
    tasks = to_tasks(samples, settings)
    copy_images(samples, folder)
    write_json(folder / TASKS, tasks)
    (folder / CONFIG).write_text(label_config(labels_of(samples)), encoding="utf-8")
    return FormatOutput(len(tasks), (TASKS, CONFIG, "images/"), (),
                        f"Create a Label Studio project with the labelling config {folder / CONFIG} and import "
                        f"{folder / TASKS}; image paths are relative to {folder} (serve it as local storage).")


def _config_labels(folder: Path, problems: Problems) -> dict[str, set[str]]:
    """Label values per control tag, as Label Studio parses the config (an XML document)."""
    try:
        root = ET.parse(folder / CONFIG).getroot()
    except (OSError, ET.ParseError) as exc:
        problems.add(f"{CONFIG}: not a readable XML labelling config ({exc})")
        return {}
    labels = {}
    for kind, tag in _LABELS.items():
        values = [label.get("value", "") for control in root.iter(tag) for label in control.iter("Label")]
        for value in values:
            check_label(value, problems, CONFIG)
        labels[kind] = set(values)
    return labels


def validate(folder: Path, settings: ExportSettings) -> list[str]:
    problems = Problems()
    tasks = load_json(folder / TASKS, problems)
    if not isinstance(tasks, list):
        return problems.result() or [f"{TASKS}: expected a list of tasks"]
    config = _config_labels(folder, problems)
    sizes = ImageSizes(folder)
    for n, task in enumerate(tasks, 1):
        where = f"{TASKS} task {n}"
        data = task.get("data") if isinstance(task, dict) else None
        if not isinstance(data, dict) or "image" not in data:
            problems.add(f"{where}: needs data.image")
            continue
        wh = sizes(str(data["image"]), problems, where)
        for key in ("annotations", "predictions"):
            if not isinstance(task.get(key, []), list):
                problems.add(f"{where}: {key} must be a list")
                continue
            for block in task.get(key, []):
                for result in block.get("result", []):
                    _check_result(result, config, wh, problems, f"{where} {key}")
    return problems.result()


def _check_result(result: dict, config: dict[str, set[str]], wh: tuple[int, int] | None, problems: Problems,
                  where: str) -> None:
    value, kind = result.get("value", {}), result.get("type")
    labels = value.get(kind, []) if kind in _LABELS else []
    if not labels:
        problems.add(f"{where}: result without rectanglelabels/keypointlabels")
        return
    for label in labels:
        check_label(label, problems, where)
        if config and label not in config.get(str(kind), set()):
            problems.add(f"{where}: label {label!r} missing from {CONFIG}")
    if wh and (result.get("original_width"), result.get("original_height")) != wh:
        problems.add(f"{where}: original size {result.get('original_width')}x{result.get('original_height')} "
                     f"is not the image's {wh[0]}x{wh[1]}")
    x, y = value.get("x", -1), value.get("y", -1)
    right = x + (value.get("width", 0) if kind == "rectanglelabels" else 0)
    bottom = y + (value.get("height", 0) if kind == "rectanglelabels" else 0)
    if not (0 <= x <= right <= 100 + 1e-6 and 0 <= y <= bottom <= 100 + 1e-6):
        problems.add(f"{where}: {kind} {value} is not inside 0-100 %")


FORMAT = ExportFormat("labelstudio", "Label Studio tasks (annotations and predictions)", True,
                      "percent of the original image (x, y, width, height)", write, validate)

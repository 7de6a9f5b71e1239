"""Label Studio tasks with ``predictions``: rectangles/keypoints in percent of the original image.

One task per sample image (Label Studio's image tag holds one image); the prompt and the
image's sample/picture/ID go into ``data``. ``label_config.xml`` sets up a matching project.
Image URLs are relative to the export folder: serve it as local storage, or prefix them.

>>> percent_box((64, 48, 320, 240), (640, 480))
{'x': 10.0, 'y': 10.0, 'width': 40.0, 'height': 40.0}
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import quoteattr

from workbench.export.base import ExportFormat, FormatOutput, ImageSizes, Problems, load_json
from workbench.export.files import copy_images, write_json
from workbench.export.samples import ExportSample, labels_of
from workbench.export.settings import ExportSettings

TASKS = "tasks.json"
CONFIG = "label_config.xml"


def percent_box(xyxy: Sequence[float], wh: tuple[int, int]) -> dict[str, float]:
    x1, y1, x2, y2 = xyxy
    w, h = wh
    return {"x": 100 * x1 / w, "y": 100 * y1 / h, "width": 100 * (x2 - x1) / w, "height": 100 * (y2 - y1) / h}


def label_config(labels: Sequence[str]) -> str:
    items = "".join(f"    <Label value={quoteattr(label)}/>\n" for label in labels)
    return ("<View>\n  <Image name=\"image\" value=\"$image\"/>\n  <Text name=\"prompt\" value=\"$prompt\"/>\n"
            f"  <RectangleLabels name=\"label\" toName=\"image\">\n{items}  </RectangleLabels>\n"
            f"  <KeyPointLabels name=\"point\" toName=\"image\">\n{items}  </KeyPointLabels>\n</View>\n")


def to_tasks(samples: Sequence[ExportSample], settings: ExportSettings) -> list[dict]:
    tasks = []
    for sample in samples:
        for image in sample.images:
            results = []
            for n, obj in enumerate(image.objects, 1):
                w, h = image.wh
                common = {"id": f"s{sample.position}-{image.position}-{n}", "to_name": "image", "original_width": w,
                          "original_height": h, "image_rotation": 0}
                if obj.kind == "box":
                    value = percent_box(obj.coords, image.wh) | {"rotation": 0, "rectanglelabels": [obj.label]}
                    results.append(common | {"from_name": "label", "type": "rectanglelabels", "value": value})
                else:
                    value = {"x": 100 * obj.coords[0] / w, "y": 100 * obj.coords[1] / h, "width": 0.5,
                             "keypointlabels": [obj.label]}
                    results.append(common | {"from_name": "point", "type": "keypointlabels", "value": value})
            tasks.append({
                "data": {"image": image.file, "prompt": sample.prompt, "sample": sample.position,
                         "picture": image.position, "image_id": image.image_id},
                "predictions": [{"model_version": f"grounding-workbench/{settings.family.name}", "result": results}],
            })
    return tasks


def write(samples: Sequence[ExportSample], settings: ExportSettings, folder: Path) -> FormatOutput:
    tasks = to_tasks(samples, settings)
    copy_images(samples, folder)
    write_json(folder / TASKS, tasks)
    (folder / CONFIG).write_text(label_config(labels_of(samples)), encoding="utf-8")
    return FormatOutput(len(tasks), (TASKS, CONFIG, "images/"), (),
                        "Create a project with label_config.xml and import tasks.json; image paths are relative "
                        "to this folder (serve it as local storage).")


def validate(folder: Path, settings: ExportSettings) -> list[str]:
    problems = Problems()
    tasks = load_json(folder / TASKS, problems)
    if not isinstance(tasks, list):
        return problems.result() or [f"{TASKS}: expected a list of tasks"]
    config = (folder / CONFIG).read_text(encoding="utf-8") if (folder / CONFIG).is_file() else ""
    sizes = ImageSizes(folder)
    for n, task in enumerate(tasks, 1):
        where = f"{TASKS} task {n}"
        data = task.get("data") if isinstance(task, dict) else None
        if not isinstance(data, dict) or "image" not in data:
            problems.add(f"{where}: needs data.image")
            continue
        wh = sizes(str(data["image"]), problems, where)
        for prediction in task.get("predictions", []):
            for result in prediction.get("result", []):
                value, kind = result.get("value", {}), result.get("type")
                labels = value.get(kind, [])
                if kind not in ("rectanglelabels", "keypointlabels") or not labels:
                    problems.add(f"{where}: result without rectanglelabels/keypointlabels")
                    continue
                if any(f"value={quoteattr(label)}" not in config for label in labels):
                    problems.add(f"{where}: label {labels} missing from {CONFIG}")
                if wh and (result.get("original_width"), result.get("original_height")) != wh:
                    problems.add(f"{where}: original size {result.get('original_width')}x"
                                 f"{result.get('original_height')} is not the image's {wh[0]}x{wh[1]}")
                x, y = value.get("x", -1), value.get("y", -1)
                right = x + (value.get("width", 0) if kind == "rectanglelabels" else 0)
                bottom = y + (value.get("height", 0) if kind == "rectanglelabels" else 0)
                if not (0 <= x <= right <= 100 + 1e-6 and 0 <= y <= bottom <= 100 + 1e-6):
                    problems.add(f"{where}: {kind} {value} is not inside 0-100 %")
    return problems.result()


FORMAT = ExportFormat("labelstudio", "Label Studio tasks with predictions", False,
                      "percent of the original image (x, y, width, height)", write, validate)

"""ms-swift grounding JSONL: ``messages`` with ``<ref-object>``/``<bbox>`` placeholders + ``objects``.

Boxes stay in original pixels (``bbox_type: real``); swift rescales them per model itself.
For Qwen2.5-VL/Qwen3-VL the assistant turn is the cookbook JSON with placeholders, which swift
fills in that shape only with ``QWENVL_BBOX_FORMAT=new``; for Qwen2-VL it is ``<ref-object><bbox>``
per object. swift silently repairs a wrong ``<image>`` count and leaves unmatched placeholders
in the text, so the validator insists on exact counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from workbench.export.base import ExportFormat, FormatOutput, ImageSizes, Problems, check_coords, load_jsonl
from workbench.export.files import copy_images, write_jsonl
from workbench.export.samples import ExportSample
from workbench.export.settings import ExportSettings
from workbench.export.targets import user_text

ANNOTATIONS = "swift.jsonl"


def _assistant(family: str, pictures: Sequence[int | None]) -> str:
    if family == "qwen2-vl":
        return "\n".join((f"Picture {p}: " if p else "") + "<ref-object><bbox>" for p in pictures)
    parts = []
    for picture in pictures:
        image = f', "image": {picture}' if picture else ""
        parts.append('  {"bbox_2d": <bbox>, "label": "<ref-object>"' + image + "}")
    body = ",\n".join(parts)
    return "```json\n[\n" + body + ("\n" if body else "") + "]\n```"


def to_row(sample: ExportSample, settings: ExportSettings, warnings: list[str]) -> dict:
    multi = len(sample.images) > 1
    refs, boxes, image_ids, pictures = [], [], [], []
    for index, image in enumerate(sample.images):
        for obj in image.objects:
            if obj.kind != "box":
                warnings.append(f"sample {sample.position}: ms-swift objects carry boxes only; point "
                                f"{obj.label!r} left out")
                continue
            refs.append(obj.label)
            boxes.append([round(v, 2) for v in obj.coords])
            image_ids.append(index)
            pictures.append(image.position if multi else None)
    return {
        "messages": [
            {"role": "user", "content": user_text(sample, sample.prompt or settings.default_prompt)},
            {"role": "assistant", "content": _assistant(settings.family.name, pictures)},
        ],
        "images": [image.file for image in sample.images],
        "objects": {"ref": refs, "bbox": boxes, "bbox_type": "real", "image_id": image_ids},
    }


def write(samples: Sequence[ExportSample], settings: ExportSettings, folder: Path) -> FormatOutput:
    warnings: list[str] = []
    rows = [to_row(sample, settings, warnings) for sample in samples]
    copy_images(samples, folder)
    write_jsonl(folder / ANNOTATIONS, rows)
    usage = ("swift sft --dataset <this folder>/swift.jsonl; set QWENVL_BBOX_FORMAT=new for Qwen2.5-VL/Qwen3-VL "
             "so <bbox> becomes cookbook JSON. swift rescales the real-pixel boxes to the model itself.")
    return FormatOutput(len(rows), (ANNOTATIONS, "images/"), tuple(warnings), usage)


def validate(folder: Path, settings: ExportSettings) -> list[str]:
    problems = Problems()
    sizes = ImageSizes(folder)
    for n, row in enumerate(load_jsonl(folder / ANNOTATIONS, problems), 1):
        where = f"{ANNOTATIONS} line {n}"
        messages, images, objects = row.get("messages"), row.get("images"), row.get("objects")
        if not isinstance(messages, list) or not isinstance(images, list) or not isinstance(objects, dict):
            problems.add(f"{where}: needs 'messages', 'images' and 'objects'")
            continue
        text = "".join(str(m.get("content", "")) for m in messages)
        refs, boxes, image_ids = objects.get("ref"), objects.get("bbox"), objects.get("image_id")
        if objects.get("bbox_type") not in ("real", "norm1"):
            problems.add(f"{where}: bbox_type must be 'real' or 'norm1'")
        if not (isinstance(refs, list) and isinstance(boxes, list) and isinstance(image_ids, list)
                and len(refs) == len(boxes) == len(image_ids)):
            problems.add(f"{where}: objects.ref, objects.bbox and objects.image_id must be lists of one length")
            continue
        for placeholder, expected in (("<image>", len(images)), ("<ref-object>", len(refs)), ("<bbox>", len(boxes))):
            if text.count(placeholder) != expected:
                problems.add(f"{where}: {text.count(placeholder)} {placeholder} for {expected}")
        image_sizes = [sizes(str(image), problems, where) for image in images]
        for box, image_id in zip(boxes, image_ids):
            if not isinstance(image_id, int) or not 0 <= image_id < len(images):
                problems.add(f"{where}: image_id {image_id!r} does not index images")
            elif image_sizes[image_id]:
                check_coords(box, image_sizes[image_id], problems, where, integers=False)
    return problems.result()


FORMAT = ExportFormat("swift", "ms-swift grounding JSONL (objects, bbox_type real)", True,
                      "original-image pixels (bbox_type real); ms-swift rescales per model", write, validate)



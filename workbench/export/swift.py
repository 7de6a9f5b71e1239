"""ms-swift grounding JSONL: ``messages`` with ``<ref-object>``/``<bbox>`` placeholders + ``objects``.

Boxes stay in original pixels (``bbox_type: real``); swift rescales them per model itself.
For Qwen2.5-VL/Qwen3-VL the assistant turn is the cookbook JSON with placeholders, which swift
fills in that shape only with ``QWENVL_BBOX_FORMAT=new``; for Qwen2-VL it is ``<ref-object><bbox>``
per object (swift's default "legacy" format writes Qwen2-VL's own tokens). swift silently
repairs a wrong ``<image>`` count and leaves unmatched placeholders in the text, so the
validator insists on exact counts.

What swift does with a row (ms-swift 4.6, swift/template/base.py ``_pre_tokenize`` and
``normalize_bbox``; swift/template/templates/qwen.py ``Qwen2VLTemplate.replace_ref``/
``replace_bbox``): each ``<ref-object>`` becomes the next ``objects.ref`` as it is (new format)
or between ``<|object_ref_start|>``/``<|object_ref_end|>`` (legacy), each ``<bbox>`` the next box
rescaled with Python's ``round`` to the resized image (Qwen2.5-VL) or to 0-1000 (the others),
written as ``str(list)`` (new) or ``<|box_start|>(x1,y1),(x2,y2)<|box_end|>`` (legacy). The
label is pasted into ``"label": "<ref-object>"`` raw, so refs are written JSON-escaped for the
JSON families (a ``"`` or ``\\`` would otherwise break the answer), and the validator renders
each answer the same way and parses it.

Image paths: swift opens them relative to its working directory, then ``ROOT_IMAGE_DIR``
(swift/template/vision_utils.py ``_check_path``), not the JSONL's folder. By default they are
absolute; with ``paths="relative"`` the printed command sets ``ROOT_IMAGE_DIR``.

>>> render_answer('{"bbox_2d": <bbox>, "label": "<ref-object>"}', ['say \\\\"cheese\\\\"'], [[1, 2, 3, 4]], "new")
'{"bbox_2d": [1, 2, 3, 4], "label": "say \\\\"cheese\\\\""}'
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from grounding.families import ModelFamily
from workbench.export.base import (
    ExportFormat,
    FormatOutput,
    ImageSizes,
    Problems,
    check_coords,
    check_label,
    load_jsonl,
    parse_json_answer,
    parse_qwen2_answer,
)
from workbench.export.files import copy_images, write_jsonl
from workbench.export.questions import conversation, default_templates
from workbench.export.samples import ExportImage, ExportObject, ExportSample
from workbench.export.settings import ExportSettings
from workbench.export.targets import Geometry, user_text

ANNOTATIONS = "swift.jsonl"
_TAGS = re.compile(r"(<image>|<video>|<audio>|<bbox>|<ref-object>|<cot-process>|<start-image>)")


def bbox_format(family: str) -> str:
    """The ``QWENVL_BBOX_FORMAT`` whose output is the family's own answer syntax."""
    return "new" if ModelFamily.from_name(family).writes_json else "legacy"


def _ref(label: str, family: str) -> str:
    """The ref as swift must paste it: JSON-escaped inside the JSON answer, raw between Qwen2-VL tokens."""
    return label if bbox_format(family) == "legacy" else json.dumps(label, ensure_ascii=False)[1:-1]


def _assistant(family: str, objects: Sequence[tuple[ExportImage, ExportObject]], multi: bool) -> str:
    if bbox_format(family) == "legacy":
        return "\n".join((f"Picture {image.position}: " if multi else "") + "<ref-object><bbox>"
                         for image, _ in objects)
    parts = []
    for image, _ in objects:
        picture = f', "image": {image.position}' if multi else ""
        parts.append('  {"bbox_2d": <bbox>, "label": "<ref-object>"' + picture + "}")
    body = ",\n".join(parts)
    return "```json\n[\n" + body + ("\n" if body else "") + "]\n```"


def to_row(sample: ExportSample, settings: ExportSettings, folder: Path) -> tuple[dict, bool]:
    family = settings.family.name
    multi = len(sample.images) > 1
    refs, boxes, image_ids = [], [], []
    index = {image.image_id: n for n, image in enumerate(sample.images)}
    talk = conversation(sample, settings.family, settings.task, settings.question_templates,
                        settings.negative_labels)
    messages: list[dict] = []
    for n, turn in enumerate(talk.turns):
        messages.append({"role": "user", "content": user_text(sample, turn.question) if n == 0 else turn.question})
        messages.append({"role": "assistant", "content": _assistant(family, turn.objects, multi)})
        for image, obj in turn.objects:
            refs.append(_ref(obj.label, family))
            boxes.append([round(v, 2) for v in obj.coords])
            image_ids.append(index[image.image_id])
    images = [str(folder / image.file) if settings.paths == "absolute" else image.file for image in sample.images]
    row = {"messages": messages, "images": images,
           "objects": {"ref": refs, "bbox": boxes, "bbox_type": "real", "image_id": image_ids}}
    return row, talk.own_prompt


def _quoted(path: Path) -> str:
    return json.dumps(str(path)) if " " in str(path) else str(path)


def write(samples: Sequence[ExportSample], settings: ExportSettings, folder: Path) -> FormatOutput:
    rows, own = [], 0
    for sample in samples:
        row, own_prompt = to_row(sample, settings, folder)
        rows.append(row)
        own += own_prompt
    copy_images(samples, folder)
    write_jsonl(folder / ANNOTATIONS, rows)
    env = [f"QWENVL_BBOX_FORMAT={bbox_format(settings.family.name)}"]
    if settings.paths == "relative":
        env.append(f"ROOT_IMAGE_DIR={_quoted(folder)}")
    template = settings.family.trainer_templates.get("swift")
    flags = (f"--template {template} " if template else "") + (
        "--enable_thinking false " if settings.family.thinking_switch else "")
    usage = (f"{' '.join(env)} swift sft --model <{settings.family.name} checkpoint> {flags}--dataset "
             f"{_quoted(folder / ANNOTATIONS)} ...; swift rescales the real-pixel boxes to the model itself.")
    turns = sum(len(row["messages"]) // 2 for row in rows)
    details = {"questions": {"task": settings.task,
                             "templates": {**default_templates(settings.family), **settings.question_templates},
                             "generated": turns - own, "own_prompts": own},
               "swift": {"QWENVL_BBOX_FORMAT": bbox_format(settings.family.name)}}
    return FormatOutput(len(rows), (ANNOTATIONS, "images/"), (), usage, details)


def _scaled(box: Sequence[float], original_wh: tuple[int, int], target_wh: tuple[float, float]) -> list[int]:
    """swift's ``normalize_bbox`` for ``bbox_type: real``: Python ``round`` to the target size."""
    return [round(v / original_wh[i % 2] * target_wh[i % 2]) for i, v in enumerate(box)]


def render_answer(content: str, refs: Sequence[str], boxes: Sequence[Sequence[int]], fmt: str,
                  start: tuple[int, int] = (0, 0)) -> str:
    """Fill ``<ref-object>``/``<bbox>`` in order as swift's template does (``start``: refs/boxes used before)."""
    ref_i, box_i = start
    out = []
    for part in _TAGS.split(content):
        if part == "<ref-object>" and ref_i < len(refs):
            ref = refs[ref_i]
            out.append(ref if fmt == "new" else f"<|object_ref_start|>{ref}<|object_ref_end|>")
            ref_i += 1
        elif part == "<bbox>" and box_i < len(boxes):
            box = list(boxes[box_i])
            pairs = ",".join(f"({x},{y})" for x, y in zip(box[::2], box[1::2]))
            out.append(str(box) if fmt == "new" else f"<|box_start|>{pairs}<|box_end|>")
            box_i += 1
        else:
            out.append(part)
    return "".join(out)


def validate(folder: Path, settings: ExportSettings) -> list[str]:
    problems = Problems()
    sizes = ImageSizes(folder)
    geometry = Geometry(settings.family, settings.limits)
    fmt = bbox_format(settings.family.name)
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
        if settings.paths == "absolute" and not all(Path(str(image)).is_absolute() for image in images):
            problems.add(f"{where}: image paths must be absolute (swift opens them from its working directory)")
        image_sizes = [sizes(str(image), problems, where) for image in images]
        model_boxes = []
        for box, image_id in zip(boxes, image_ids):
            if not isinstance(image_id, int) or not 0 <= image_id < len(images):
                problems.add(f"{where}: image_id {image_id!r} does not index images")
                model_boxes.append([0, 0, 0, 0])
                continue
            wh = image_sizes[image_id]
            if wh:
                check_coords(box, wh, problems, where, integers=False)
            seen = geometry.seen(wh) if wh else None
            target = (1000, 1000) if settings.family.is_relative else (seen.resized_wh if seen else (1, 1))
            model_boxes.append(_scaled(box, wh, target) if wh and isinstance(box, list) else [0, 0, 0, 0])
        _check_rendered(messages, refs, model_boxes, fmt, problems, where)
    return problems.result()


def _check_rendered(messages: list, refs: list, boxes: list, fmt: str, problems: Problems, where: str) -> None:
    """Each assistant turn as swift renders it must parse as the family's answer, with its labels intact."""
    used = (0, 0)
    for message in messages:
        content = str(message.get("content", ""))
        rendered = render_answer(content, refs, boxes, fmt, used)
        used = (used[0] + content.count("<ref-object>"), used[1] + content.count("<bbox>"))
        if message.get("role") != "assistant":
            continue
        if fmt == "legacy":
            items = parse_qwen2_answer(rendered)
            if items is None:
                problems.add(f"{where}: the answer swift renders is not in Qwen2-VL box syntax: {rendered[:80]!r}")
                continue
            labels = [label for _, label, _ in items]
        else:
            entries = parse_json_answer(rendered)
            if entries is None:
                problems.add(f"{where}: the answer swift renders is not valid JSON (a label needs escaping?): "
                             f"{rendered[:120]!r}")
                continue
            labels = [str(entry.get("label")) for entry in entries]
        for label in labels:
            check_label(label, problems, where)


FORMAT = ExportFormat("swift", "ms-swift grounding JSONL (objects, bbox_type real)", True,
                      "original-image pixels (bbox_type real); ms-swift rescales per model", write, validate,
                      kinds=("box",), questions=True)

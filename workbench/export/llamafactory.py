"""LLaMA-Factory sharegpt JSON plus its ``dataset_info.json`` entry.

LLaMA-Factory shrinks images above ``image_max_pixels`` (and enlarges those under
``image_min_pixels``) before the Qwen processor applies its own limits; targets are computed
for that composed resize (:func:`grounding.trainer_resize.llamafactory_resize_wh`). Its
mm_plugin raises when the number of ``<image>`` tokens differs from ``images``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path

from grounding import ModelFamily
from grounding.trainer_resize import llamafactory_resize_wh
from workbench.export.base import (
    ExportFormat,
    FormatOutput,
    ImageSizes,
    Problems,
    check_answer,
    load_json,
)
from workbench.export.dialogue import Dialogue
from workbench.export.files import copy_images, write_json
from workbench.export.samples import ExportSample
from workbench.export.settings import ExportSettings
from workbench.export.targets import Geometry, user_text

ANNOTATIONS = "llamafactory.json"
DATASET_INFO = "dataset_info.json"
DATASET_NAME = "grounding_workbench"


def geometry_for(settings: ExportSettings) -> Geometry:
    pre = partial(llamafactory_resize_wh, image_max_pixels=settings.image_max_pixels,
                  image_min_pixels=settings.image_min_pixels)
    return Geometry(settings.family, settings.limits, pre_resize=pre)


def template_line(family: ModelFamily) -> str:
    """LLaMA-Factory's ``template:`` for the family (its registry's name), with thinking off where the
    template thinks by default ('' when LLaMA-Factory has no template for it).

    >>> template_line(ModelFamily.from_name("qwen3.5")), template_line(ModelFamily.from_name("qwen2.5-vl"))
    ('template: qwen3_5, enable_thinking: false, ', 'template: qwen2_vl, ')
    """
    name = family.trainer_templates.get("llamafactory")
    if not name:
        return ""
    return f"template: {name}, " + ("enable_thinking: false, " if family.thinking_switch else "")


def dataset_info() -> dict:
    return {DATASET_NAME: {
        "file_name": ANNOTATIONS,
        "formatting": "sharegpt",
        "columns": {"messages": "messages", "images": "images"},
        "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant"},
    }}


def to_entries(samples: Sequence[ExportSample], settings: ExportSettings, dialogue: Dialogue) -> list[dict]:
    geometry = geometry_for(settings)
    entries = []
    for sample in samples:
        messages: list[dict] = []
        for n, (question, answer) in enumerate(dialogue.pairs(sample, geometry)):
            messages.append({"role": "user", "content": user_text(sample, question) if n == 0 else question})
            messages.append({"role": "assistant", "content": answer})
        entries.append({"messages": messages, "images": [image.file for image in sample.images]})
    return entries


def write(samples: Sequence[ExportSample], settings: ExportSettings, folder: Path) -> FormatOutput:
    dialogue = Dialogue(settings)
    entries = to_entries(samples, settings, dialogue)
    copy_images(samples, folder)
    write_json(folder / ANNOTATIONS, entries)
    write_json(folder / DATASET_INFO, dataset_info())
    usage = (f"In your LLaMA-Factory training YAML: {template_line(settings.family)}dataset_dir: {folder}, "
             f"dataset: {DATASET_NAME}, "
             f"image_max_pixels: {settings.image_max_pixels}, image_min_pixels: {settings.image_min_pixels}; "
             f"the model's processor must use min_pixels {settings.limits.min_pixels}, "
             f"max_pixels {settings.limits.max_pixels}.")
    return FormatOutput(len(entries), (ANNOTATIONS, DATASET_INFO, "images/"), (), usage, dialogue.details())


def validate(folder: Path, settings: ExportSettings) -> list[str]:
    problems = Problems()
    info = load_json(folder / DATASET_INFO, problems)
    entry_info = info.get(DATASET_NAME) if isinstance(info, dict) else None
    if not isinstance(entry_info, dict) or entry_info.get("formatting") != "sharegpt":
        problems.add(f"{DATASET_INFO}: no sharegpt entry {DATASET_NAME!r}")
        return problems.result()
    columns, tags = entry_info.get("columns", {}), entry_info.get("tags", {})
    messages_key, images_key = columns.get("messages"), columns.get("images")
    role, content = tags.get("role_tag"), tags.get("content_tag")
    user, assistant = tags.get("user_tag"), tags.get("assistant_tag")
    entries = load_json(folder / str(entry_info.get("file_name")), problems)
    if not isinstance(entries, list):
        problems.add(f"{entry_info.get('file_name')}: expected a JSON list")
        return problems.result()
    geometry = geometry_for(settings)
    sizes = ImageSizes(folder)
    for n, entry in enumerate(entries, 1):
        where = f"{ANNOTATIONS} entry {n}"
        messages, images = entry.get(messages_key), entry.get(images_key)
        if not isinstance(messages, list) or not isinstance(images, list) or not messages or len(messages) % 2:
            problems.add(f"{where}: needs a list of {messages_key!r} in pairs and a list of {images_key!r}")
            continue
        roles = [m.get(role) for m in messages]
        if roles != [user, assistant] * (len(messages) // 2):
            problems.add(f"{where}: roles {roles} do not alternate {user}/{assistant}")
        placeholders = sum(str(m.get(content, "")).count("<image>") for m in messages)
        if placeholders != len(images):
            problems.add(f"{where}: the number of images ({len(images)}) does not match the number of "
                         f"<image> tokens ({placeholders})")
        image_sizes = [sizes(str(image), problems, where) for image in images]
        for message in messages[1::2]:
            check_answer(str(message.get(content, "")), image_sizes, geometry, problems, where)
    return problems.result()


FORMAT = ExportFormat("llamafactory", "LLaMA-Factory sharegpt JSON + dataset_info.json", True,
                      "model coordinates after LLaMA-Factory's image_max_pixels resize and the processor's",
                      write, validate, questions=True)

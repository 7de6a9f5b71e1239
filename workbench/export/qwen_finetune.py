"""Qwen's official ``qwen-vl-finetune`` JSON: ``{"image", "conversations": [human, gpt]}``.

One ``<image>`` per image, in order (its loader raises on a mismatch, then silently retries
another sample, so we validate here). Targets follow the family: Qwen2.5-VL absolute on the
image resized with the trainer's limits, clamped to W'-1/H'-1; Qwen2-VL/Qwen3-VL 0-1000.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

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

ANNOTATIONS = "qwen_finetune.json"
DATASET = "grounding_workbench"


def to_entries(samples: Sequence[ExportSample], settings: ExportSettings, dialogue: Dialogue) -> list[dict]:
    geometry = Geometry(settings.family, settings.limits)
    entries = []
    for sample in samples:
        files = [image.file for image in sample.images]
        turns: list[dict] = []
        for n, (question, answer) in enumerate(dialogue.pairs(sample, geometry)):
            turns.append({"from": "human", "value": user_text(sample, question) if n == 0 else question})
            turns.append({"from": "gpt", "value": answer})
        entries.append({"image": files[0] if len(files) == 1 else files, "conversations": turns})
    return entries


def write(samples: Sequence[ExportSample], settings: ExportSettings, folder: Path) -> FormatOutput:
    dialogue = Dialogue(settings)
    entries = to_entries(samples, settings, dialogue)
    copy_images(samples, folder)
    write_json(folder / ANNOTATIONS, entries)
    usage = (f"In qwen-vl-finetune's qwenvl/data/__init__.py add {DATASET.upper()} = "
             f"{{'annotation_path': '{folder / ANNOTATIONS}', 'data_path': '{folder}'}} and "
             f"data_dict['{DATASET}'] = {DATASET.upper()}; train with --dataset_use {DATASET} "
             f"--min_pixels {settings.limits.min_pixels} --max_pixels {settings.limits.max_pixels}.")
    return FormatOutput(len(entries), (ANNOTATIONS, "images/"), (), usage, dialogue.details())


def validate(folder: Path, settings: ExportSettings) -> list[str]:
    problems = Problems()
    entries = load_json(folder / ANNOTATIONS, problems)
    if not isinstance(entries, list):
        problems.add(f"{ANNOTATIONS}: expected a JSON list of samples")
        return problems.result()
    geometry = Geometry(settings.family, settings.limits)
    sizes = ImageSizes(folder)
    for n, entry in enumerate(entries, 1):
        where = f"{ANNOTATIONS} entry {n}"
        if not isinstance(entry, dict) or "conversations" not in entry or "image" not in entry:
            problems.add(f"{where}: needs 'image' and 'conversations'")
            continue
        images = entry["image"] if isinstance(entry["image"], list) else [entry["image"]]
        turns = entry["conversations"]
        if (not isinstance(turns, list) or not turns or len(turns) % 2
                or [t.get("from") for t in turns] != ["human", "gpt"] * (len(turns) // 2)):
            problems.add(f"{where}: conversations must alternate 'human' and 'gpt' turns")
            continue
        placeholders = sum(str(t.get("value", "")).count("<image>") for t in turns)
        if placeholders != len(images):
            problems.add(f"{where}: {placeholders} <image> placeholders for {len(images)} images")
        image_sizes = [sizes(str(image), problems, where) for image in images]
        for turn in turns[1::2]:
            check_answer(str(turn.get("value", "")), image_sizes, geometry, problems, where)
    return problems.result()


FORMAT = ExportFormat("qwen_finetune", "Qwen qwen-vl-finetune JSON", True,
                      "model coordinates of the target family under the trainer's pixel limits", write, validate,
                      questions=True)

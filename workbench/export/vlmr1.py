"""VLM-R1 JSONL: REC (one entry per box, ``<answer>[x1,y1,x2,y2]</answer>``) or OVD (one per image).

Ground truth is integers in ORIGINAL pixels: VLM-R1's reward rescales predictions from the
model input size itself (of the first image only) and parses integers only. Its Qwen module
cannot train multi-image samples (one output row per image), so every entry holds exactly one
image: multi-image samples are split, with a warning (the other pictures' context is lost).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from workbench.export.base import (
    ExportFormat,
    FormatOutput,
    ImageSizes,
    Problems,
    check_coords,
    load_jsonl,
    parse_json_answer,
)
from workbench.export.files import copy_images, write_jsonl
from workbench.export.samples import ExportImage, ExportSample
from workbench.export.settings import ExportSettings
from workbench.export.targets import json_answer, original_ints

_REC_ANSWER = re.compile(r"<answer>\[(\d+),(\d+),(\d+),(\d+)\]</answer>")


def file_name(settings: ExportSettings) -> str:
    return f"vlmr1_{settings.vlmr1_task}.jsonl"


def _entry(n: int, image: ExportImage, question: str, answer: str) -> dict:
    return {"id": n, "image": image.file, "conversations": [
        {"from": "human", "value": f"<image>{question}"}, {"from": "gpt", "value": answer}]}


def to_rows(samples: Sequence[ExportSample], settings: ExportSettings, warnings: list[str]) -> list[dict]:
    rows: list[dict] = []
    multi = sum(1 for s in samples if len(s.images) > 1)
    if multi:
        warnings.append(f"{multi} multi-image samples split into one entry per image: VLM-R1's Qwen module "
                        "cannot train multi-image samples")
    for sample in samples:
        for image in sample.images:
            if settings.vlmr1_task == "ovd":
                entries = [{"bbox_2d": original_ints(obj.coords, image.wh), "label": obj.label} for obj in image.boxes]
                rows.append(_entry(len(rows) + 1, image, sample.prompt or settings.default_prompt,
                                   json_answer(entries)))
                continue
            for obj in image.boxes:
                x1, y1, x2, y2 = original_ints(obj.coords, image.wh)
                rows.append(_entry(len(rows) + 1, image, settings.rec_question.format(label=obj.label),
                                   f"<answer>[{x1},{y1},{x2},{y2}]</answer>"))
        if sample.points:
            warnings.append(f"sample {sample.position}: VLM-R1 REC/OVD take boxes only; {sample.points} points left out")
    return rows


def write(samples: Sequence[ExportSample], settings: ExportSettings, folder: Path) -> FormatOutput:
    warnings: list[str] = []
    rows = to_rows(samples, settings, warnings)
    copy_images(samples, folder)
    write_jsonl(folder / file_name(settings), rows)
    usage = (f"--data_file_paths <this folder>/{file_name(settings)} --image_folders <this folder>/ "
             f"(task_type {settings.vlmr1_task}).")
    return FormatOutput(len(rows), (file_name(settings), "images/"), tuple(warnings), usage)


def validate(folder: Path, settings: ExportSettings) -> list[str]:
    problems = Problems()
    sizes = ImageSizes(folder)
    for n, row in enumerate(load_jsonl(folder / file_name(settings), problems), 1):
        where = f"{file_name(settings)} line {n}"
        if not isinstance(row, dict) or not {"id", "image", "conversations"} <= row.keys():
            problems.add(f"{where}: needs 'id', 'image' and 'conversations'")
            continue
        images = row["image"] if isinstance(row["image"], list) else [row["image"]]
        if len(images) != 1:
            problems.add(f"{where}: {len(images)} images; VLM-R1's Qwen module trains single-image entries only")
            continue
        turns = row["conversations"]
        if not isinstance(turns, list) or [t.get("from") for t in turns[:2]] != ["human", "gpt"]:
            problems.add(f"{where}: conversations must be a human then a gpt turn")
            continue
        image_sizes = [sizes(str(image), problems, where) for image in images]
        answer = str(turns[1].get("value", ""))
        if settings.vlmr1_task == "rec":
            match = _REC_ANSWER.fullmatch(answer)
            if not match:
                problems.add(f"{where}: REC answer {answer!r} is not <answer>[x1,y1,x2,y2]</answer> in integers")
            elif image_sizes[0]:
                check_coords([int(v) for v in match.groups()], image_sizes[0], problems, where)
            continue
        entries = parse_json_answer(answer)
        if entries is None:
            problems.add(f"{where}: OVD answer is not a fenced JSON list")
            continue
        for entry in entries:
            if image_sizes[0]:
                check_coords(entry.get("bbox_2d"), image_sizes[0], problems, where)
            if not isinstance(entry.get("label"), str):
                problems.add(f"{where}: object without a text label")
    return problems.result()


FORMAT = ExportFormat("vlmr1", "VLM-R1 JSONL (REC or OVD)", False,
                      "integers in original-image pixels (VLM-R1's reward rescales predictions)", write, validate)



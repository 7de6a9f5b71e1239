"""InternLM-XComposer2 fine-tuning JSON (``<ImageHere>`` per image) and its ``data.txt`` line."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from workbench.export.base import ExportFormat, FormatOutput, ImageSizes, Problems, check_answer, load_json
from workbench.export.files import copy_images, write_json
from workbench.export.samples import ExportSample
from workbench.export.settings import ExportSettings
from workbench.export.targets import Geometry, answer_text, user_text

ANNOTATIONS = "xcomposer2.json"
DATA_TXT = "data.txt"
PLACEHOLDER = "<ImageHere>"


def write(samples: Sequence[ExportSample], settings: ExportSettings, folder: Path) -> FormatOutput:
    warnings: list[str] = []
    geometry = Geometry(settings.family, settings.limits)
    entries = [{
        "id": str(sample.position),
        "image": [image.file for image in sample.images],
        "conversations": [
            {"from": "user", "value": user_text(sample, sample.prompt or settings.default_prompt,
                                                placeholder=PLACEHOLDER)},
            {"from": "assistant", "value": answer_text(sample, geometry, warnings)},
        ],
    } for sample in samples]
    copy_images(samples, folder)
    write_json(folder / ANNOTATIONS, entries)
    (folder / DATA_TXT).write_text(f"{ANNOTATIONS} 1.0\n", encoding="utf-8")
    usage = f"Pass --data_path <this folder>/{DATA_TXT}; image paths are relative to this folder."
    return FormatOutput(len(entries), (ANNOTATIONS, DATA_TXT, "images/"), tuple(warnings), usage)


def validate(folder: Path, settings: ExportSettings) -> list[str]:
    problems = Problems()
    try:
        lines = [line.split() for line in (folder / DATA_TXT).read_text(encoding="utf-8").splitlines() if line]
    except OSError:
        problems.add(f"{DATA_TXT} is missing")
        return problems.result()
    for parts in lines:
        if len(parts) != 2 or not (folder / parts[0]).is_file():
            problems.add(f"{DATA_TXT}: line {' '.join(parts)!r} is not 'path ratio' with an existing file")
            continue
        try:
            float(parts[1])
        except ValueError:
            problems.add(f"{DATA_TXT}: ratio {parts[1]!r} is not a number")
    entries = load_json(folder / ANNOTATIONS, problems)
    if not isinstance(entries, list):
        return problems.result() or [f"{ANNOTATIONS}: expected a JSON list"]
    geometry = Geometry(settings.family, settings.limits)
    sizes = ImageSizes(folder)
    for n, entry in enumerate(entries, 1):
        where = f"{ANNOTATIONS} entry {n}"
        if not isinstance(entry, dict) or not {"id", "image", "conversations"} <= entry.keys():
            problems.add(f"{where}: needs 'id', 'image' and 'conversations'")
            continue
        images, turns = entry["image"], entry["conversations"]
        if not isinstance(images, list) or not isinstance(turns, list) or len(turns) < 2:
            problems.add(f"{where}: 'image' must be a list and 'conversations' at least two turns")
            continue
        if [t.get("from") for t in turns[:2]] != ["user", "assistant"]:
            problems.add(f"{where}: conversations must start user, assistant")
        placeholders = sum(str(t.get("value", "")).count(PLACEHOLDER) for t in turns)
        if placeholders != len(images):
            problems.add(f"{where}: {placeholders} {PLACEHOLDER} for {len(images)} images")
        image_sizes = [sizes(str(image), problems, where) for image in images]
        check_answer(str(turns[1].get("value", "")), image_sizes, geometry, problems, where)
    return problems.result()


FORMAT = ExportFormat("xcomposer2", "InternLM-XComposer2 JSON + data.txt", True,
                      "model coordinates of the target family under the trainer's pixel limits", write, validate)

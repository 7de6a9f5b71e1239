"""InternLM-XComposer2 fine-tuning JSON (``<ImageHere>`` per image) and its ``data.txt`` line.

XComposer2's ``finetune.py`` opens the ``data.txt`` entries and every image path as given,
relative to the working directory (``open(line[0])``, ``Image.open(path)``; see
InternLM-XComposer-2.0/finetune/finetune.py and data_mix.py). So by default the JSON names
images by absolute path and the printed command passes the JSON's absolute path: it trains
from any folder. With ``paths="relative"`` the files name paths inside the export and the
command changes into the export folder first. ``data.txt`` lines are split on single spaces
there, so an export folder whose path holds a space gets no ``data.txt`` (use the JSON).
"""

from __future__ import annotations

import json
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

ANNOTATIONS = "xcomposer2.json"
DATA_TXT = "data.txt"
PLACEHOLDER = "<ImageHere>"


def _path(folder: Path, relative: str, settings: ExportSettings) -> str:
    return str(folder / relative) if settings.paths == "absolute" else relative


def _quoted(path: str) -> str:
    return json.dumps(path) if " " in path else path


def write(samples: Sequence[ExportSample], settings: ExportSettings, folder: Path) -> FormatOutput:
    warnings: list[str] = []
    dialogue = Dialogue(settings)
    geometry = Geometry(settings.family, settings.limits)
    entries = []
    for sample in samples:
        turns: list[dict] = []
        for n, (question, answer) in enumerate(dialogue.pairs(sample, geometry)):
            turns.append({"from": "user", "value": user_text(sample, question, placeholder=PLACEHOLDER)
                          if n == 0 else question})
            turns.append({"from": "assistant", "value": answer})
        entries.append({"id": str(sample.position),
                        "image": [_path(folder, image.file, settings) for image in sample.images],
                        "conversations": turns})
    copy_images(samples, folder)
    write_json(folder / ANNOTATIONS, entries)
    files = [ANNOTATIONS, "images/"]
    data_json = _path(folder, ANNOTATIONS, settings)
    if " " in data_json:
        warnings.append(f"no {DATA_TXT}: XComposer2 splits its lines on spaces and the export path holds one; "
                        f"pass --data_path {data_json} instead")
    else:
        (folder / DATA_TXT).write_text(f"{data_json} 1.0\n", encoding="utf-8")
        files.insert(1, DATA_TXT)
    data_arg = _path(folder, files[1] if files[1] == DATA_TXT else ANNOTATIONS, settings)
    command = f"torchrun <InternLM-XComposer>/finetune/finetune.py --data_path {_quoted(data_arg)}"
    if settings.paths == "relative":
        command = f"cd {_quoted(str(folder))} && {command}"
    usage = (f"{command} plus the other options of its finetune.sh; image paths are "
             + ("absolute, so it runs from any folder." if settings.paths == "absolute"
                else "relative to the export folder, the working directory of that command."))
    return FormatOutput(len(entries), tuple(files), tuple(warnings), usage, dialogue.details())


def validate(folder: Path, settings: ExportSettings) -> list[str]:
    problems = Problems()
    base = folder if settings.paths == "relative" else Path("/")  # what finetune.py's working directory must be
    if (folder / DATA_TXT).is_file():
        for line in (folder / DATA_TXT).read_text(encoding="utf-8").splitlines():
            parts = line.strip().split(" ")  # exactly as finetune.py reads it
            if not line.strip():
                continue
            if len(parts) != 2 or not (base / parts[0]).is_file():
                problems.add(f"{DATA_TXT}: line {line!r} is not 'path ratio' with an existing file")
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
        if not isinstance(images, list) or not isinstance(turns, list) or len(turns) < 2 or len(turns) % 2:
            problems.add(f"{where}: 'image' must be a list and 'conversations' pairs of turns")
            continue
        if [t.get("from") for t in turns] != ["user", "assistant"] * (len(turns) // 2):
            problems.add(f"{where}: conversations must alternate user, assistant")
        placeholders = sum(str(t.get("value", "")).count(PLACEHOLDER) for t in turns)
        if placeholders != len(images):
            problems.add(f"{where}: {placeholders} {PLACEHOLDER} for {len(images)} images")
        if settings.paths == "absolute" and not all(Path(str(image)).is_absolute() for image in images):
            problems.add(f"{where}: image paths must be absolute (finetune.py opens them from its working directory)")
        image_sizes = [sizes(str(image), problems, where) for image in images]
        for turn in turns[1::2]:
            check_answer(str(turn.get("value", "")), image_sizes, geometry, problems, where)
    return problems.result()


FORMAT = ExportFormat("xcomposer2", "InternLM-XComposer2 JSON + data.txt", True,
                      "model coordinates of the target family under the trainer's pixel limits", write, validate,
                      questions=True)

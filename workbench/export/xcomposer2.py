"""InternLM-XComposer2 fine-tuning JSON (``<ImageHere>`` per image) and its ``data.txt``.

What its finetune code does with them (InternLM-XComposer-2.0/finetune/finetune.py and
data_mix.py, as its finetune.sh runs it):

- ``--data_path data.txt``: each line is ``<json path> <number>``, split on single spaces; the
  JSON (a list of samples) is opened relative to the working directory. With finetune.sh's
  ``--given_num True`` the number is a sample count in thousands: ``int(float(number) * 1000)``
  samples are drawn (randomly, or repeated to reach it). So ``data.txt`` says exactly how many
  samples the export holds (2,000 -> ``2.0``; the old ``1.0`` trained on a random 1,000), and the
  printed command passes ``--given_num True``. A ``.json`` data path is no way around it: it is
  loaded as the whole mix (a dict of lists) and a plain list crashes (``'list' object has no
  attribute 'items'``).
- A path with a space cannot be a ``data.txt`` line: then the line names the JSON relative to
  the export folder and the command changes into it first (``cd "<folder>" && ...``); image
  paths inside the JSON (JSON strings) stay absolute.
- Every image is opened with ``Image.open(path).convert('RGB')`` relative to the working
  directory (absolute paths by default: it trains from any folder) and resized to
  ``img_size`` x ``img_size`` (490 in finetune.sh, ``--hd_num -1``), whatever its aspect. So the
  targets are the family's convention on that square: Qwen2-VL/Qwen3-VL's 0-1000 (the same under
  any resize), Qwen2.5-VL's absolute pixels of the image the model sees, i.e. of the 490x490
  square (not of Qwen's own resize, which XComposer2 never does). 4KHD checkpoints (``--hd_num``
  other than -1) tile and pad instead: these targets are not for them.

>>> given_num(2000), given_num(13), given_num(1001)
('2.0', '0.013', '1.0010000000000001')
>>> int(float("1.001") * 1000), int(float(given_num(1001)) * 1000)  # exactly as finetune.py reads it
(1000, 1001)
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

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
IMG_SIZE = 490
"""``--img_size`` of XComposer2's finetune.sh: every image is resized to this square."""
TRAIN_OPTIONS = f"--given_num True --img_size {IMG_SIZE} --hd_num -1"
"""The options the data.txt count and the targets are written for (as in its finetune.sh)."""


def given_num(count: int) -> str:
    """The ``data.txt`` number that makes finetune.py's ``--given_num True`` draw exactly ``count`` samples."""
    value = count / 1000
    while int(float(repr(value)) * 1000) < count:  # 1.001 * 1000 is 1000.9999999999999
        value = math.nextafter(value, math.inf)
    return repr(value)


def geometry(settings: ExportSettings) -> Geometry:
    """What XComposer2 sees of every image: the ``IMG_SIZE`` square."""
    return Geometry(settings.family, settings.limits, fixed_wh=(IMG_SIZE, IMG_SIZE))


def _path(folder: Path, relative: str, settings: ExportSettings) -> str:
    return str(folder / relative) if settings.paths == "absolute" else relative


def _quoted(path: str) -> str:
    return json.dumps(path) if " " in path else path


def write(samples: Sequence[ExportSample], settings: ExportSettings, folder: Path) -> FormatOutput:
    warnings: list[str] = []
    dialogue = Dialogue(settings)
    targets = geometry(settings)
    entries = []
    for sample in samples:
        turns: list[dict] = []
        for n, (question, answer) in enumerate(dialogue.pairs(sample, targets)):
            turns.append({"from": "user", "value": user_text(sample, question, placeholder=PLACEHOLDER)
                          if n == 0 else question})
            turns.append({"from": "assistant", "value": answer})
        entries.append({"id": str(sample.position),
                        "image": [_path(folder, image.file, settings) for image in sample.images],
                        "conversations": turns})
    copy_images(samples, folder)
    write_json(folder / ANNOTATIONS, entries)
    data_json = _path(folder, ANNOTATIONS, settings)
    move_in = settings.paths == "relative" or " " in data_json
    if move_in:  # a data.txt line cannot hold a space: name the JSON from inside the export folder
        data_json = ANNOTATIONS
    (folder / DATA_TXT).write_text(f"{data_json} {given_num(len(entries))}\n", encoding="utf-8")
    data_arg = DATA_TXT if move_in else str(folder / DATA_TXT)
    command = (f"torchrun <InternLM-XComposer>/InternLM-XComposer-2.0/finetune/finetune.py "
               f"--data_path {_quoted(data_arg)} {TRAIN_OPTIONS}")
    if move_in:
        command = f"cd {_quoted(str(folder))} && {command}"
        if settings.paths == "absolute":
            warnings.append(f"the export path holds a space, which a {DATA_TXT} line cannot: {DATA_TXT} names "
                            f"{ANNOTATIONS} from inside the export folder, so run the command from there "
                            "(it starts with cd)")
    usage = (f"{command} plus the other options of its finetune.sh (with absolute paths for --deepspeed and the "
             f"model when the command changes folder). {DATA_TXT} holds the sample count for --given_num True "
             f"({len(entries)} samples); targets are for --img_size {IMG_SIZE} --hd_num -1. Image paths are "
             + ("absolute." if settings.paths == "absolute" else "relative to the export folder."))
    details = {**dialogue.details(), "xcomposer2": {"samples": len(entries), "given_num": True,
                                                   "img_size": IMG_SIZE, "hd_num": -1}}
    return FormatOutput(len(entries), (ANNOTATIONS, DATA_TXT, "images/"), tuple(warnings), usage, details)


def _data_lines(folder: Path, problems: Problems) -> list[tuple[Path, str]]:
    """``(json file, number)`` per line of data.txt, read exactly as finetune.py reads it; the export folder is
    the working directory for relative lines (the command changes into it)."""
    lines: list[Any] = []
    try:
        text = (folder / DATA_TXT).read_text(encoding="utf-8")
    except OSError:
        problems.add(f"{DATA_TXT} is missing: finetune.sh trains from it")
        return lines
    for line in text.splitlines():
        parts = line.strip().split(" ")
        if not line.strip():
            continue
        if len(parts) != 2:  # finetune.py asserts it under --given_num True
            problems.add(f"{DATA_TXT}: line {line!r} is not 'path number' split on one space")
            continue
        path = Path(parts[0]) if Path(parts[0]).is_absolute() else folder / parts[0]
        lines.append((path, parts[1]))
    return lines


def validate(folder: Path, settings: ExportSettings) -> list[str]:
    problems = Problems()
    entries = load_json(folder / ANNOTATIONS, problems)
    if not isinstance(entries, list):
        return problems.result() or [f"{ANNOTATIONS}: expected a JSON list"]
    for path, number in _data_lines(folder, problems):
        if path.resolve() != (folder / ANNOTATIONS).resolve():
            problems.add(f"{DATA_TXT}: names {path}, not this export's {ANNOTATIONS}")
            continue
        try:
            drawn = int(float(number) * 1000)  # finetune.py, --given_num True
        except ValueError:
            problems.add(f"{DATA_TXT}: {number!r} is not a number")
            continue
        if drawn != len(entries):
            problems.add(f"{DATA_TXT}: {number} makes finetune.py draw {drawn} samples of {len(entries)}")
    targets = geometry(settings)
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
            check_answer(str(turn.get("value", "")), image_sizes, targets, problems, where)
    return problems.result()


FORMAT = ExportFormat("xcomposer2", "InternLM-XComposer2 JSON + data.txt", True,
                      f"the family's convention on the {IMG_SIZE}x{IMG_SIZE} image XComposer2 trains on "
                      f"(Qwen2.5-VL: pixels of that square, 0-{IMG_SIZE - 1}; Qwen2-VL/Qwen3-VL: 0-1000)",
                      write, validate, questions=True)

"""VLM-R1 JSONL: REC (one entry per box, ``<answer>[x1,y1,x2,y2]</answer>``) or OVD (one per image).

What VLM-R1 compares (src/open-r1-multimodal/src/open_r1/grpo_jsonl.py and
vlm_modules/qwen_module.py): the loader strips ``<image>`` from the question and
``<answer>``/``</answer>`` from the answer, then wraps the answer as ``<answer> ... </answer>``.

- REC, with the Qwen module's own rewards (``--is_reward_customized_from_vlm_module True
  --task_type rec``): ``iou_reward`` parses integers only and rescales the PREDICTION from the
  model input size (``image_grid_thw``) of the first image to the original image: ground truth
  is integers in original pixels.
- OVD: the Qwen module has no OVD reward; ``--is_reward_customized_from_vlm_module False
  --reward_method odLength`` uses ``odLength_reward``, which takes the last fenced JSON list of
  each side and scores COCO mAP between the model's RAW boxes and the ground truth, without
  rescaling. So OVD ground truth is written in the model's own coordinates (Qwen2.5-VL:
  absolute on the image resized with the trainer's ``--min_pixels``/``--max_pixels``;
  Qwen2-VL/Qwen3-VL: 0-1000), exactly what a perfect answer holds.

Its Qwen module cannot train multi-image samples (one output row per image), so every entry
holds exactly one image: multi-image samples are split, with a warning.

Which checkpoints it trains at all: ``get_vlm_module`` picks the Qwen module for any model path
containing "qwen", and that module's ``get_model_class`` accepts a path containing ``Qwen2-VL``
or ``Qwen2.5-VL`` (case as written) and raises "Unsupported model" for any other, Qwen3-VL
included (:data:`TRAINER_CHECKED`). An export for another family says so in its warnings and
manifest (``vlmr1_trainer``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from workbench.export.base import (
    ExportFormat,
    FormatOutput,
    ImageSizes,
    Problems,
    check_coords,
    check_label,
    load_jsonl,
)
from workbench.export.dialogue import Dialogue
from workbench.export.files import copy_images, write_jsonl
from workbench.export.questions import conversation
from workbench.export.samples import ExportImage, ExportSample
from workbench.export.settings import ExportSettings
from workbench.export.targets import Geometry, json_answer, original_ints

TRAINER_CHECKED = "om-ai-lab/VLM-R1 main at 90052f4 (2026-07-07), vlm_modules/qwen_module.py"
"""Where :data:`MODEL_CLASSES` was read: what VLM-R1 accepts today."""
MODEL_CLASSES = {"qwen2-vl": ("Qwen2-VL", "Qwen2VLForConditionalGeneration"),
                 "qwen2.5-vl": ("Qwen2.5-VL", "Qwen2_5_VLForConditionalGeneration")}
"""Families VLM-R1's Qwen module trains: the text its model path must contain, the class it loads."""


def trainer_support(settings: ExportSettings) -> dict[str, object]:
    """What VLM-R1 accepts today and whether it takes this export's family (the manifest's ``vlmr1_trainer``).

    >>> trainer_support(ExportSettings.create("qwen3-vl"))["accepts_family"]
    False
    """
    found = MODEL_CLASSES.get(settings.family.name)
    return {"checked": TRAINER_CHECKED, "accepts_family": found is not None,
            "families": sorted(MODEL_CLASSES),
            "model_path_must_contain": found[0] if found else None, "model_class": found[1] if found else None}


def support_warning(settings: ExportSettings) -> str | None:
    """A warning when VLM-R1 refuses checkpoints of the export's family."""
    if settings.family.name in MODEL_CLASSES:
        return None
    accepted = " or ".join(repr(text) for text, _ in MODEL_CLASSES.values())
    return (f"VLM-R1 refuses {settings.family.name} checkpoints today: its Qwen module's get_model_class accepts a "
            f"model path containing {accepted} and raises 'Unsupported model' for any other ({TRAINER_CHECKED}); "
            f"these files are for {settings.family.name}, for a VLM-R1 that supports it")


REC_QUESTION = "Please provide the bounding box coordinate of the region this sentence describes: {label}."
"""VLM-R1's own REC phrasing (its RefCOCO data), the default ``referring`` template of this format."""
_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.S)
_FENCED = re.compile(r"```json(.*?)```", re.S)
_INTEGERS = re.compile(r"\[(\d+),\s*(\d+),\s*(\d+),\s*(\d+)]")


def file_name(settings: ExportSettings) -> str:
    return f"vlmr1_{settings.vlmr1_task}.jsonl"


def _entry(n: int, image: ExportImage, question: str, answer: str) -> dict:
    return {"id": n, "image": image.file, "conversations": [
        {"from": "human", "value": f"<image>{question}"}, {"from": "gpt", "value": answer}]}


def to_rows(samples: Sequence[ExportSample], settings: ExportSettings, dialogue: Dialogue,
            warnings: list[str]) -> list[dict]:
    rows: list[dict] = []
    multi = sum(1 for s in samples if len(s.images) > 1)
    if multi:
        warnings.append(f"{multi} multi-image samples split into one entry per image: VLM-R1's Qwen module "
                        "cannot train multi-image samples")
    geometry = Geometry(settings.family, settings.limits)
    for sample in samples:
        for image in sample.images:
            single = replace(sample, images=(image,))
            if settings.vlmr1_task == "ovd":  # fenced JSON whatever the family: odLength parses nothing else
                talk = conversation(single, settings.family, "objects", dialogue.templates, settings.negative_labels)
                dialogue.own_prompts += talk.own_prompt
                dialogue.generated += 1 - talk.own_prompt
                [turn] = talk.turns
                answer = json_answer([{"bbox_2d": geometry.model_coords(obj.coords, image.wh), "label": obj.label}
                                      for _, obj in turn.objects])
                rows.append(_entry(len(rows) + 1, image, turn.question, answer))
                continue
            talk = conversation(single, settings.family, "referring", dialogue.templates)
            dialogue.generated += len(talk.turns)
            for turn in talk.turns:
                [(_, obj)] = turn.objects
                x1, y1, x2, y2 = original_ints(obj.coords, image.wh)
                rows.append(_entry(len(rows) + 1, image, turn.question, f"<answer>[{x1},{y1},{x2},{y2}]</answer>"))
    return rows


def _quoted(path: Path) -> str:
    return json.dumps(str(path)) if " " in str(path) else str(path)


def _checkpoint(settings: ExportSettings) -> str:
    found = MODEL_CLASSES.get(settings.family.name)
    return f"a {found[0]} checkpoint, its path containing '{found[0]}'" if found else \
        f"{settings.family.name} checkpoint: refused by VLM-R1 today"


def command(settings: ExportSettings, folder: Path) -> str:
    """The VLM-R1 command line that trains on this export (run from its src/open-r1-multimodal)."""
    if settings.vlmr1_task == "rec":
        task = "--is_reward_customized_from_vlm_module True --task_type rec"
    else:
        task = "--is_reward_customized_from_vlm_module False --task_type odLength --reward_method odLength"
    return (f"cd <VLM-R1>/src/open-r1-multimodal && torchrun --nproc_per_node 8 src/open_r1/grpo_jsonl.py "
            f"--model_name_or_path <{_checkpoint(settings)}> "
            f"--data_file_paths {_quoted(folder / file_name(settings))} --image_folders {_quoted(folder)} "
            f"{task} --reward_funcs accuracy format --min_pixels {settings.limits.min_pixels} "
            f"--max_pixels {settings.limits.max_pixels} --output_dir <output folder> "
            "(other options as in its run_scripts/run_grpo_rec.sh)")


def write(samples: Sequence[ExportSample], settings: ExportSettings, folder: Path) -> FormatOutput:
    warnings: list[str] = []
    dialogue = Dialogue(settings, format_templates={"referring": REC_QUESTION},
                        task="referring" if settings.vlmr1_task == "rec" else "objects")
    if (refused := support_warning(settings)) is not None:
        warnings.append(refused)
    rows = to_rows(samples, settings, dialogue, warnings)
    copy_images(samples, folder)
    write_jsonl(folder / file_name(settings), rows)
    return FormatOutput(len(rows), (file_name(settings), "images/"), tuple(warnings), command(settings, folder),
                        {**dialogue.details(), "vlmr1_trainer": trainer_support(settings)})


def ground_truth(answer: str) -> str:
    """The ground truth the reward functions see: VLM-R1's loader strips the tags, then wraps it again."""
    solution = answer.replace("<answer>", "").replace("</answer>", "").strip()
    return _ANSWER.findall(f"<answer> {solution} </answer>")[-1].strip()


def ovd_objects(answer: str) -> list | None:
    """The ground-truth objects ``odLength_reward`` parses (the last fenced JSON list), or None."""
    fenced = _FENCED.findall(ground_truth(answer))
    if not fenced:
        return None
    try:
        value = json.loads(fenced[-1].strip())
    except ValueError:
        return None
    return value if isinstance(value, list) else None


def validate(folder: Path, settings: ExportSettings) -> list[str]:
    problems = Problems()
    sizes = ImageSizes(folder)
    geometry = Geometry(settings.family, settings.limits)
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
        wh = sizes(str(images[0]), problems, where)
        answer = str(turns[1].get("value", ""))
        if settings.vlmr1_task == "rec":
            truth = ground_truth(answer)
            if not _INTEGERS.fullmatch(truth):  # iou_reward json.loads it: integers only
                problems.add(f"{where}: REC answer {answer!r} is not <answer>[x1,y1,x2,y2]</answer> in integers")
            elif wh:
                check_coords(json.loads(truth), wh, problems, where)
            continue
        entries = ovd_objects(answer)
        if entries is None:
            problems.add(f"{where}: OVD answer holds no fenced JSON list odLength can read")
            continue
        for entry in entries:
            if not isinstance(entry, dict):
                problems.add(f"{where}: OVD object {entry!r} is not a JSON object")
                continue
            if wh:  # the model's own coordinates: the reward does not rescale
                check_coords(entry.get("bbox_2d"), geometry.extent(wh), problems, where)
            check_label(entry.get("label"), problems, where)
    return problems.result()


FORMAT = ExportFormat("vlmr1", "VLM-R1 JSONL (REC or OVD)", False,
                      "REC: integers in original-image pixels (its reward rescales predictions); OVD: the family's "
                      "model coordinates under the trainer's pixel limits (its reward does not rescale)",
                      write, validate, kinds=("box",), questions=True)

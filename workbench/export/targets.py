"""Training targets: model-space integers for each box/point and the texts that carry them.

Coordinates go through ``grounding`` only: :func:`~grounding.trainer_resize.trainer_geometry`
gives what the model sees under the trainer's limits (after any pre-resize the trainer does),
:func:`~grounding.to_model` converts, :func:`~grounding.clamp_to` keeps targets inside the
model's space (Qwen2.5-VL: ``[0, W'-1] x [0, H'-1]``; 0-1000 families: ``[0, 1000]``) and
:func:`~grounding.round_half_up` makes integers.

The official conversion example (640x428 bowl, Qwen2-VL):

>>> geometry = Geometry("qwen2-vl", PixelLimits(3136, 12845056))
>>> geometry.model_coords((146, 137, 615, 415), (640, 428))
[228, 320, 961, 970]
>>> Geometry("qwen2.5-vl", PixelLimits(3136, 12845056)).model_coords((0, 0, 640, 480), (640, 480))
[0, 0, 643, 475]
>>> Geometry("qwen2.5-vl", PixelLimits(3136, 12845056), fixed_wh=(490, 490)).model_coords((0, 0, 320, 480), (640, 480))
[0, 0, 245, 489]
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import lru_cache

from grounding import (
    ModelFamily,
    PixelLimits,
    ProcessedImage,
    clamp_to,
    round_half_up,
    to_model,
)
from grounding.trainer_resize import trainer_geometry
from workbench.export.samples import ExportImage, ExportObject, ExportSample

__all__ = [
    "Geometry",
    "answer_text",
    "original_ints",
    "user_text",
    "json_answer",
    "qwen2_answer",
]


class Geometry:
    """Original pixels -> one family's training targets, for images of any size (cached per size)."""

    def __init__(self, family: ModelFamily | str, limits: PixelLimits,
                 pre_resize: Callable[[tuple[int, int]], tuple[int, int]] | None = None, *,
                 fixed_wh: tuple[int, int] | None = None) -> None:
        """``fixed_wh``: the trainer resizes every image to exactly this size, whatever its own
        (XComposer2's 490x490), instead of the family's processor."""
        self.family = ModelFamily.from_name(family)
        self.limits = limits
        self._pre_resize = pre_resize
        self._fixed_wh = fixed_wh
        self.seen = lru_cache(maxsize=4096)(self._seen)

    def _seen(self, original_wh: tuple[int, int]) -> ProcessedImage:
        if self._fixed_wh is not None:
            return ProcessedImage(original_wh=(original_wh[0], original_wh[1]), resized_wh=self._fixed_wh, family=self.family)
        pre = self._pre_resize(original_wh) if self._pre_resize else None
        return trainer_geometry(original_wh, self.family, self.limits, pre_resize_wh=pre)

    def extent(self, original_wh: tuple[int, int]) -> tuple[float, float]:
        """Largest target value per axis: W'-1, H'-1 (absolute) or 1000 (relative)."""
        image = self.seen(tuple(original_wh))
        if self.family.is_relative:
            return image.model_wh
        return (image.resized_wh[0] - 1.0, image.resized_wh[1] - 1.0)

    def model_coords(self, coords: Sequence[float], original_wh: tuple[int, int]) -> list[int]:
        image = self.seen(tuple(original_wh))
        return [round_half_up(v) for v in clamp_to(to_model(coords, image), self.extent(image.original_wh))]


def original_ints(coords: Sequence[float], original_wh: tuple[int, int]) -> list[int]:
    """Integers in original pixels, inside the image (VLM-R1's reward parses integers only).

    >>> original_ints((-3.2, 10.5, 700, 99.49), (640, 480))
    [0, 11, 640, 99]
    """
    return [round_half_up(v) for v in clamp_to(coords, original_wh)]


def user_text(sample: ExportSample, prompt: str, *, placeholder: str = "<image>") -> str:
    """The user turn: one placeholder per image in order, then the prompt.

    A multi-image sample names each image as the chat template does ("Picture N: ") plus the
    user's image ID, so answers can say which picture a box belongs to.

    >>> from pathlib import Path
    >>> images = tuple(ExportImage(i, n, Path("x.png"), "x.png", "x.png", (8, 8), ()) for n, i in enumerate(["a", "b"], 1))
    >>> user_text(ExportSample(1, 1, "Find cats.", images), "Find cats.")
    'Picture 1 (a): <image>\\nPicture 2 (b): <image>\\nFind cats.'
    >>> user_text(ExportSample(1, 1, "", images[:1]), "Find cats.")
    '<image>\\nFind cats.'
    """
    if len(sample.images) == 1:
        return f"{placeholder}\n{prompt}"
    lines = [f"Picture {image.position} ({image.image_id}): {placeholder}" for image in sample.images]
    return "\n".join(lines + [prompt])


def _object_entry(obj: ExportObject, coords: list[int], image: ExportImage, multi: bool) -> dict:
    key = "bbox_2d" if obj.kind == "box" else "point_2d"
    entry: dict = {key: coords, "label": obj.label}
    if multi:
        entry["image"] = image.position
    return entry


def json_answer(entries: Sequence[dict]) -> str:
    """Qwen2.5-VL / Qwen3-VL style answer: a fenced JSON list, one object per line.

    >>> print(json_answer([{"bbox_2d": [1, 2, 3, 4], "label": "cat"}]))
    ```json
    [
      {"bbox_2d": [1, 2, 3, 4], "label": "cat"}
    ]
    ```
    """
    body = ",\n".join("  " + json.dumps(entry, ensure_ascii=False) for entry in entries)
    return "```json\n[\n" + body + ("\n" if body else "") + "]\n```"


def qwen2_answer(items: Sequence[tuple[str, list[int], int | None]]) -> str:
    """Qwen2-VL special-token answer for (label, box, picture or None) triples.

    >>> qwen2_answer([("bowl", [228, 320, 961, 970], None)])
    '<|object_ref_start|>bowl<|object_ref_end|><|box_start|>(228,320),(961,970)<|box_end|>'
    """
    lines = []
    for label, (x1, y1, x2, y2), picture in items:
        prefix = f"Picture {picture}: " if picture is not None else ""
        lines.append(f"{prefix}<|object_ref_start|>{label}<|object_ref_end|>"
                     f"<|box_start|>({x1},{y1}),({x2},{y2})<|box_end|>")
    return "\n".join(lines)


def answer_text(objects: Sequence[tuple[ExportImage, ExportObject]], geometry: Geometry, *, multi: bool) -> str:
    """The assistant turn in the family's own output convention, coordinates converted per image.

    ``multi`` adds each object's picture number (``"image": N``, or ``Picture N:`` for Qwen2-VL).
    Points reach a Qwen2-VL answer never: it has no point syntax, and the export leaves them out
    before (:func:`workbench.export.questions.task_kinds`).

    >>> image = ExportImage("a", 1, None, "a.png", "a.png", (640, 428), ())
    >>> bowl = ExportObject("box", (146, 137, 615, 415), "bowl")
    >>> answer_text([(image, bowl)], Geometry("qwen3-vl", PixelLimits(3136, 12845056)), multi=False)
    '```json\\n[\\n  {"bbox_2d": [228, 320, 961, 970], "label": "bowl"}\\n]\\n```'
    """
    if not geometry.family.writes_json:
        if any(obj.kind != "box" for _, obj in objects):
            raise ValueError("Qwen2-VL answers carry boxes only")
        return qwen2_answer([(obj.label, geometry.model_coords(obj.coords, image.wh), image.position if multi else None)
                             for image, obj in objects])
    return json_answer([_object_entry(obj, geometry.model_coords(obj.coords, image.wh), image, multi)
                        for image, obj in objects])

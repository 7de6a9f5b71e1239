"""Step by step: one image per turn of one conversation, earlier turns kept as history.

Turn k shows image k (after the images of turns 1..k-1, which stay in the conversation with
the model's answers) and asks the single-image question; its answer is parsed with image k's
own geometry from that call, so every box lands on the image of its turn. Images are named the
same way in every turn (``Picture N:`` by default, counted across the conversation).

>>> import io
>>> from PIL import Image
>>> from workbench.backends import FakeBackend
>>> pictures = []
>>> for size in [(640, 480), (300, 500)]:
...     buffer = io.BytesIO(); Image.new("RGB", size).save(buffer, "PNG"); pictures.append(buffer.getvalue())
>>> answer = lambda request, geometry: '[{"bbox_2d": [0, 0, %d, 10], "label": "cat"}]' % geometry[-1].resized_wh[0]
>>> result = ground_step_by_step(FakeBackend(answer), pictures, target="cat")
>>> [(d["image"], d["original"][2]) for d in result["detections"]]
[(1, 640.0), (2, 300.0)]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from grounding import PixelLimits
from grounding.prompts import GroundingTask, ImageNaming
from workbench.backends.base import ImageInput, ModelBackend
from workbench.errors import WorkbenchError
from workbench.multi.common import (
    ProgressCallback,
    detections_json,
    ids_for,
    make_request,
    report_progress,
)
from workbench.run_settings import DEFAULT_MAX_NEW_TOKENS
from workbench.runs.pipeline import image_table

__all__ = ["ground_step_by_step"]


def ground_step_by_step(
    backend: ModelBackend,
    images: Sequence[ImageInput],
    *,
    target: str | None = None,
    prompt: str | None = None,
    task: GroundingTask | str = GroundingTask.BOXES,
    image_ids: Sequence[str] = (),
    naming: ImageNaming | str = ImageNaming.PICTURE,
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
    limits: PixelLimits | None = None,
    on_progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """JSON-ready: each turn (its image, prompt, raw answer, detections, warnings), every
    detection on its turn's image, and the images with the geometry of the last call."""
    from grounding.parse import parse_grounding

    if not images:
        raise WorkbenchError("give at least one image")
    ids = ids_for(len(images), image_ids)
    family = backend.family()
    history: list[dict] = []
    turns: list[dict[str, Any]] = []
    detections: list[Any] = []
    output = None
    for k in range(1, len(images) + 1):
        request = make_request(family, images[:k], ids[:k], target=target, prompt=prompt, task=task, naming=naming,
                               max_new_tokens=max_new_tokens, limits=limits, history=tuple(history),
                               text_ids=[ids[k - 1]])
        output = backend.generate(request)
        parsed = parse_grounding(output.text, output.family, output.images[k - 1])
        found = [dataclasses.replace(d, image=k) for d in parsed.detections]
        detections += found
        turns.append({
            "turn": k,
            "image": k,
            "image_id": ids[k - 1],
            "prompt": request.prompt,
            "text": output.text,
            "finish_reason": output.finish_reason,
            "prompt_tokens": output.prompt_tokens,
            "detections": detections_json(found, ids),
            "warnings": list(output.warnings) + list(parsed.warnings),
        })
        history = list(request.history) + [
            {"role": "user", "content": [{"type": "image", "image_id": ids[k - 1]},
                                         {"type": "text", "text": request.prompt}]},
            {"role": "assistant", "content": output.text},
        ]
        report_progress(on_progress, k, len(images))
    assert output is not None
    return {
        "model": output.model,
        "family": output.family.name,
        "naming": ImageNaming(naming).value,
        "images": image_table(output, ids, request.image_names()),
        "turns": turns,
        "detections": detections_json(detections, ids),
        "warnings": [f"turn {t['turn']}: {w}" for t in turns for w in t["warnings"]],
    }

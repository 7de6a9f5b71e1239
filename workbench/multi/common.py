"""What the multi-image and tiling runs share: a request for some images, and JSON for detections.

>>> ids_for(2, ())
('img1', 'img2')
>>> ids_for(2, ["front", "back"])
('front', 'back')
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from grounding import ModelFamily, PixelLimits
from grounding.prompts import (
    GroundingTask,
    ImageNaming,
    default_image_ids,
    request_text,
)
from workbench.backends.base import GroundingRequest, ImageInput
from workbench.errors import WorkbenchError
from workbench.runs.pipeline import detection_dict

__all__ = ["ProgressCallback", "ids_for", "make_request", "detections_json", "report_progress", "with_names"]

ProgressCallback = Callable[[int, int], None]
"""``(done, total)`` model calls, called after each one (for a progress bar)."""


def ids_for(count: int, image_ids: Sequence[str]) -> tuple[str, ...]:
    """The user's IDs, or ``img1`` ... ``imgN``; the count must match."""
    ids = tuple(str(i).strip() for i in image_ids) or tuple(default_image_ids(count))
    if len(ids) != count:
        raise WorkbenchError(f"{count} images but {len(ids)} image IDs")
    return ids


def make_request(
    family: ModelFamily, images: Sequence[ImageInput], image_ids: Sequence[str], *, target: str | None,
    prompt: str | None, task: GroundingTask | str, naming: ImageNaming | str | None, max_new_tokens: int,
    limits: PixelLimits | None, history: tuple[dict, ...] = (), text_ids: Sequence[str] | None = None,
) -> GroundingRequest:
    """A request whose text is the family's phrasing for ``target`` (or the user's ``prompt``),
    with the multi-image instruction for ``text_ids`` (default: ``image_ids``) and ``naming``."""
    resolved = ImageNaming(naming) if naming is not None else (
        ImageNaming.PICTURE if len(images) > 1 else ImageNaming.NONE)
    try:
        text = request_text(family, list(image_ids if text_ids is None else text_ids), target=target, prompt=prompt,
                            task=task, naming=resolved)
    except ValueError as exc:
        raise WorkbenchError(str(exc)) from None
    return GroundingRequest(images=tuple(images), prompt=text, image_ids=tuple(image_ids), naming=naming,
                            max_new_tokens=max_new_tokens, limits=limits, history=history)


def detections_json(detections: Sequence[Any], image_ids: Sequence[str] = ()) -> list[dict[str, object]]:
    """Detections as JSON, each with its image's user ID."""
    return [detection_dict(d, image_ids) for d in detections]


def report_progress(on_progress: ProgressCallback | None, done: int, total: int) -> None:
    if on_progress is not None:
        on_progress(done, total)


def with_names(value: Any, paths: Sequence[Any], names: Sequence[str]) -> Any:
    """``value`` (JSON-ready) with every file path in its text replaced by the name given for it
    (the caller's file names, or an item's image IDs): no answer shows where the files lie.

    >>> with_names({"file": "/up/x1/a.png", "text": "cannot read /up/x1/a.png"}, ["/up/x1/a.png"], ["a.png"])
    {'file': 'a.png', 'text': 'cannot read a.png'}
    """
    pairs = sorted(zip(map(str, paths), names), key=lambda pair: -len(pair[0]))

    def rename(item: Any) -> Any:
        if isinstance(item, str):
            for path, name in pairs:
                if path in item:
                    item = item.replace(path, name)
            return item
        if isinstance(item, dict):
            return {key: rename(v) for key, v in item.items()}
        if isinstance(item, (list, tuple)):
            return [rename(v) for v in item]
        return item

    return rename(value)

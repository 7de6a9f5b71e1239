"""Prompt -> model -> parsed detections in original pixels, per image.

The backend reports the geometry each image had in the call (from the processor's
``image_grid_thw`` locally, from the server's pixel limits remotely); the parser
(:func:`grounding.parse.parse_grounding`) reads the raw text with that geometry, so each
detection is rescaled with its own image's grid. Parsing never raises on model text;
problems come back as warnings next to the backend's (e.g. truncation).

>>> from grounding import process_size
>>> output = RawOutput(text="", images=(process_size((640, 480), "qwen2.5-vl"),), model="m")
>>> image_table(output, ("img1",), ["a.png"])
[{'id': 'img1', 'picture': 1, 'file': 'a.png', 'original': [640, 480], 'resized': [644, 476], 'grid_thw': [1, 34, 46], 'tokens': 391}]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from workbench.backends.base import GroundingRequest, ModelBackend, RawOutput

__all__ = ["GroundingRun", "parse_output", "run_grounding", "image_table", "detection_dict"]


@dataclass(frozen=True)
class GroundingRun:
    """A model call and what was parsed from it."""

    request: GroundingRequest
    output: RawOutput
    detections: tuple[Any, ...]
    warnings: tuple[str, ...]
    empty: bool = False
    """The model answered that there is nothing to find (an explicit empty answer, not a failure)."""
    reasoning: str = ""
    """What the model reasoned before answering (empty when it did not)."""

    def as_dict(self) -> dict[str, object]:
        """JSON-ready: model, images with their geometry, raw text, detections, warnings."""
        return {
            "model": self.output.model,
            "family": self.output.family.name,
            "images": image_table(self.output, self.request.image_ids, self.request.image_names()),
            "text": self.output.text,
            "finish_reason": self.output.finish_reason,
            "thinking": self.output.thinking.value,
            **({"reasoning": self.reasoning} if self.reasoning else {}),
            "detections": [detection_dict(d, self.request.image_ids) for d in self.detections],
            "warnings": list(self.warnings),
            **({"empty": True} if self.empty else {}),
        }


def image_table(output: RawOutput, image_ids: Sequence[str], names: Sequence[str]) -> list[dict[str, object]]:
    """One row per image: user ID, picture number, file and the geometry used for parsing."""
    return [
        {"id": image_id, "picture": number, "file": name, **image.as_dict()}
        for number, (image_id, name, image) in enumerate(zip(image_ids, names, output.images), start=1)
    ]


def detection_dict(detection: Any, image_ids: Sequence[str] = ()) -> dict[str, object]:
    """A parsed detection as JSON, with the user's image ID next to its picture number."""
    if hasattr(detection, "as_dict"):
        data = detection.as_dict()
    else:
        data = dataclasses.asdict(detection) if dataclasses.is_dataclass(detection) and not isinstance(detection, type) else dict(vars(detection))
    data = {k: (list(v) if isinstance(v, tuple) else v) for k, v in data.items()}
    picture = data.get("image")
    if isinstance(picture, int) and 1 <= picture <= len(image_ids):
        data["image_id"] = image_ids[picture - 1]
    return data


def parse_output(request: GroundingRequest, output: RawOutput) -> GroundingRun:
    """Parse a backend's raw text with the geometry of this very call."""
    from grounding.parse import (
        parse_grounding,  # the parser package; imported here, where it is used
    )

    # answers that name images by ID ("image": "front") land on that image, never on the digits in the ID
    images = list(output.images)
    if request.convention:  # the dataset's reading (a probe's verdict), on this call's own geometry
        images = [dataclasses.replace(image, family=image.family.with_convention(request.convention))
                  for image in images]
    parsed = parse_grounding(output.text, images[0].family, images, image_ids=request.image_ids,
                             coordinate_keys=request.coordinate_keys, prompt=request.prompt)
    return GroundingRun(
        request=request,
        output=output,
        detections=tuple(parsed.detections),
        warnings=tuple(output.warnings) + tuple(parsed.warnings),
        empty=parsed.empty,
        reasoning=parsed.reasoning,
    )


def run_grounding(
    backend: ModelBackend, request: GroundingRequest, *, on_text: Callable[[str], None] | None = None
) -> GroundingRun:
    """Generate (streaming pieces to ``on_text``) and parse."""
    return parse_output(request, backend.generate(request, on_text=on_text))

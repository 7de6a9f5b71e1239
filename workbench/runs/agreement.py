"""Agreement: the same item asked again, at another pixel budget or mirrored, and each box's IoU with its match.

A box the model finds again when the picture is smaller, or flipped left to right, is more likely
right than one that moves or disappears. This costs a second call, so it is optional. Boxes are
matched one to one within each label and picture (the Hungarian method on IoU,
:func:`grounding.box_match.match_boxes`); a box with no match gets 0. Mirroring changes what "left"
and "right" mean: do not use it with prompts that name a side.

>>> from grounding.parse import Detection
>>> a = [Detection("box", "cup", 1, (0, 0, 10, 10), (0.0, 0.0, 10.0, 10.0), False)]
>>> b = [Detection("box", "cup", 1, (0, 0, 10, 5), (0.0, 0.0, 10.0, 5.0), False)]
>>> box_agreement(a, b, pictures=1)
[0.5]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Literal

from PIL import Image, ImageOps

from grounding import PixelLimits
from grounding.box_match import match_boxes
from grounding.parse import Detection
from workbench.backends import GroundingRequest, ModelBackend, RawOutput
from workbench.backends.media import upright_rgb
from workbench.errors import WorkbenchError
from workbench.runs.pipeline import parse_output

__all__ = ["AGREEMENT_MODES", "AgreementMode", "box_agreement", "second_answer", "second_request"]

AgreementMode = Literal["budget", "mirror"]
AGREEMENT_MODES: dict[str, str] = {"budget": "half the pixel budget", "mirror": "mirrored left to right"}


def second_request(request: GroundingRequest, output: RawOutput, mode: str) -> GroundingRequest:
    """The same question at half the pixels the first call's smallest picture had, or on mirrored pictures."""
    if mode == "budget":
        limits = output.limits or request.limits or PixelLimits.default_for(output.family)
        pixels = min(image.resized_wh[0] * image.resized_wh[1] for image in output.images)
        high = max(pixels // 2, 1)
        return replace(request, limits=PixelLimits(min(limits.min_pixels, high), high), logprobs=0)
    if mode == "mirror":
        mirrored: tuple[Image.Image, ...] = tuple(ImageOps.mirror(upright_rgb(image)) for image in request.images)
        return replace(request, images=mirrored, logprobs=0)
    raise WorkbenchError(f"unknown agreement check {mode!r}; expected one of {', '.join(AGREEMENT_MODES)}")


def _unmirrored(detection: Detection, width: float) -> Detection:
    coords = detection.original
    flipped = (width - coords[2], coords[1], width - coords[0], coords[3]) if detection.kind == "box" else \
        (width - coords[0], coords[1])
    return Detection(detection.kind, detection.label, detection.image, detection.model, flipped, detection.outside,
                     detection.attributes)


def second_answer(backend: ModelBackend, request: GroundingRequest, output: RawOutput,
                  mode: str) -> tuple[Detection, ...]:
    """Ask again (:func:`second_request`) and bring the answer's boxes back onto the original pictures."""
    again = second_request(request, output, mode)
    found = parse_output(again, backend.generate(again)).detections
    if mode == "mirror":
        widths = [image.original_wh[0] for image in output.images]
        found = tuple(_unmirrored(d, widths[d.image - 1]) for d in found)
    return tuple(found)


def box_agreement(first: Sequence[Detection], second: Sequence[Detection], *, pictures: int) -> list[float | None]:
    """Per detection of ``first``: the IoU of its match in ``second`` (same picture and label), 0 without one;
    None for points."""
    out: list[float | None] = [None if d.kind != "box" else 0.0 for d in first]
    for picture in range(1, pictures + 1):
        rows = [i for i, d in enumerate(first) if d.image == picture and d.kind == "box"]
        cols = [d for d in second if d.image == picture and d.kind == "box"]
        if not rows or not cols:
            continue
        pairs = match_boxes([first[i].original for i in rows], [first[i].label for i in rows],
                            [d.original for d in cols], [d.label for d in cols])
        for pair in pairs:
            out[rows[pair.a]] = round(pair.iou, 4)
    return out

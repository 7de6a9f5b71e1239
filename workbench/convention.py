"""Probe a model or server for the coordinate convention it really writes (the calls; the logic is
:mod:`grounding.convention_probe`).

Each probe scene is drawn (plain-coloured shapes on white), sent through the backend exactly as a grounding
request (the backend's own pixel limits and limits style, thinking off where the family has the switch), and
the answer's numbers are read as written; after each answer the verdict is judged, and the probe stops as soon
as no further scene could change it (three calls at most). The server's ``usage.prompt_tokens`` narrows the
pixel limits where it is reported.

>>> png = scene_png(PROBE_SCENES[1])
>>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
True
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageDraw

from grounding import CoordinateConvention, ModelFamily, PixelLimits, process_size
from grounding.convention_probe import (
    PROBE_SCENES,
    PROBE_TARGET,
    ConventionReport,
    ProbeAnswer,
    ProbeScene,
    judge,
)
from grounding.parse import parse_grounding
from grounding.prompts import grounding_instruction
from workbench.backends.base import GroundingRequest, ModelBackend
from workbench.presets import presets_for

__all__ = ["PROBE_SCENES", "ReadingSettings", "candidate_limits", "probe_convention", "scene_png", "written_numbers"]


@functools.lru_cache(maxsize=8)
def scene_png(scene: ProbeScene) -> bytes:
    """The scene as PNG bytes (flat colours: a few kilobytes even at 24 megapixels)."""
    image = Image.new("RGB", scene.size_wh, scene.background)
    draw = ImageDraw.Draw(image)
    for shape in scene.shapes:
        if shape.kind == "circle":
            draw.ellipse(shape.box, fill=shape.colour)
        else:
            draw.rectangle((shape.box[0], shape.box[1], shape.box[2] - 1, shape.box[3] - 1), fill=shape.colour)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


def candidate_limits(family: ModelFamily, sent: PixelLimits | None = None) -> list[PixelLimits]:
    """Pixel limits a server may use: the ones the workbench sends, the family's checkpoints', the common presets,
    transformers' class default, and a UI-TARS-style ``min_pixels`` of 100 patches."""
    f2 = family.factor ** 2
    found = [sent] if sent is not None else []
    found += [preset.limits for preset in presets_for(family)]
    found += [PixelLimits(56 * 56, 1280 * 28 * 28), PixelLimits(100 * f2, 16384 * f2)]
    return list(dict.fromkeys(found))


def written_numbers(text: str, family: ModelFamily, scene: ProbeScene) -> tuple[float, ...] | None:
    """The numbers the answer wrote for the red square, in the order written (None: no box or point)."""
    as_written = family.with_convention(CoordinateConvention.ABSOLUTE_ORIGINAL)
    detections = parse_grounding(text, as_written, process_size(scene.size_wh, as_written)).detections
    if not detections:
        return None
    named = [d for d in detections if "red" in d.label.lower() or "square" in d.label.lower()]
    boxes = [d for d in named or detections if d.kind == "box"]
    return tuple((boxes or named or list(detections))[0].model)


@dataclass(frozen=True)
class ReadingSettings:
    """A probe's verdict as a dataset's reading settings (the keys :class:`workbench.runs.items.Reading`
    reads): the convention, and pixel limits where the reading needs them."""

    convention: str
    min_pixels: int | None = None
    max_pixels: int | None = None

    @classmethod
    def of(cls, report: ConventionReport) -> ReadingSettings | None:
        if report.reading is None:
            return None
        data = report.as_dict()
        return cls(str(data["convention"]), data["min_pixels"], data["max_pixels"])

    def as_dict(self) -> dict[str, object]:
        return {"convention": self.convention, "min_pixels": self.min_pixels, "max_pixels": self.max_pixels}


def probe_convention(backend: ModelBackend, *, max_new_tokens: int = 512,
                     on_answer: Callable[[ConventionReport], None] | None = None) -> ConventionReport:
    """Ask ``backend`` for the red square of each probe scene until the verdict is decided (three calls at most)."""
    family = backend.family()
    sent = getattr(backend, "limits", None)
    limits = candidate_limits(family, sent if isinstance(sent, PixelLimits) else None)
    prompt = grounding_instruction(PROBE_TARGET, family)
    answers: list[ProbeAnswer] = []
    report: ConventionReport | None = None
    for scene in PROBE_SCENES:
        output = backend.generate(GroundingRequest(images=(scene_png(scene),), prompt=prompt,
                                                   max_new_tokens=max_new_tokens))
        answers.append(ProbeAnswer(scene, written_numbers(output.text, family, scene), output.prompt_tokens,
                                   output.text))
        report = judge(family, answers, limits)
        if on_answer is not None:
            on_answer(report)
        if report.decided:
            break
    assert report is not None
    return report

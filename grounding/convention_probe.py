"""Which coordinate convention a model or server really writes, from answers on synthetic scenes.

A fine-tune (UI-TARS-1.5: absolute pixels of its own resize), a hosted API or a newer checkpoint may not write
what its family's table row says. The probe shows it plain-coloured shapes on a plain background and asks for
"the red square" each time (the same words, so the server's prompt-token counts compare), at sizes and places
chosen so that the candidate readings disagree by far:

- a wide scene (1600 x 400) with the square at the top right: ``relative-1000`` against pixels is off by
  hundreds of pixels, and a y-first reading puts it far outside the image;
- a tiny scene (120 x 360): scaled up by processors whose ``min_pixels`` exceeds its area (Qwen3-VL's 65536),
  so ``absolute-resized`` with such limits and ``absolute-original`` part;
- a large scene (6000 x 4000, 24 megapixels): scaled down by every released checkpoint's ``max_pixels``
  (12.8 and 16.8 megapixels), so ``absolute-resized`` and ``absolute-original`` part, and the limits too.

Each answer's written numbers are read under every candidate :class:`Reading`; a reading fits an answer when
it lands within a quarter of the square's side of the square (:func:`residual`). After each answer
:func:`judge` tells whether another scene could still change the verdict: it stops when nothing fits, or when
every fitting reading agrees on every scene (then they are the same for images like these, and the family's own
convention, else ``absolute-resized``, is named). So the probe takes one to three calls.

The pixel limits of ``absolute-resized`` readings are candidates (the family's checkpoint limits, the common
presets, transformers' class default); where the server reports ``usage.prompt_tokens``, only limits under which
the prompt minus the image is the same number of tokens for every scene remain (the geometry check of
``workbench/batch/geometry_check.py``, on the probe's own calls).

>>> from grounding import QWEN3_5
>>> scene = PROBE_SCENES[0]
>>> answer = ProbeAnswer(scene, (800.0, 150.0, 900.0, 550.0))  # 0-1000 of 1600 x 400: the square
>>> report = judge(QWEN3_5, [answer], [PixelLimits.default_for(QWEN3_5)])
>>> report.reading.convention.value, report.decided, report.residual_px
('relative-1000', True, 0.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from grounding.coords import to_model, to_original
from grounding.families import CoordinateConvention, ModelFamily
from grounding.geometry import GeometryError, PixelLimits, process_size

__all__ = ["PROBE_SCENES", "PROBE_TARGET", "ConventionReport", "ProbeAnswer", "ProbeScene", "Reading", "Shape",
           "candidate_readings", "consistent_limits", "judge", "limits_fitting_tokens", "residual"]

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Shape:
    """A plain-coloured shape at a known place (original pixels)."""

    name: str
    kind: str  # "square" or "circle"
    colour: tuple[int, int, int]
    box: Box


@dataclass(frozen=True)
class ProbeScene:
    """One synthetic image: its size, background and shapes; the target is the first shape."""

    name: str
    size_wh: tuple[int, int]
    shapes: tuple[Shape, ...]
    background: tuple[int, int, int] = (255, 255, 255)

    @property
    def target(self) -> Shape:
        return self.shapes[0]

    @property
    def tolerance_px(self) -> float:
        """How far an answer may land from the target and still fit: a quarter of its shorter side."""
        x1, y1, x2, y2 = self.target.box
        return 0.25 * min(x2 - x1, y2 - y1)


_RED, _BLUE, _GREEN = (220, 30, 30), (30, 60, 220), (30, 170, 60)
PROBE_TARGET = "red square"
"""What every probe question asks for (the same words each time: the text's tokens then compare)."""
PROBE_SCENES: tuple[ProbeScene, ...] = (
    ProbeScene("wide", (1600, 400), (Shape(PROBE_TARGET, "square", _RED, (1280.0, 60.0, 1440.0, 220.0)),
                                     Shape("blue circle", "circle", _BLUE, (200.0, 150.0, 360.0, 310.0)))),
    ProbeScene("tiny", (120, 360), (Shape(PROBE_TARGET, "square", _RED, (12.0, 276.0, 52.0, 316.0)),
                                    Shape("green circle", "circle", _GREEN, (70.0, 30.0, 110.0, 70.0)))),
    ProbeScene("large", (6000, 4000), (Shape(PROBE_TARGET, "square", _RED, (4800.0, 400.0, 5400.0, 1000.0)),
                                       Shape("blue circle", "circle", _BLUE, (600.0, 2800.0, 1200.0, 3400.0)))),
)


@dataclass(frozen=True)
class Reading:
    """A way to read written numbers: a convention, and the pixel limits where it is ``absolute-resized``."""

    convention: CoordinateConvention
    limits: PixelLimits | None = None

    @property
    def resized(self) -> bool:
        return self.convention.x_first is CoordinateConvention.ABSOLUTE_RESIZED

    def __str__(self) -> str:
        if self.limits is None:
            return self.convention.value
        return f"{self.convention.value} (min_pixels={self.limits.min_pixels}, max_pixels={self.limits.max_pixels})"

    def pixels(self, family: ModelFamily, written: Sequence[float], size_wh: tuple[int, int]) -> tuple[float, ...]:
        """``written`` (as the model wrote them) in original pixels of an image of ``size_wh`` under this reading."""
        image = process_size(size_wh, family.with_convention(self.convention), self.limits)
        return to_original(written, image)

    def written(self, family: ModelFamily, box: Sequence[float], size_wh: tuple[int, int]) -> tuple[float, ...]:
        """What a model reading so would write for ``box`` (original pixels)."""
        image = process_size(size_wh, family.with_convention(self.convention), self.limits)
        return to_model(box, image)


def candidate_readings(family: ModelFamily, limits: Sequence[PixelLimits]) -> list[Reading]:
    """Every convention (x and y first), ``absolute-resized`` once per candidate ``limits``; the family's own
    convention first."""
    readings: list[Reading] = []
    for convention in CoordinateConvention:
        if convention.x_first is CoordinateConvention.ABSOLUTE_RESIZED:
            readings += [Reading(convention, lim) for lim in dict.fromkeys(limits)]
        else:
            readings.append(Reading(convention))
    return sorted(readings, key=lambda r: r.convention is not family.coordinates)  # stable: own convention first


@dataclass(frozen=True)
class ProbeAnswer:
    """What the model wrote for one scene: the numbers as written (a box or a point; None: nothing readable),
    and the prompt tokens the server counted (None: not reported)."""

    scene: ProbeScene
    written: tuple[float, ...] | None
    prompt_tokens: int | None = None
    text: str = ""


def residual(reading: Reading, family: ModelFamily, answer: ProbeAnswer) -> float:
    """How far (pixels) the answer lands from the target under ``reading``: the mean corner error of a box, the
    distance of a point from the box's centre; infinite when nothing was written or the reading cannot apply."""
    if answer.written is None or len(answer.written) not in (2, 4):
        return math.inf
    try:
        got = reading.pixels(family, answer.written, answer.scene.size_wh)
    except (GeometryError, ValueError):
        return math.inf
    x1, y1, x2, y2 = answer.scene.target.box
    if len(got) == 4:
        return sum(abs(a - b) for a, b in zip(got, (x1, y1, x2, y2))) / 4
    return math.hypot(got[0] - (x1 + x2) / 2, got[1] - (y1 + y2) / 2)


def limits_fitting_tokens(family: ModelFamily, counted: Sequence[tuple[tuple[int, int], int]],
                          limits: Sequence[PixelLimits]) -> list[PixelLimits]:
    """The candidate ``limits`` under which every (image size, prompt tokens) pair leaves the same number of text
    tokens once the image's visual tokens are taken away: the limits a server really resized with (the same
    prompt text around images of different sizes). The one rule of the batch geometry check too.

    >>> from grounding import QWEN2_5_VL
    >>> sizes = [(29, 22), (183, 137), (578, 434)]
    >>> counted = [(wh, 40 + process_size(wh, QWEN2_5_VL, PixelLimits(3136, 200704)).tokens) for wh in sizes]
    >>> limits_fitting_tokens(QWEN2_5_VL, counted, [PixelLimits(3136, 12845056), PixelLimits(3136, 200704)])
    [PixelLimits(min_pixels=3136, max_pixels=200704)]
    """
    kept = []
    for candidate in limits:
        try:
            texts = {tokens - process_size(size_wh, family, candidate).tokens for size_wh, tokens in counted}
        except GeometryError:
            continue
        if len(texts) == 1:
            kept.append(candidate)
    return kept


def consistent_limits(family: ModelFamily, answers: Sequence[ProbeAnswer],
                      limits: Sequence[PixelLimits]) -> list[PixelLimits] | None:
    """The candidate limits that fit the answers' prompt tokens (:func:`limits_fitting_tokens`); None when fewer
    than two answers report prompt tokens (nothing to compare)."""
    counted = [(a.scene.size_wh, a.prompt_tokens) for a in answers if a.prompt_tokens is not None]
    return limits_fitting_tokens(family, counted, limits) if len(counted) >= 2 else None


@dataclass(frozen=True)
class ConventionReport:
    """The verdict so far: the reading that fits (None: none does), how far off it lands, whether more scenes
    could change it, and the other readings that fit as well (the same on images like the probe's)."""

    family: ModelFamily
    answers: tuple[ProbeAnswer, ...]
    reading: Reading | None
    residual_px: float | None
    decided: bool
    also_fits: tuple[Reading, ...] = ()
    limits: PixelLimits | None = None
    """The server's pixel limits where its prompt tokens tell them (one candidate fits), else None."""
    limits_known: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def calls(self) -> int:
        return len(self.answers)

    def as_dict(self) -> dict[str, Any]:
        """``{"convention", "min_pixels", "max_pixels", "residual_px", "calls"}`` (what ``--json`` prints)."""
        limits = self.reading.limits if self.reading is not None and self.reading.limits else self.limits
        return {
            "convention": self.reading.convention.value if self.reading else None,
            "min_pixels": limits.min_pixels if limits else None,
            "max_pixels": limits.max_pixels if limits else None,
            "residual_px": None if self.residual_px is None else round(self.residual_px, 1),
            "calls": self.calls,
        }

    def message(self) -> str:
        """The verdict in words."""
        if self.reading is None:
            tried = "; ".join(f"{a.scene.name} {a.scene.size_wh[0]}x{a.scene.size_wh[1]}: "
                              + (f"wrote {list(a.written)}" if a.written else "no box or point") for a in self.answers)
            return (f"none of the readings fits ({tried}): the model may not see the shapes, or writes coordinates in "
                    "a way the workbench does not know; check its answers by hand")
        lines = [f"coordinates are {self.reading} (off by {self.residual_px:.1f} px on average over "
                 f"{self.calls} probe image(s))"]
        if self.also_fits:
            lines.append("the same on images like these: " + ", ".join(str(r) for r in self.also_fits))
        if self.reading.convention is not self.family.coordinates:
            lines.append(f"{self.family.name} is documented as {self.family.coordinates.value}: this server or "
                         "checkpoint writes otherwise")
        return "; ".join(lines + list(self.notes))


def _distinguishable(first: Reading, second: Reading, family: ModelFamily) -> bool:
    """Whether some probe scene tells the two readings apart (what a model reading one way writes for the target
    lands beyond the tolerance when read the other way)."""
    for scene in PROBE_SCENES:
        try:
            written = first.written(family, scene.target.box, scene.size_wh)
        except (GeometryError, ValueError):
            return True
        if residual(second, family, ProbeAnswer(scene, written)) > 2 * scene.tolerance_px:
            return True
    return False


def judge(family: ModelFamily, answers: Sequence[ProbeAnswer], limits: Sequence[PixelLimits]) -> ConventionReport:
    """The reading that fits every answer so far, and whether more scenes could change the verdict."""
    answers = tuple(answers)
    notes: list[str] = []
    measured = consistent_limits(family, answers, limits)
    known = None
    if measured is not None:
        if measured:
            limits = measured
            known = measured[0] if len(measured) == 1 else None
        else:
            notes.append("the server's prompt tokens fit none of the known pixel limits: absolute-resized readings "
                         "were tried with each of them anyway")
    readings = candidate_readings(family, limits)
    scored = [(r, [residual(r, family, a) for a in answers]) for r in readings]
    fitting = [(r, sum(s) / len(s)) for r, s in scored
               if all(value <= a.scene.tolerance_px for value, a in zip(s, answers))]
    if not fitting:
        return ConventionReport(family, answers, None, None, True, limits=known, limits_known=known is not None,
                                notes=tuple(notes))
    # the closest reading; within half a pixel, the family's own convention, then absolute-resized
    best, error = min(fitting, key=lambda pair: (round(2 * pair[1]), pair[0].convention is not family.coordinates,
                                                 not pair[0].resized))
    others = tuple(r for r, _ in fitting if r != best)
    decided = len(answers) >= len(PROBE_SCENES) or not any(_distinguishable(best, r, family) for r in others)
    return ConventionReport(family, answers, best, error, decided, others, known, known is not None, tuple(notes))

"""What an evaluation compares, item by item: the accepted boxes and one model's answer, per picture.

Boxes are ``(x1, y1, x2, y2)`` in original-image pixels. An answer's boxes may carry scores
("higher = more likely right"); without them the boxes are ranked in the order the model wrote
them (see :mod:`grounding.evaluation.scoring`). An item the model never answered (the request
failed) has ``answer=None``: it is counted as an error and left out of every quality metric.

>>> case = EvalCase("7", truth=(PictureBoxes(((0, 0, 10, 10),), ("cat",)),),
...                 answer=(PictureBoxes(((1, 1, 10, 10),), ("Cat",)),))
>>> case.truth_count, case.answer_count, label_key(" Red  Car ")
(1, 1, 'red car')
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from grounding.errors import GroundingError

__all__ = ["EvalCase", "PictureBoxes", "label_key"]

Box = tuple[float, float, float, float]


def label_key(label: str) -> str:
    """How labels are compared: case and runs of white space do not matter ("Cat" answers "cat")."""
    return " ".join(str(label).casefold().split())


@dataclass(frozen=True)
class PictureBoxes:
    """The boxes on one picture of an item, with their labels and (for an answer) optional scores."""

    xyxy: tuple[Box, ...] = ()
    labels: tuple[str, ...] = ()
    scores: tuple[float, ...] | None = None
    """One per box, higher = more likely right; None when the model gave no confidence."""

    def __post_init__(self) -> None:
        boxes = tuple(_box(b) for b in self.xyxy)
        object.__setattr__(self, "xyxy", boxes)
        object.__setattr__(self, "labels", tuple(str(label) for label in self.labels))
        if len(self.labels) != len(boxes):
            raise GroundingError(f"give one label per box: {len(boxes)} boxes, {len(self.labels)} labels")
        if self.scores is not None:
            scores = tuple(float(s) for s in self.scores)
            if len(scores) != len(boxes) or not all(math.isfinite(s) for s in scores):
                raise GroundingError(f"give one finite score per box: {len(boxes)} boxes, {len(scores)} scores")
            object.__setattr__(self, "scores", scores)

    def __len__(self) -> int:
        return len(self.xyxy)


def _box(values: Sequence[float]) -> Box:
    x1, y1, x2, y2 = (float(v) for v in values)
    if not all(math.isfinite(v) for v in (x1, y1, x2, y2)):
        raise GroundingError(f"box coordinates must be finite numbers, got {list(values)}")
    return (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))


@dataclass(frozen=True)
class EvalCase:
    """One item: its accepted boxes per picture, the run's answer per picture (None: no answer) and
    what the answer cost. ``outside`` counts boxes the model placed beyond their image (before clamping),
    ``truncated`` says the answer was cut by the token limit."""

    key: str
    truth: tuple[PictureBoxes, ...]
    answer: tuple[PictureBoxes, ...] | None
    outside: int = 0
    truncated: bool = False
    prompt_tokens: int | None = None
    output_tokens: int | None = None
    seconds: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "truth", tuple(self.truth))
        if self.answer is not None:
            object.__setattr__(self, "answer", tuple(self.answer))
            if len(self.answer) != len(self.truth):
                raise GroundingError(f"item {self.key}: the answer covers {len(self.answer)} pictures, "
                                     f"the truth {len(self.truth)}")

    @property
    def truth_count(self) -> int:
        return sum(len(p) for p in self.truth)

    @property
    def answer_count(self) -> int:
        return sum(len(p) for p in self.answer or ())

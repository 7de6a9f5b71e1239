"""Undo/redo for box edits (the editor component has none): an immutable list of states.

>>> history = BoxHistory.start([EditorBox("cat", (10, 10, 50, 50))])
>>> history = history.push([EditorBox("cat", (12, 10, 50, 50))])
>>> history.undo().current[0].xyxy
(10.0, 10.0, 50.0, 50.0)
>>> history.undo().redo().current[0].xyxy
(12.0, 10.0, 50.0, 50.0)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = ["EditorBox", "BoxHistory", "MAX_STATES"]

MAX_STATES = 200


@dataclass(frozen=True)
class EditorBox:
    """A box in original-image pixels (floats), with its label."""

    label: str
    xyxy: tuple[float, float, float, float] = field(default=(0.0, 0.0, 0.0, 0.0))

    def __post_init__(self) -> None:
        object.__setattr__(self, "xyxy", tuple(float(v) for v in self.xyxy))


@dataclass(frozen=True)
class BoxHistory:
    """States of one image's boxes; ``index`` points at the current one."""

    states: tuple[tuple[EditorBox, ...], ...]
    index: int = 0

    @classmethod
    def start(cls, boxes: Iterable[EditorBox] = ()) -> BoxHistory:
        return cls((tuple(boxes),), 0)

    @property
    def current(self) -> tuple[EditorBox, ...]:
        return self.states[self.index]

    @property
    def can_undo(self) -> bool:
        return self.index > 0

    @property
    def can_redo(self) -> bool:
        return self.index < len(self.states) - 1

    def push(self, boxes: Sequence[EditorBox]) -> BoxHistory:
        """A new state after the current one; the redo tail is dropped. Unchanged boxes add nothing."""
        boxes = tuple(boxes)
        if boxes == self.current:
            return self
        states = self.states[: self.index + 1] + (boxes,)
        states = states[-MAX_STATES:]
        return BoxHistory(states, len(states) - 1)

    def undo(self) -> BoxHistory:
        return BoxHistory(self.states, max(self.index - 1, 0))

    def redo(self) -> BoxHistory:
        return BoxHistory(self.states, min(self.index + 1, len(self.states) - 1))

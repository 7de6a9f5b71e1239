"""What the parser returns: detections on the original images, plus warnings.

>>> d = Detection("box", "cat", 1, (10.0, 20.0, 30.0, 40.0), (20.0, 40.0, 60.0, 80.0), False)
>>> d.as_dict()["original"]
[20.0, 40.0, 60.0, 80.0]
>>> ParseResult().detections
()
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["COPIED_LABEL", "Detection", "DetectionKind", "Note", "ParseResult", "LABEL_MISSING"]

DetectionKind = Literal["box", "point"]

LABEL_MISSING = "label_missing"
"""Attribute set to ``True`` on a detection the model wrote without a label (its ``label`` is ``""``):
the caller may name it, e.g. after the prompt's target."""
COPIED_LABEL = "copied_label"
"""Attribute holding a label the parser set aside because it copies the question or a template placeholder
(``"object name/description"``, ``"<label>"``); the detection is then unlabelled (:data:`LABEL_MISSING`)."""


class Note(str):
    """A warning's words, with a ``code`` saying which warning it is (for callers that say it their own way).

    >>> note = Note("3 detection(s) reach beyond their image", "outside")
    >>> note == "3 detection(s) reach beyond their image", note.code
    (True, 'outside')
    """

    code: str

    def __new__(cls, text: str, code: str = "") -> Note:
        note = super().__new__(cls, text)
        note.code = code
        return note


@dataclass(frozen=True, init=False)
class Detection:
    """One box or point the model wrote, located on one of the request's images.

    ``model`` holds the coordinates as the model wrote them (box corners ordered), ``original``
    the same in original-image pixels, unclamped; ``outside`` says whether the model's coordinates
    left the image (keep them, clamp only to draw). ``image`` is the 1-based picture number.
    ``attributes[LABEL_MISSING]`` is ``True`` when the model gave no label.

    Frozen; its ``__init__`` is written out (one dict assignment instead of seven frozen
    ``setattr`` calls): the parser builds one per box, and that halves the cost.
    """

    kind: DetectionKind
    label: str
    image: int
    model: tuple[float, ...]
    original: tuple[float, ...]
    outside: bool
    attributes: dict[str, Any] = field(default_factory=dict, hash=False)

    def __init__(self, kind: DetectionKind, label: str, image: int, model: tuple[float, ...],
                 original: tuple[float, ...], outside: bool, attributes: dict[str, Any] | None = None) -> None:
        object.__setattr__(self, "__dict__", {
            "kind": kind, "label": label, "image": image, "model": model, "original": original,
            "outside": outside, "attributes": {} if attributes is None else attributes,
        })

    @property
    def label_missing(self) -> bool:
        """The model wrote no label for it (``label`` is ``""``)."""
        return bool(self.attributes.get(LABEL_MISSING))

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (lists for coordinates)."""
        return {
            "kind": self.kind,
            "label": self.label,
            "image": self.image,
            "model": list(self.model),
            "original": list(self.original),
            "outside": self.outside,
            "attributes": dict(self.attributes),
        }


@dataclass(frozen=True)
class ParseResult:
    """Detections in the order the model wrote them, and what the parser had to guess or drop."""

    detections: tuple[Detection, ...] = ()
    warnings: tuple[str, ...] = ()
    empty: bool = False
    """The model answered that there is nothing to find (``[]``, "none", "not present"): an answer, not a
    parse failure (:func:`grounding.parse.empty.is_explicit_empty`)."""
    reasoning: str = ""
    """What the model reasoned before its answer (``<think>`` or prose before "Final answer:"), kept to be shown
    folded; its coordinates are drafts and are not among the detections when an answer follows."""

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"detections": [d.as_dict() for d in self.detections], "warnings": list(self.warnings)}
        if self.empty:
            data["empty"] = True
        if self.reasoning:
            data["reasoning"] = self.reasoning
        return data

    def warnings_except(self, *codes: str) -> tuple[str, ...]:
        """The warnings but those of the given :class:`Note` codes (e.g. ``"outside"`` for a caller that clamps
        and says so itself)."""
        return tuple(w for w in self.warnings if getattr(w, "code", "") not in codes)

    def for_image(self, image: int) -> tuple[Detection, ...]:
        """Detections that belong to picture ``image`` (1-based)."""
        return tuple(d for d in self.detections if d.image == image)

"""Grounding output parser: whatever a Qwen-VL model writes -> boxes and points on the original images.

One module per output style (:mod:`~grounding.parse.json_style`, :mod:`~grounding.parse.tokens`,
:mod:`~grounding.parse.markup`, :mod:`~grounding.parse.plain`) and a dispatcher
(:mod:`~grounding.parse.dispatch`) that runs them and applies each image's geometry.

>>> from grounding import process_size
>>> result = parse_grounding("<ref>击掌</ref><box>(536,509),(588,602)</box>", "qwen2-vl",
...                          process_size((2048, 1365), "qwen2-vl"))
>>> d = result.detections[0]
>>> d.label, [round(v, 2) for v in d.original]
('击掌', [1097.73, 694.78, 1204.22, 821.73])
"""

from grounding.parse.dispatch import (
    MAX_DETECTIONS,
    MAX_LABEL_CHARS,
    MAX_OUTPUT_CHARS,
    MAX_WARNINGS,
    NOTHING_FOUND,
    OUTSIDE_WARNING,
    coordinate_keys,
    parse_grounding,
)
from grounding.parse.empty import EMPTY_ANSWER_NOTE, is_explicit_empty
from grounding.parse.result import LABEL_MISSING, Detection, DetectionKind, Note, ParseResult

__all__ = [
    "LABEL_MISSING", "MAX_DETECTIONS", "MAX_LABEL_CHARS", "MAX_OUTPUT_CHARS", "MAX_WARNINGS", "EMPTY_ANSWER_NOTE", "NOTHING_FOUND",
    "OUTSIDE_WARNING", "Detection",
    "DetectionKind", "Note", "ParseResult", "coordinate_keys", "is_explicit_empty", "parse_grounding",
]

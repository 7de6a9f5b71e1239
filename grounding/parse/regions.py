"""Which part of the output holds the answer: ``<think>``/``<answer>`` wrappers and consumed spans.

Reasoning models write ``<think>...</think>`` before the answer, sometimes with the answer in
``<answer>...</answer>``. Coordinates inside the reasoning are drafts, so they are skipped when an
answer follows. Spans are blanked with spaces rather than cut out, so offsets stay valid.

>>> text = "<think>maybe [1, 2, 3, 4]?</think><answer>[5, 6, 7, 8]</answer>"
>>> answer_text(text)[0].strip()
'[5, 6, 7, 8]'
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["answer_text", "blank"]

_THINK_END = re.compile(r"</think\s*>", re.IGNORECASE)
_THINK_START = re.compile(r"<think\s*>", re.IGNORECASE)
_ANSWER = re.compile(r"<answer\s*>(.*?)(?:</answer\s*>|\Z)", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"</?(?:answer|think)\s*>", re.IGNORECASE)


def blank(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """``text`` with each ``(start, end)`` span replaced by spaces (newlines kept).

    >>> blank("ab<x>cd", [(2, 5)])
    'ab   cd'
    """
    spans = sorted(spans)
    if not spans:
        return text
    parts: list[str] = []
    position = 0
    for start, end in spans:
        start = max(start, position)
        if end <= start:
            continue
        parts.append(text[position:start])
        parts.append(re.sub(r"[^\n]", " ", text[start:end]))
        position = end
    parts.append(text[position:])
    return "".join(parts)


def answer_text(text: str) -> tuple[str, list[str]]:
    """The text to read boxes from (same length as ``text``) and warnings about the wrappers."""
    warnings: list[str] = []
    ends = list(_THINK_END.finditer(text))
    if ends:
        text = blank(text, [(0, ends[-1].end())])
    elif _THINK_START.search(text):
        warnings.append("the output stops inside <think>: reading coordinates from the unfinished reasoning")
    answers = list(_ANSWER.finditer(text))
    if answers:
        keep = [(m.start(1), m.end(1)) for m in answers]
        outside: list[tuple[int, int]] = []
        position = 0
        for start, end in keep:
            outside.append((position, start))
            position = end
        outside.append((position, len(text)))
        text = blank(text, outside)
        if not re.search(r"</answer\s*>", answers[-1].group(0), re.IGNORECASE):
            warnings.append("the output stops inside <answer>")
    return _TAGS.sub(lambda m: " " * len(m.group(0)), text), warnings

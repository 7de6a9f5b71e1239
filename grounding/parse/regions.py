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

__all__ = ["FINAL_ANSWER", "answer_text", "blank", "final_answer_at", "split_reasoning"]

_THINK_END = re.compile(r"</think\s*>", re.IGNORECASE)
_THINK_START = re.compile(r"<think\s*>", re.IGNORECASE)
_ANSWER = re.compile(r"<answer\s*>(.*?)(?:</answer\s*>|\Z)", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"</?(?:answer|think)\s*>", re.IGNORECASE)
FINAL_ANSWER = re.compile(r"^[ \t>#*_-]{0,8}(?:final\s+answer|answer|final\s+result|result)[ \t*_]{0,4}[:：]",
                          re.IGNORECASE | re.MULTILINE)
"""A line that starts the final answer after reasoning written as prose ("Final answer:", "**Answer:**")."""


def final_answer_at(text: str) -> int | None:
    """Where the last "Final answer:"-style line starts (None when there is none, or only at the very start).

    >>> final_answer_at("Draft [1, 2, 3, 4]?\\nFinal answer: [5, 6, 7, 8]")
    20
    """
    if "nswer" not in text and "esult" not in text and "NSWER" not in text:
        return None
    last = None
    for match in FINAL_ANSWER.finditer(text):
        last = match
    return last.start() if last is not None and text[:last.start()].strip() else None


def split_reasoning(text: str) -> str:
    """The reasoning a model wrote before its answer ("" when none): inside ``<think>…</think>`` (or before a
    lone ``</think>``, the chat template having opened it), the unfinished reasoning after an unclosed ``<think>``,
    or the prose before a "Final answer:" line.

    >>> split_reasoning("The square is near the top left, about [60, 50, 320, 240].</think>\\n[...]")
    'The square is near the top left, about [60, 50, 320, 240].'
    >>> split_reasoning("<think>Hmm.</think><answer>[1, 2, 3, 4]</answer>"), split_reasoning("[1, 2, 3, 4]")
    ('Hmm.', '')
    """
    if "think" in text or "THINK" in text:
        ends = list(_THINK_END.finditer(text))
        if ends:
            return _TAGS.sub("", text[:ends[-1].start()]).strip()
        start = _THINK_START.search(text)
        if start is not None:
            return _TAGS.sub("", text[start.end():]).strip()
    answer = _ANSWER.search(text) if "<" in text else None
    if answer is not None and text[:answer.start()].strip():
        return _TAGS.sub("", text[:answer.start()]).strip()
    marker = final_answer_at(text)
    return text[:marker].strip() if marker is not None else ""


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

"""Labels that are not names: the question copied back, or a template's placeholder left unfilled.

Models asked with an example format sometimes fill it in literally (``"label": "object name/description"``,
``"<label>"``) or repeat the whole request as the label. Such a label names nothing; the parser sets it aside
(kept in the ``copied_label`` attribute) so that the caller names the detection, e.g. after the target.

>>> [copied_label(label) for label in ("object name/description", "<label>", "cat", "red square")]
[True, True, False, False]
>>> copied_label("Locate every cat in the image and output the bbox coordinates in JSON format.")
True
>>> copied_label("the cat on the left", prompt="Find the cat on the left.")
False
"""

from __future__ import annotations

import re

__all__ = ["MAX_QUESTION_CHARS", "PLACEHOLDERS", "copied_label", "prompt_key"]

MAX_QUESTION_CHARS = 1_000
"""Longest label compared with the question (a longer one is no copy of a grounding request; the bound keeps
the check's time per detection constant)."""

PLACEHOLDERS = frozenset((
    "label", "labels", "name", "object name", "object_name", "object name/description", "object/description",
    "name/description", "category", "category name", "class", "class name", "class_name", "description",
    "label name", "object label", "your label", "xxx", "...", "…", "string", "str", "placeholder", "label here",
))
"""Labels a model copied from an example format (compared in lower case)."""
_BRACKETED = re.compile(r"[<{\[][^<>{}\[\]]{1,40}[>}\]]")
_INSTRUCTION = re.compile(
    r"\b(?:output|report|return|give|locate|detect|find|outline|point to|ground)\b.{0,200}?"
    r"\b(?:json|bbox|bounding box(?:es)?|coordinates?)\b", re.IGNORECASE)
_BLANKS = re.compile(r"\s+")


def prompt_key(prompt: str) -> str:
    """A prompt as labels are compared with it: lower case, blanks collapsed, trailing punctuation dropped."""
    return _BLANKS.sub(" ", prompt).strip().strip(".:!?").lower()


def copied_label(label: str, prompt: str = "") -> bool:
    """Whether ``label`` copies the question (``prompt``, when known) or a template placeholder."""
    if len(label) > MAX_QUESTION_CHARS:
        return False
    key = label.lower()
    if key in PLACEHOLDERS or _BRACKETED.fullmatch(label):
        return True
    if len(label) < 24:
        return False
    folded = prompt_key(label)
    if prompt and (folded == prompt_key(prompt) or (len(folded) >= 30 and folded in prompt_key(prompt))):
        return True
    return len(folded.split()) >= 6 and _INSTRUCTION.search(folded) is not None

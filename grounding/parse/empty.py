"""Explicit empty answers: the model said there is nothing to find, which is an answer, not a parse failure.

A question about something absent should get nothing, and a model asked with the family's wording
that allows it (:attr:`grounding.families.ModelFamily.none_prompt`) writes ``[]``, ``none`` or a
sentence that says so. :func:`is_explicit_empty` tells such an answer from one the parser could
not read: the whole answer (after ``<think>`` drafts, code fences, quotes and punctuation) must be
an empty JSON value, a word for nothing, or a short sentence that denies the object's presence.

>>> [is_explicit_empty(t) for t in ("[]", "```json\\n[]\\n```", "None.", "not present", '{"objects": []}')]
[True, True, True, True, True]
>>> is_explicit_empty("There is no cat in the image."), is_explicit_empty("No dogs were found.")
(True, True)
>>> is_explicit_empty("[{\\"bbox_2d\\": [1, 2"), is_explicit_empty("I cannot tell."), is_explicit_empty("")
(False, False, False)
"""

from __future__ import annotations

import json
import re

from grounding.parse.regions import answer_text

__all__ = ["EMPTY_ANSWER_NOTE", "is_explicit_empty"]

EMPTY_ANSWER_NOTE = "the model answered that there is none (an explicit empty answer)"
"""What the app says of an explicit empty answer (a note, not a warning: nothing went wrong)."""

_FENCE = re.compile(r"```[a-zA-Z]*|```")
_WORDS = re.compile(
    r"(?:none|null|nil|nothing|empty|n/?a|no|not (?:present|found|visible|detected)|absent|no (?:objects?|results?|"
    r"matches|instances?|detections?)(?: (?:found|detected|present))?)",
    re.IGNORECASE)
_SENTENCE = re.compile(
    r"(?:there (?:is|are) no\b|no\b.{0,60}\b(?:is|are|was|were|can be)? ?(?:found|present|visible|detected|seen|"
    r"in (?:the|this) (?:image|picture|photo))|(?:i )?(?:can ?not|can't|could not|couldn't|do not|don't) (?:find|see|"
    r"detect|locate)\b|.{0,60}\b(?:is|are) not (?:present|visible|in (?:the|this) (?:image|picture|photo)))",
    re.IGNORECASE)
_MAX_SENTENCE = 160
"""A longer answer without any box is not taken for a plain "none" (it may be prose the parser missed)."""


def _empty_json(text: str) -> bool:
    try:
        value = json.loads(text)
    except ValueError:
        return False
    if value in ([], {}, None, ""):
        return True
    return isinstance(value, dict) and len(value) == 1 and next(iter(value.values())) in ([], {}, None)


def is_explicit_empty(text: str) -> bool:
    """Whether ``text`` (a whole answer with no box or point in it) says there is nothing to find."""
    region = answer_text(text[:4 * _MAX_SENTENCE])[0] if len(text) <= 4 * _MAX_SENTENCE else ""
    body = _FENCE.sub(" ", region).strip().strip("\"'`“”").strip()
    if not body:
        return False
    if _empty_json(body):
        return True
    if len(body) > _MAX_SENTENCE:
        return False
    words = body.rstrip(".!").strip()
    return bool(_WORDS.fullmatch(words) or _SENTENCE.match(words))

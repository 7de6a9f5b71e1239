"""Which picture a detection belongs to, in a request with several images.

The chat template's ``add_vision_id=True`` names images "Picture 1", "Picture 2", ... and models
answer in the same words. A detection without an ``image``-style key belongs to the picture last
mentioned in the prose before it.

When the request names its images by ID (``image_ids``), an answer's ``"image": "img10"`` is the
picture whose ID is ``img10``, never picture 10: the digits inside an ID mean nothing. Numbers and
"Picture N"/"Image N" still mean the N-th picture. In the prose, an ID counts as a mention when it is
followed by a colon or preceded by "picture"/"image" ("img10:", "Image front"): a plain word such as
"front" elsewhere in a sentence is not taken for an ID.

>>> mentions = picture_mentions("A dog in Picture 1. In Picture 2 there is [...]")
>>> mentions, picture_at(mentions, 40), picture_at(mentions, 5)
([(9, 1), (23, 2)], 2, None)
>>> picture_mentions("img10: a cat. img1: a dog", ("front", "img10"))
[(0, 2)]
>>> resolve_name(ImageName("img10"), ("front", "img10")), resolve_name(ImageName("Picture 2"), ("a", "b"))
((2, None), (2, None))
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence

from grounding.parse.raw import ImageName

__all__ = ["picture_mentions", "picture_at", "resolve_name", "Mentions"]

_MENTION = re.compile(r"\b(?:picture|image|img|pic)\s*(?:#|no\.?\s*)?(\d{1,3})\b|(?:图片|图像|图)\s*(\d{1,3})",
                      re.IGNORECASE)
# with image IDs, "img10" is an ID, not "img" + 10
_MENTION_WITH_IDS = re.compile(r"\b(?:picture|image|pic)\s*(?:#|no\.?\s*)?(\d{1,3})\b|(?:图片|图像|图)\s*(\d{1,3})",
                               re.IGNORECASE)
_POSITION = re.compile(r"(?:(?:picture|image|img|pic)\s*(?:#|no\.?\s*)?|图片|图像|图)(\d{1,6})", re.IGNORECASE)
_POSITION_WITH_IDS = re.compile(r"(?:(?:picture|image|pic)\s*(?:#|no\.?\s*)?|图片|图像|图)(\d{1,6})", re.IGNORECASE)
_DIGITS = re.compile(r"\d{1,6}")


class Mentions(list[tuple[int, int]]):
    """``(offset, picture number)`` pairs in order, with their offsets kept for bisecting."""

    def __init__(self, pairs: Sequence[tuple[int, int]] = ()) -> None:
        super().__init__(pairs)
        self.starts = [start for start, _ in self]


def _id_mentions(text: str, image_ids: Sequence[str]) -> list[tuple[int, int]]:
    ids = sorted({i for i in image_ids if i}, key=len, reverse=True)
    if not ids:
        return []
    names = "|".join(re.escape(i) for i in ids)
    pattern = re.compile(rf"(?:\b(?:picture|image|pic)\s+[\"'`*]*(?P<a>{names})(?![\w-])"
                         rf"|(?<![\w-])(?P<b>{names})[\"'`*]*\s*[:：])", re.IGNORECASE)
    number: dict[str, int] = {}
    for position, image_id in enumerate(image_ids, start=1):
        number.setdefault(image_id.casefold(), position)
    return [(m.start(), number[(m.group("a") or m.group("b")).casefold()]) for m in pattern.finditer(text)
            if (m.group("a") or m.group("b")).casefold() in number]


def picture_mentions(text: str, image_ids: Sequence[str] = ()) -> Mentions:
    """``(offset, picture number)`` for each "Picture N" / "Image N" / "图N" in ``text``, and each image ID
    written as a heading ("img10:") when ``image_ids`` are given (then "img10" is never picture 10)."""
    if image_ids:
        found = [(m.start(), int(m.group(1) or m.group(2))) for m in _MENTION_WITH_IDS.finditer(text)]
        found += _id_mentions(text, image_ids)
        return Mentions(sorted(found))
    return Mentions([(m.start(), int(m.group(1) or m.group(2))) for m in _MENTION.finditer(text)])


def picture_at(mentions: Mentions | list[tuple[int, int]], offset: int) -> int | None:
    """The picture last mentioned before ``offset``, if any."""
    starts = mentions.starts if isinstance(mentions, Mentions) else [start for start, _ in mentions]
    index = bisect.bisect_right(starts, offset) - 1
    return mentions[index][1] if index >= 0 else None


def resolve_name(name: ImageName, image_ids: Sequence[str]) -> tuple[int | None, str | None]:
    """The 1-based picture an image named in words refers to, or ``None`` and why not.

    With ``image_ids``: the ID itself (exact, else ignoring case), else "Picture N"/"Image N"/a number;
    an unknown ID is a problem, never a guess from its digits. Without them: "Picture N"-style words
    or the first number in the text (``img_idx``-style keys count from 0).
    """
    text = name.text
    if image_ids:
        if text in image_ids:
            return list(image_ids).index(text) + 1, None
        folded = [i.casefold() for i in image_ids]
        if folded.count(text.casefold()) == 1:
            return folded.index(text.casefold()) + 1, None
        position = _POSITION_WITH_IDS.fullmatch(text)
        if position is not None:
            return int(position.group(1)), None
        known = ", ".join(image_ids[:12]) + (", ..." if len(image_ids) > 12 else "")
        return None, f"names image {text!r}, which is not one of the image IDs ({known})"
    position = _POSITION.fullmatch(text)
    if position is not None:
        return int(position.group(1)), None
    digits = _DIGITS.search(text)
    if digits is None:
        return None, f"names image {text!r}, which is not a picture number"
    return int(digits.group()) + (1 if name.zero_based else 0), None

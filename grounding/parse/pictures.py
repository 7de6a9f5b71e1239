"""Which picture a detection belongs to, in a request with several images.

The chat template's ``add_vision_id=True`` names images "Picture 1", "Picture 2", ... and models
answer in the same words. A detection without an ``image``-style key belongs to the picture last
mentioned in the prose before it.

>>> mentions = picture_mentions("A dog in Picture 1. In Picture 2 there is [...]")
>>> mentions, picture_at(mentions, 40), picture_at(mentions, 5)
([(9, 1), (23, 2)], 2, None)
"""

from __future__ import annotations

import bisect
import re

__all__ = ["picture_mentions", "picture_at"]

_MENTION = re.compile(r"\b(?:picture|image|img|pic)\s*(?:#|no\.?\s*)?(\d{1,3})\b|(?:图片|图像|图)\s*(\d{1,3})",
                      re.IGNORECASE)


def picture_mentions(text: str) -> list[tuple[int, int]]:
    """``(offset, picture number)`` for each "Picture N" / "Image N" / "图N" in ``text``."""
    return [(m.start(), int(m.group(1) or m.group(2))) for m in _MENTION.finditer(text)]


def picture_at(mentions: list[tuple[int, int]], offset: int) -> int | None:
    """The picture last mentioned before ``offset``, if any."""
    index = bisect.bisect_right([start for start, _ in mentions], offset) - 1
    return mentions[index][1] if index >= 0 else None

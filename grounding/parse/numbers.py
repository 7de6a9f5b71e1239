"""One number grammar for every output style: signs, decimals and scientific notation read the same everywhere.

``(1e2,20)`` inside box tokens, ``"1e2"`` in a JSON string, ``data-bbox="+5 .5 1e2 20"`` and a plain line
``1e2,20,300,400 cat`` all give the same numbers. A number is an optional sign, digits with an optional
fraction (or a fraction alone), and an optional exponent.

>>> numbers_in("(1e2,20),(300,400)"), numbers_in("-5 +.5 2.")
([100.0, 20.0, 300.0, 400.0], [-5.0, 0.5, 2.0])
>>> as_number(" 12.5 "), as_number("1e2"), as_number(True), as_number("nan"), as_number("1_000"), as_number(7)
(12.5, 100.0, None, None, None, 7.0)
"""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = ["NUMBER", "NUMBER_RE", "numbers_in", "as_number"]

NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
"""The grammar as a regex fragment without groups (embed it in other patterns)."""

NUMBER_RE = re.compile(NUMBER)
_FULL = re.compile(rf"\s*({NUMBER})\s*")


def numbers_in(text: str) -> list[float]:
    """Every number written in ``text``, in order (``inf`` for ``1e999``: callers skip non-finite values)."""
    return [float(n) for n in NUMBER_RE.findall(text)]


def as_number(value: Any) -> float | None:
    """A finite coordinate from a JSON number or a string holding one number; ``None`` otherwise."""
    kind = type(value)
    if kind is float:
        return value if value - value == 0 else None  # inf - inf and nan - nan are nan
    if kind is int:
        try:
            number = float(value)
        except OverflowError:
            return None
    elif kind is str or isinstance(value, str):
        match = _FULL.fullmatch(value)
        if match is None:
            return None
        number = float(match.group(1))
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None

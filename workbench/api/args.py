"""Arguments of the public API, checked for type and range, with the problem said in words.

A JSON client can send anything: ``"abc"`` for a number, ``10**12`` tokens, a dict for a
list. Each helper returns the value in its Python type or raises :class:`ArgumentError`
naming the argument, what it must be and what came.

>>> whole_number("max_new_tokens", 16.0, low=1, high=8192)
16
>>> whole_number("max_new_tokens", 10**12, low=1, high=8192)
Traceback (most recent call last):
...
workbench.api.args.ArgumentError: max_new_tokens must be at most 8192, got 1000000000000
>>> text_list("image_ids", ["front", 3], max_items=4, max_chars=50)
Traceback (most recent call last):
...
workbench.api.args.ArgumentError: image_ids[1] must be text, got a number
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from workbench.errors import WorkbenchError

__all__ = ["ArgumentError", "choice", "flag", "number", "text", "text_list", "whole_number", "wh_list", "kind_of"]


class ArgumentError(WorkbenchError, ValueError):
    """An API argument of the wrong type or out of range."""


def kind_of(value: Any) -> str:
    """What a JSON value is, in words.

    >>> kind_of(None), kind_of(True), kind_of(2.5), kind_of({}), kind_of("x")
    ('nothing (null)', 'true/false', 'a number', 'an object', 'text')
    """
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def whole_number(name: str, value: Any, *, low: int | None = None, high: int | None = None,
                 default: int | None = None) -> int:
    """An integer (a float with no fraction is accepted); ``None`` gives ``default`` when there is one."""
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ArgumentError(f"{name} must be a whole number, got {kind_of(value)}")
    if isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()):
        raise ArgumentError(f"{name} must be a whole number, got {value!r}")
    number = int(value)
    if low is not None and number < low:
        raise ArgumentError(f"{name} must be at least {low}, got {number}")
    if high is not None and number > high:
        raise ArgumentError(f"{name} must be at most {high}, got {number}")
    return number


def number(name: str, value: Any, *, low: float, high: float, default: float | None = None) -> float:
    """A finite number in ``[low, high]``; ``None`` gives ``default`` when there is one.

    >>> number("overlap", 0.2, low=0.0, high=0.5)
    0.2
    >>> number("overlap", "0.2", low=0.0, high=0.5)
    Traceback (most recent call last):
    ...
    workbench.api.args.ArgumentError: overlap must be a number, got text
    """
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ArgumentError(f"{name} must be a number, got {kind_of(value) if not isinstance(value, float) else value}")
    if not low <= value <= high:
        raise ArgumentError(f"{name} must be between {low:g} and {high:g}, got {value:g}")
    return float(value)


def flag(name: str, value: Any, *, default: bool) -> bool:
    """``true``/``false`` (``None`` gives ``default``).

    >>> flag("refine", None, default=False), flag("refine", True, default=False)
    (False, True)
    """
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ArgumentError(f"{name} must be true or false, got {kind_of(value)}")
    return value


def text(name: str, value: Any, *, max_chars: int, default: str | None = None) -> str:
    """A string of at most ``max_chars``; ``None`` gives ``default`` when there is one."""
    if value is None and default is not None:
        return default
    if not isinstance(value, str):
        raise ArgumentError(f"{name} must be text, got {kind_of(value)}")
    if len(value) > max_chars:
        raise ArgumentError(f"{name} must be at most {max_chars} characters, got {len(value)}")
    return value


def choice(name: str, value: Any, options: Sequence[str], *, default: str | None = None) -> str:
    """One of ``options`` (exactly)."""
    chosen = text(name, value, max_chars=200, default=default)
    if chosen not in options:
        raise ArgumentError(f"{name} must be one of {', '.join(options)}, got {chosen[:60]!r}")
    return chosen


def text_list(name: str, value: Any, *, max_items: int, max_chars: int) -> list[str]:
    """A list of strings (``None`` is the empty list)."""
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise ArgumentError(f"{name} must be a list of text, got {kind_of(value)}")
    if len(value) > max_items:
        raise ArgumentError(f"{name} may have at most {max_items} items, got {len(value)}")
    return [text(f"{name}[{i}]", item, max_chars=max_chars) for i, item in enumerate(value)]


def wh_list(name: str, value: Any, *, max_items: int, max_side: int = 1_000_000) -> list[tuple[int, int]]:
    """A list of ``[W, H]`` pairs of positive whole numbers.

    >>> wh_list("original_sizes", [[640, 480]], max_items=4)
    [(640, 480)]
    """
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise ArgumentError(f"{name} must be a list of [W, H] pairs, got {kind_of(value)}")
    if len(value) > max_items:
        raise ArgumentError(f"{name} may have at most {max_items} items, got {len(value)}")
    pairs = []
    for i, pair in enumerate(value):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ArgumentError(f"{name}[{i}] must be a [W, H] pair, got {kind_of(pair)}")
        pairs.append((whole_number(f"{name}[{i}] width", pair[0], low=1, high=max_side),
                      whole_number(f"{name}[{i}] height", pair[1], low=1, high=max_side)))
    return pairs

"""Labels as they leave the workbench: no control characters, never empty.

A label is free text in the store (the store is not where this rule lives: other exports
keep it as typed), but in an export it becomes an XML attribute (Label Studio's config), an
XML element (Pascal VOC), a line of a Qwen2-VL answer or a YAML key. A newline, a tab or a
NUL there breaks the file or silently changes the class. So every export but the workbench's
own replaces each run of control characters (C0, DEL, C1, and the Unicode line and paragraph
separators) by one space and trims the result, counting what it changed; a label with
nothing left is refused, naming it.

>>> clean_label("flower\\npot")
'flower pot'
>>> clean_label("say \\"cheese\\"")
'say "cheese"'
>>> has_control("tab\\there"), has_control("猫 🐱")
(True, False)
"""

from __future__ import annotations

import re

from workbench.errors import ExportError

__all__ = ["clean_label", "has_control", "control_problem"]

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def has_control(label: str) -> bool:
    """True when ``label`` holds a control character (newline, tab, NUL...)."""
    return _CONTROL.search(label) is not None


def clean_label(label: str) -> str:
    """``label`` with each run of control characters replaced by one space, trimmed.

    Raises :class:`~workbench.errors.ExportError` when nothing printable is left.

    >>> clean_label("\\x00")
    Traceback (most recent call last):
    ...
    workbench.errors.ExportError: label '\\x00' has nothing but control characters; rename it before exporting
    """
    cleaned = _CONTROL.sub(" ", label).strip()
    if not cleaned:
        raise ExportError(f"label {label!r} has nothing but control characters; rename it before exporting")
    return cleaned


def control_problem(label: object, where: str) -> str | None:
    """A validator's finding for a label that is not text, is empty or holds control characters.

    >>> control_problem("a\\nb", "entry 1")
    "entry 1: label 'a\\\\nb' holds control characters (newline, tab, NUL...)"
    >>> control_problem("ok", "entry 1") is None
    True
    """
    if not isinstance(label, str) or not label.strip():
        return f"{where}: label {label!r} is not a non-empty text"
    if has_control(label):
        return f"{where}: label {label!r} holds control characters (newline, tab, NUL...)"
    return None

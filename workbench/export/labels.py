"""Labels as they leave the workbench: no control characters, never empty.

In an export a label becomes an XML attribute (Label Studio's config), an XML element (Pascal
VOC), a line of a Qwen2-VL answer or a YAML key; a newline, a tab or a NUL there breaks the file
or silently changes the class. The store already keeps labels clean
(:func:`workbench.store.clean_label`, the one label rule); here every export applies it again as
a guard, counting what it changed, and refuses a label with nothing left (a box the model wrote
without a label, never named by a person), naming it.

>>> clean_label("flower\\npot")
'flower pot'
>>> clean_label("say \\"cheese\\"")
'say "cheese"'
>>> has_control("tab\\there"), has_control("猫 🐱")
(True, False)
"""

from __future__ import annotations

from workbench.errors import ExportError

__all__ = ["clean_label", "has_control", "control_problem"]

from workbench.store.bounds import _CONTROL
from workbench.store.records import clean_label as _stored


def has_control(label: str) -> bool:
    """True when ``label`` holds a control character (newline, tab, NUL...)."""
    return _CONTROL.search(label) is not None


def clean_label(label: str) -> str:
    """``label`` with each run of control characters replaced by one space, trimmed.

    Raises :class:`~workbench.errors.ExportError` when nothing printable is left.

    >>> clean_label("\\x00")
    Traceback (most recent call last):
    ...
    workbench.errors.ExportError: label '\\x00' is empty or has nothing but control characters (a box the model wrote without a label?); rename it in the review screen before exporting
    """
    cleaned = _stored(label)
    if not cleaned:
        raise ExportError(f"label {label!r} is empty or has nothing but control characters (a box the model wrote "
                          "without a label?); rename it in the review screen before exporting")
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

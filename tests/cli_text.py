"""CLI output as plain words, whatever the terminal width.

typer prints usage errors inside a rich panel that wraps at the terminal's width, so a message can
be split across lines and framed by box characters. Tests compare against :func:`plain` instead.

>>> plain("╭─ Error ─╮\\n│ Path 'x' does not │\\n│ exist.   │\\n╰─────────╯")
"Error Path 'x' does not exist."
"""

from __future__ import annotations

import re

__all__ = ["plain"]

_FRAME = re.compile(r"[│╭╮╰╯─┃━┏┓┗┛]+")


def plain(text: str) -> str:
    """The text with panel borders removed and every run of whitespace made one space."""
    return " ".join(_FRAME.sub(" ", text).split())

"""GUI-agent action calls: ``click(start_box='<|box_start|>(x,y)<|box_end|>')`` and its relatives.

Agents fine-tuned from Qwen2-VL / Qwen2.5-VL (UI-TARS and others) answer with Python-like calls whose
arguments hold a point or a box: in box tokens, with the tokens stripped by the server
(``click(start_box='(x,y)')``), as ``<point>x y</point>``/``<bbox>x1 y1 x2 y2</bbox>`` or as a list.
Two numbers are a point, four a box; a two-point action (``drag``, ``swipe``, ``scroll``) gives one point per
end, each with its ``argument`` (``start_box``/``end_box``, ``start``/``end``). Arguments may also be written
unquoted (``drag(start=(10, 20), end=(110, 120))``) or with escaped quotes, as a server log prints them
(``click(start_box=\\'(235,512)\\')``). The label is a reference written in the argument or just before
the call (``<|object_ref_start|>OK<|object_ref_end|>``), else the action's name; the argument's
name is kept as the ``argument`` attribute (``drag`` has a ``start_box`` and an ``end_box``).
Coordinates follow the family like any other style.

>>> found = action_detections("Action: click(start_box='<|box_start|>(235,512)<|box_end|>')")
>>> [(d.kind, d.label, d.coords, d.attributes) for d in found.detections]
[('point', 'click', (235.0, 512.0), {'argument': 'start_box'})]
>>> [(d.label, d.coords) for d in action_detections("drag(start_box='(1,2)', end_box='(3,4)')").detections]
[('drag', (1.0, 2.0)), ('drag', (3.0, 4.0))]
"""

from __future__ import annotations

import re

from grounding.parse.numbers import numbers_in
from grounding.parse.objects import clean_label
from grounding.parse.raw import Found, RawDetection
from grounding.parse.tokens import REF

__all__ = ["ACTION_ARGUMENTS", "action_detections"]

ACTION_ARGUMENTS = ("start_box", "end_box", "start_point", "end_point", "start_coordinate", "end_coordinate", "point",
                    "box", "coordinate", "coordinate2", "start", "end")
"""Argument names whose value is a place on the screen (``start``/``end`` only with a bracketed value)."""

# values are bounded ({0,400}) so an unclosed quote costs at most 400 characters per argument. A quote may come
# escaped (``start_box=\'(x,y)\'``, text copied from a server log); a value may also be a bare (x, y) or [x, y]
_ARGUMENT = re.compile(
    r"\b(?P<key>" + "|".join(ACTION_ARGUMENTS) + r")\s*=\s*"
    r"(?:\\?(?P<quote>['\"])(?P<value>[^'\"\n]{0,400}?)\\?(?P=quote)|(?P<bare>[(\[][^()\[\]\n'\"]{0,200}[)\]]))")
_BARE_ONLY = frozenset(("start", "end"))
_CALL_HEAD = re.compile(r"([A-Za-z_][\w.]{0,60})\(")
_REF = re.compile(REF)
_REF_BEFORE = re.compile(REF + r"[ \t]*\Z")


def _action(text: str, start: int) -> tuple[str, int]:
    """The name of the call an argument at ``start`` belongs to, and where that name starts."""
    line_start = text.rfind("\n", 0, start) + 1
    heads = list(_CALL_HEAD.finditer(text, max(line_start, start - 300), start))
    if not heads:
        return "", start
    head = heads[-1]
    return head.group(1).rsplit(".", 1)[-1], head.start()


def action_detections(text: str) -> Found:
    """Points and boxes in the arguments of agent action calls."""
    found = Found()
    if "=" not in text:
        return found
    for match in _ARGUMENT.finditer(text):
        quoted = match.group("quote") is not None
        if quoted and match.group("key") in _BARE_ONLY:
            continue  # start='00:01': a time, not a place
        value = match.group("value") if quoted else match.group("bare")
        action, call_start = _action(text, match.start())
        if not action:
            continue  # a bare ``box='...'`` outside any call: not an action
        ref = _REF.search(value)
        label = clean_label(ref.group("ref")) if ref else ""
        if ref:
            value = value[:ref.start()] + " " + value[ref.end():]
        elif before := _REF_BEFORE.search(text, max(0, call_start - 300), call_start):
            label = clean_label(before.group("ref"))
            found.spans.append(before.span())
        numbers = numbers_in(value)
        attributes = {"argument": match.group("key")}
        if label and label != action:
            attributes["action"] = action
        if len(numbers) == 2:
            found.detections.append(RawDetection("point", label or action, tuple(numbers), match.start(), attributes))
        elif len(numbers) == 4:
            found.detections.append(RawDetection("box", label or action, tuple(numbers), match.start(), attributes))
        else:
            found.warnings.append(f"{action}({match.group('key')}=...) holds {len(numbers)} numbers, not 2 or 4: skipped")
        found.spans.append(match.span())
    return found

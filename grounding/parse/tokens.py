"""Reference-and-box markup: Qwen2-VL special tokens and Qwen-VL ``<ref>``/``<box>`` tags.

``<|object_ref_start|>cat<|object_ref_end|><|box_start|>(x1,y1),(x2,y2)<|box_end|>`` (Qwen2-VL) and
``<ref>cat</ref><box>(x1,y1),(x2,y2)</box>`` (Qwen-VL) both name a phrase, then one or more boxes
for it. A box holding one pair ``(x,y)`` is a point (GUI agents fine-tuned from Qwen2-VL write
clicks so). ``<|quad_start|>(x1,y1),...,(x4,y4)<|quad_end|>`` is a quadrilateral: kept as the
``quad`` attribute (model coordinates, four ``[x, y]``), its bounding box is the detection.
Decoded with ``skip_special_tokens=True`` the tokens vanish and leave ``cat(x1,y1),(x2,y2)``: those
bare pairs are read too, the label being the words just before them. Numbers follow
:mod:`grounding.parse.numbers` (``(1e2,20)`` is the point (100, 20)).

>>> found = token_detections("<ref> Woman</ref><box>(451,379),(731,806)</box> and her dog")
>>> [(d.label, d.coords) for d in found.detections]
[('Woman', (451.0, 379.0, 731.0, 806.0))]
>>> [(d.kind, d.coords) for d in token_detections("<|box_start|>(1e2,20)<|box_end|>").detections]
[('point', (100.0, 20.0))]
>>> [(d.label, d.coords) for d in bare_pair_detections("a cat(10,20),(30,40) on a mat").detections]
[('a cat', (10.0, 20.0, 30.0, 40.0))]
"""

from __future__ import annotations

import re

from grounding.parse.numbers import NUMBER, numbers_in
from grounding.parse.objects import clean_label
from grounding.parse.raw import Found, RawDetection

__all__ = ["token_detections", "bare_pair_detections", "quad_detection", "REF", "BOX_CONTENT"]

# [^<]* rather than .*?: an unclosed tag must not rescan the rest of the text (quadratic)
REF = r"(?:<\|object_ref_start\|>|<ref>)(?P<ref>[^<]*)(?:<\|object_ref_end\|>|</ref>)"
BOX_CONTENT = r"(?:<\|box_start\|>|<box>)(?P<box>[^<]*)(?:<\|box_end\|>|</box>)"
_QUAD = r"(?:<\|quad_start\|>|<quad>)(?P<quad>[^<]*)(?:<\|quad_end\|>|</quad>)"
_MARKUP = re.compile(f"{REF}|{BOX_CONTENT}|{_QUAD}")
_NUM = rf"\s*({NUMBER})\s*"
# "\)\s*(?:,\s*)?\(" rather than "\)\s*,?\s*\(": no two adjacent \s* (quadratic on long blank stretches)
_BARE_PAIRS = re.compile(rf"\({_NUM},{_NUM}\)\s*(?:,\s*)?\({_NUM},{_NUM}\)")
_LABEL_CHARS = re.compile(r"[^\n.;:!?()<>\[\]{}]{1,80}")
_OPENERS = ("<|box_start|>", "<box>", "<|quad_start|>", "<quad>")
_CLOSERS = ("<|box_end|>", "</box>", "<|quad_end|>", "</quad>")


def quad_detection(numbers: list[float], label: str, offset: int) -> RawDetection:
    """Four corners ``x1, y1, ..., x4, y4`` -> their bounding box, the corners kept as ``quad``."""
    xs, ys = numbers[0::2], numbers[1::2]
    quad = [[x, y] for x, y in zip(xs, ys)]
    return RawDetection("box", label, (min(xs), min(ys), max(xs), max(ys)), offset, {"quad": quad})


def token_detections(text: str) -> Found:
    """Boxes, points and quads from ``<|box_start|>``/``<box>``/``<|quad_start|>`` markup, labelled by the
    last reference before them."""
    found = Found()
    if "<" not in text:
        return found
    label = ""
    for match in _MARKUP.finditer(text):
        found.spans.append(match.span())
        if match.group("ref") is not None:
            label = clean_label(match.group("ref"))
            continue
        if match.group("quad") is not None:
            numbers = numbers_in(match.group("quad"))
            if len(numbers) == 8:
                found.detections.append(quad_detection(numbers, label, match.start()))
            else:
                found.warnings.append(f"a quad holds {len(numbers)} numbers, not 8: skipped")
            continue
        numbers = numbers_in(match.group("box"))
        if len(numbers) == 2:
            found.detections.append(RawDetection("point", label, (numbers[0], numbers[1]), match.start()))
            continue
        if len(numbers) % 4:
            found.warnings.append(f"a box holds {len(numbers)} numbers, not 2 or a multiple of 4: "
                                  f"read {len(numbers) // 4} box(es)")
        for i in range(0, len(numbers) - 3, 4):
            found.detections.append(RawDetection("box", label, tuple(numbers[i:i + 4]), match.start()))
    if max(text.rfind(t) for t in _OPENERS) > max(text.rfind(t) for t in _CLOSERS):
        found.warnings.append("the output stops inside a box: its coordinates were dropped")
    return found


def label_before(text: str, start: int) -> str:
    """The words just before ``start`` on the same line (up to 80 characters, no brackets or sentence ends)."""
    window = text[max(0, start - 80):start].rstrip()
    if not window:
        return ""
    # the last run of label characters that reaches the end of the window
    best = ""
    for match in _LABEL_CHARS.finditer(window):
        if match.end() == len(window):
            best = match.group()
    return clean_label(best)


def bare_pair_detections(text: str) -> Found:
    """``label(x1,y1),(x2,y2)`` left when the box tokens were stripped at decoding."""
    found = Found()
    if "(" not in text:
        return found
    for match in _BARE_PAIRS.finditer(text):
        coords = tuple(float(v) for v in match.groups())
        found.detections.append(RawDetection("box", label_before(text, match.start()), coords, match.start()))
        found.spans.append(match.span())
    if found.detections:
        found.warnings.append("read '(x1,y1),(x2,y2)' pairs without box tokens (decoded with skip_special_tokens?)")
    return found

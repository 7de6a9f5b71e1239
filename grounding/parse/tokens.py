"""Reference-and-box markup: Qwen2-VL special tokens and Qwen-VL ``<ref>``/``<box>`` tags.

``<|object_ref_start|>cat<|object_ref_end|><|box_start|>(x1,y1),(x2,y2)<|box_end|>`` (Qwen2-VL) and
``<ref>cat</ref><box>(x1,y1),(x2,y2)</box>`` (Qwen-VL) both name a phrase, then one or more boxes
for it. Decoded with ``skip_special_tokens=True`` the Qwen2-VL tokens vanish and leave
``cat(x1,y1),(x2,y2)``: those bare pairs are read too, the label being the words just before them.

>>> found = token_detections("<ref> Woman</ref><box>(451,379),(731,806)</box> and her dog")
>>> [(d.label, d.coords) for d in found.detections]
[('Woman', (451.0, 379.0, 731.0, 806.0))]
>>> [(d.label, d.coords) for d in bare_pair_detections("a cat(10,20),(30,40) on a mat").detections]
[('a cat', (10.0, 20.0, 30.0, 40.0))]
"""

from __future__ import annotations

import re

from grounding.parse.objects import clean_label
from grounding.parse.raw import Found, RawDetection

__all__ = ["token_detections", "bare_pair_detections"]

# [^<]* rather than .*?: an unclosed tag must not rescan the rest of the text (quadratic)
_REF = r"(?:<\|object_ref_start\|>|<ref>)(?P<ref>[^<]*)(?:<\|object_ref_end\|>|</ref>)"
_BOX = r"(?:<\|box_start\|>|<box>)(?P<box>[^<]*)(?:<\|box_end\|>|</box>)"
_MARKUP = re.compile(f"{_REF}|{_BOX}")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_NUM = r"\s*(-?\d+(?:\.\d+)?)\s*"
# "\)\s*(?:,\s*)?\(" rather than "\)\s*,?\s*\(": no two adjacent \s* (quadratic on long blank stretches)
_BARE_PAIRS = re.compile(rf"\({_NUM},{_NUM}\)\s*(?:,\s*)?\({_NUM},{_NUM}\)")
_LABEL_BEFORE = re.compile(r"([^\n.;:!?()<>\[\]{}]{1,80})\s*$")


def token_detections(text: str) -> Found:
    """Boxes from ``<|box_start|>``/``<box>`` markup, labelled by the last reference before them."""
    found = Found()
    label = ""
    for match in _MARKUP.finditer(text):
        found.spans.append(match.span())
        if match.group("ref") is not None:
            label = clean_label(match.group("ref"))
            continue
        numbers = [float(n) for n in _NUMBER.findall(match.group("box"))]
        if len(numbers) % 4:
            found.warnings.append(f"a box holds {len(numbers)} numbers, not a multiple of 4: read {len(numbers) // 4} box(es)")
        for i in range(0, len(numbers) - 3, 4):
            found.detections.append(RawDetection("box", label, tuple(numbers[i:i + 4]), match.start()))
    if max(text.rfind("<|box_start|>"), text.rfind("<box>")) > max(text.rfind("<|box_end|>"), text.rfind("</box>")):
        found.warnings.append("the output stops inside a box: its coordinates were dropped")
    return found


def bare_pair_detections(text: str) -> Found:
    """``label(x1,y1),(x2,y2)`` left when the box tokens were stripped at decoding."""
    found = Found()
    for match in _BARE_PAIRS.finditer(text):
        before = _LABEL_BEFORE.search(text, max(0, match.start() - 80), match.start())
        label = clean_label(before.group(1)) if before else ""
        coords = tuple(float(v) for v in match.groups())
        found.detections.append(RawDetection("box", label, coords, match.start()))
        found.spans.append(match.span())
    if found.detections:
        found.warnings.append("read '(x1,y1),(x2,y2)' pairs without box tokens (decoded with skip_special_tokens?)")
    return found

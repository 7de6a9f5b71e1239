"""Seeded mutations of model outputs for fuzzing the parser (used by the test suite and bench/parse_fuzz.py)."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence

from grounding import ProcessedImage
from grounding.parse import ParseResult
from grounding.parse.dispatch import INTERNAL_ERROR

FRAGMENTS = (
    "{", "}", "[", "]", ",", ":", '"', "'", "\\", "\\u", "\n", "\t", " ", "```", "```json\n", "json\n",
    '"bbox_2d": [', '"point_2d": [', '"label": ', '"bbox": "', '"bboxes": [[', '"coordinate": [', '"names": {"en": ',
    '"image": 9', '"img_idx": -1', '"image": "Picture 2"', '"image": 1.5', "NaN", "Infinity", "-Infinity", "1e999",
    "-0", "null", "true", "None", "1e308", "99999999999999999999", "-5", "0.5", "<ref>", "</ref>", "<box>", "</box>",
    "<|object_ref_start|>", "<|object_ref_end|>", "<|box_start|>", "<|box_end|>", "(1,2),(3,4)", "<think>",
    "</think>", "<answer>", "</answer>", "<tool_call>", "</tool_call>", '<points x1="', '" y1="', '<point x="1" y="',
    'data-bbox="', "<p>", "</p>", "Picture 2", "Image 1", "图2", "击掌", "🐱", "\x00", "\ud800", "10,20,30,40 cat\n",
)


def mutate(text: str, rng: random.Random) -> str:
    """``text`` with 1-4 random edits: cuts, deletions, duplications, junk insertions, number swaps."""
    for _ in range(rng.randint(1, 4)):
        n = len(text)
        i = rng.randint(0, n)
        j = min(n, i + rng.randint(1, 24))
        op = rng.randrange(9)
        if op == 0:
            text = text[:i]
        elif op == 1:
            text = text[:i] + text[j:]
        elif op == 2:
            text = text[:j] + text[i:j] + text[j:]
        elif op in (3, 4):
            text = text[:i] + rng.choice(FRAGMENTS) + text[i:]
        elif op == 5:
            digits = [k for k, c in enumerate(text) if c.isdigit()]
            if digits:
                k = rng.choice(digits)
                text = text[:k] + rng.choice(["-1", "1e999", "nan", "99999", "0.5", ""]) + text[k + 1:]
        elif op == 6:
            text = rng.choice(["[", "{\"a\": ", "<answer>", "Picture 2: "]) + text
        elif op == 7:
            text = text * rng.randint(2, 4)
        else:
            text = text[:i] + "".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(2, 12))) + text[i:]
    return text


def mutated_inputs(seeds: Sequence[str], count: int, seed: int = 0) -> Iterator[str]:
    rng = random.Random(seed)
    for _ in range(count):
        yield mutate(rng.choice(seeds), rng)


def check_result(result: ParseResult, images: Sequence[ProcessedImage]) -> None:
    """Invariants every result must hold, whatever the text."""
    assert isinstance(result, ParseResult)
    assert all(isinstance(w, str) and w for w in result.warnings)
    assert not any(INTERNAL_ERROR in w for w in result.warnings), result.warnings
    for d in result.detections:
        assert d.kind in ("box", "point")
        assert len(d.model) == len(d.original) == (4 if d.kind == "box" else 2)
        assert all(isinstance(v, float) and math.isfinite(v) for v in (*d.model, *d.original))
        assert isinstance(d.label, str) and isinstance(d.attributes, dict) and isinstance(d.outside, bool)
        assert 1 <= d.image <= len(images)
        if d.kind == "box":
            assert d.model[0] <= d.model[2] and d.model[1] <= d.model[3]
        mw, mh = images[d.image - 1].model_wh
        inside = all(0 <= v <= (mw if k % 2 == 0 else mh) for k, v in enumerate(d.model))
        assert d.outside is not inside


ADVERSARIAL = {
    # issue 11: quadratic before (100 KB of "{[]" took 68 s; 10 MB of "(1,2)," 38 s and a 170 MB answer)
    "{[] repeated": lambda n: "{[]" * (n // 3),
    "(1,2), repeated": lambda n: "(1,2)," * (n // 6),
    "blank run after a pair": lambda n: "(1,2)" + " " * n + "x",
    "long plain line": lambda n: "1,2,3,4 a" + " " * n + "x\n",
    "unclosed point tags": lambda n: '<points x1="1" y1="2">' * (n // 22),
    "unclosed refs": lambda n: "<ref>" * (n // 5) + "<box>(1,2),(3,4)",
    "open brackets": lambda n: "[" * n,
    "open objects": lambda n: '{"a": ' * (n // 6),
    "open strings": lambda n: '["' * (n // 2),
    "unclosed strings in a list": lambda n: '["a' * (n // 3) + "]",
    "quotes mixed": lambda n: "[" + "'a\"" * (n // 3) + "]",
    "many small objects": lambda n: '{"bbox_2d": [1, 2, 3, 4], "label": "a"}\n' * (n // 41),
    "truncated long list": lambda n: "[" + '{"bbox_2d": [1, 2, 3, 4], "label": "a"}, ' * (n // 42) + '{"bbox_2d": [1',
    "bare boxes": lambda n: "[1,2,3,4] " * (n // 10),
    "long word in a tag": lambda n: "<points " + "a" * n + ">",
    "unclosed data-bbox quotes": lambda n: '<p data-bbox="' * (n // 14),
    "action calls": lambda n: "click(start_box='(1,2)') " * (n // 25),
    "picture mentions and pairs": lambda n: "Picture 1: (1,2),(3,4)\n" * (n // 23),
    "one object repeating its keys": lambda n: "{" + '"label": "a", "bbox": [1, 2, 3, 4], ' * (n // 38),
    "deep nesting": lambda n: "[" * (n // 2) + "]" * (n // 2),
    "stray braces": lambda n: "[" + '{"bbox_2d": [1, 2, 3, 4], "label": "a"}, {' * (n // 45) + "]",
    "one ref, many boxes": lambda n: "<ref>" + "x" * (n // 2) + "</ref>" + "<box>(1,2),(3,4)</box>" * (n // 44),
    # issue 22: the prose style, escapes undone, final-answer lines, named keys
    "places in prose": lambda n: "The cat is located at (1, 2), with a box of (1, 2, 3, 4). " * (n // 60),
    "bare lists in one sentence": lambda n: "x " + "is at [1, 2, 3, 4] and " * (n // 23),
    "corner lines": lambda n: "- Top-left corner: (1, 2)\n" * (n // 26),
    "named keys": lambda n: "x_min: 1, y_min: 2, " * (n // 20),
    "escaped quotes": lambda n: '{\\"bbox_2d\\": [1, 2' * (n // 19),
    "final answer lines": lambda n: "Final answer: (1, 2, 3, 4)\n" * (n // 27),
}
"""Inputs built to make a parser slow: ``make(n)`` gives about ``n`` characters."""

"""Everything supervision's ``Detections.from_vlm`` reads correctly, our parser reads too.

Same text, same sizes (Qwen2.5-VL: ``input_wh`` = resized, Qwen3-VL: 0-1000). Inputs: the style
table, every prefix of its JSON outputs (truncation at each character), and the real corpus with
every prefix of its JSON outputs. Where we return more than supervision is in docs/parser.md.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.grounding.parse.test_corpus import case_geometry
from tests.grounding.parse_cases import STYLE_CASES, geometry
from tests.grounding.sv_compare import from_vlm, missing_from_ours

SV_FAMILIES = ("qwen2.5-vl", "qwen3-vl")
JSON_CASES = [c for c in STYLE_CASES if c.family in SV_FAMILIES]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in JSON_CASES])
def test_style_cases(case):
    assert missing_from_ours(case.text, geometry(case.family)) == []


def test_every_prefix_of_the_style_cases():
    compared = recovered_by_supervision = 0
    for case in JSON_CASES:
        image = geometry(case.family)
        for end in range(len(case.text) + 1):
            prefix = case.text[:end]
            assert missing_from_ours(prefix, image) == [], (case.id, prefix)
            recovered_by_supervision += bool(from_vlm(prefix, image))
            compared += 1
    assert compared > 2000 and recovered_by_supervision > 200  # the comparison really exercised supervision


def test_corpus_and_its_prefixes(corpus):
    compared = recovered = 0
    for case in corpus:
        family = case["model"].split(" ")[0]
        if family not in SV_FAMILIES or case["original_wh"] is None:
            continue
        image = case_geometry(case)
        text = case["raw_output"]
        step = max(1, len(text) // 400)
        for end in [*range(0, len(text), step), len(text)]:
            assert missing_from_ours(text[:end], image) == [], (case["id"], end)
            recovered += bool(from_vlm(text[:end], image))
            compared += 1
    assert compared > 3000 and recovered > 1000


@pytest.mark.parametrize("family", SV_FAMILIES)
def test_plain_qwen_json_is_read_exactly_like_supervision(family):
    """On cookbook-style JSON (clean, cut off, Python literals, trailing commas, prose) both read the same boxes."""
    import random

    from grounding.parse import parse_grounding
    from tests.grounding.synthetic import clean_output, messy_output

    rng = random.Random(5)
    image = geometry(family)
    extent = image.resized_wh if family == "qwen2.5-vl" else (1000, 1000)
    for _ in range(300):
        text = rng.choice([clean_output, messy_output])(rng, extent)
        theirs = from_vlm(text, image)
        ours = parse_grounding(text, family, image).detections
        assert theirs is not None
        assert [d.label for d in ours] == [name for name, _ in theirs], text
        # supervision divides then multiplies (v / W' * W), we multiply by W / W': equal up to rounding
        assert np.allclose([d.original for d in ours], [box for _, box in theirs], rtol=1e-12, atol=1e-9), text

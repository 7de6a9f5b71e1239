"""The parser never raises on model text: 20,000 seeded mutations of real and hand-written outputs, plus hypothesis
(a tenth of both in the fast tier, see tests/budget.py).

The 100k run is ``python bench/parse_fuzz.py``.
"""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grounding import FAMILIES, ProcessedImage, process_size
from grounding.parse import parse_grounding
from tests.budget import examples
from tests.conftest import load_corpus
from tests.grounding.mutations import FRAGMENTS, check_result, mutated_inputs
from tests.grounding.parse_cases import STYLE_CASES

SEEDS = [c.text for c in STYLE_CASES] + [c["raw_output"] for c in load_corpus()]
MUTATIONS = examples(20_000)


def _geometries() -> list[tuple[ProcessedImage, ...]]:
    sets = []
    for family in FAMILIES:
        sets.append((process_size((640, 480), family),))
        sets.append((process_size((640, 480), family), process_size((300, 1200), family)))
    return sets


GEOMETRIES = _geometries()


def test_mutated_outputs_never_raise():
    rng = random.Random(1)
    found = 0
    for text in mutated_inputs(SEEDS, MUTATIONS, seed=7):
        images = rng.choice(GEOMETRIES)
        result = parse_grounding(text, images[0].family, images)
        check_result(result, images)
        found += len(result.detections)
    assert found > MUTATIONS // 2  # mutations keep many outputs readable: the parser did real work


@settings(max_examples=examples(600), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6),
                                st.integers(-10**6, 10**6).map(str)), max_size=40),
       geometry=st.sampled_from(GEOMETRIES))
def test_arbitrary_fragments_never_raise(parts, geometry):
    check_result(parse_grounding("".join(parts), geometry[0].family, geometry), geometry)

"""The paired bootstrap on constructed cases whose interval is known."""

from __future__ import annotations

import numpy as np
import pytest

from grounding.errors import GroundingError
from grounding.evaluation import EvalCase, PictureBoxes, score_cases
from grounding.evaluation.compare import paired_bootstrap, worse_items

TRUTH = (PictureBoxes(((0, 0, 10, 10),), ("cat",)),)
HIT = (PictureBoxes(((0, 0, 10, 10),), ("cat",)),)
MISS = (PictureBoxes(((50, 50, 60, 60),), ("cat",)),)


def scored(hits: list[bool]):
    return score_cases([EvalCase(str(i), TRUTH, HIT if hit else MISS) for i, hit in enumerate(hits)])


def test_interval_of_a_known_difference():
    # A finds all 100 targets, B the first 50: the per-item differences are 0 or -1 with p = 1/2, so
    # b - a = -0.5 and its bootstrap distribution has standard deviation sqrt(0.25 / 100) = 0.05:
    # the 95 % interval is -0.5 +- 1.96 * 0.05 = [-0.598, -0.402] (to the bootstrap's noise).
    a, b = scored([True] * 100), scored([True] * 50 + [False] * 50)
    found = paired_bootstrap(a, b, resamples=2000, seed=3)["acc50"]
    assert (found.a, found.b, found.difference) == (1.0, 0.5, -0.5)
    assert found.low == pytest.approx(-0.598, abs=0.02) and found.high == pytest.approx(-0.402, abs=0.02)


def test_pairing_gives_a_tight_interval_where_unpaired_noise_would_not():
    # both setups miss the same 40 items; B also misses 5 more: only those 5 differ, so the interval
    # is narrow around -0.05 although each setup alone varies by +-0.1
    hits = [i >= 40 for i in range(100)]
    worse = [h and i >= 45 for i, h in enumerate(hits)]
    found = paired_bootstrap(scored(hits), scored(worse), resamples=1000)["acc50"]
    assert found.difference == pytest.approx(-0.05) and found.high - found.low < 0.1 and found.high <= 0


def test_the_same_setup_twice_differs_by_exactly_nothing():
    a = scored([True, False, True, True])
    for difference in paired_bootstrap(a, a, resamples=100).values():
        if difference.difference is not None:
            assert (difference.difference, difference.low, difference.high) == (0.0, 0.0, 0.0)


def test_worse_items_lists_the_items_that_dropped_largest_drop_first():
    half = (PictureBoxes(((0, 0, 10, 5),), ("cat",)),)
    a = score_cases([EvalCase("x", TRUTH, HIT), EvalCase("y", TRUTH, HIT), EvalCase("z", TRUTH, MISS)])
    b = score_cases([EvalCase("x", TRUTH, half), EvalCase("y", TRUTH, MISS), EvalCase("z", TRUTH, HIT)])
    assert [(c.key, c.a, c.b) for c in worse_items(a, b)] == [("y", 1.0, 0.0), ("x", 1.0, 0.5)]


def test_an_interval_is_the_same_every_time():
    a, b = scored([True, False] * 10), scored([False, True, True, False] * 5)
    first, again = paired_bootstrap(a, b, resamples=300), paired_bootstrap(a, b, resamples=300)
    assert first["acc50"] == again["acc50"] and np.isfinite(first["acc50"].low)


def test_setups_on_other_items_are_refused():
    with pytest.raises(GroundingError, match="same items"):
        paired_bootstrap(scored([True]), scored([True, True]))

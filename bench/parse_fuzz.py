"""Long fuzz run: 100k seeded mutations of real and hand-written outputs; the parser must never raise.

Seeds: the style table of the tests, plus the real corpus when ../shared is beside the checkout.
Every result is checked with the same invariants as the test suite (finite coordinates, ordered
corners, picture numbers in range, ``outside`` consistent, no internal-error warning).

    python bench/parse_fuzz.py [--count 100000] [--seed 11]
"""

from __future__ import annotations

import argparse
import random
import time
import traceback

import _common  # noqa: F401  (puts the repository root on sys.path)

from grounding import FAMILIES, process_size
from grounding.parse import parse_grounding
from tests.conftest import load_corpus
from tests.grounding.mutations import check_result, mutated_inputs
from tests.grounding.parse_cases import STYLE_CASES


def run(count: int, seed: int) -> dict[str, object]:
    corpus = load_corpus()
    seeds = [c.text for c in STYLE_CASES] + [c["raw_output"] for c in corpus]
    geometries = [(process_size((640, 480), f),) for f in FAMILIES]
    geometries += [(process_size((640, 480), f), process_size((300, 1200), f)) for f in FAMILIES]
    rng = random.Random(seed)
    failures: list[dict[str, str]] = []
    detections = chars = 0
    slowest = (0.0, "")
    start = time.perf_counter()
    for text in mutated_inputs(seeds, count, seed=seed):
        images = rng.choice(geometries)
        began = time.perf_counter()
        try:
            result = parse_grounding(text, images[0].family, images)
            check_result(result, images)
        except Exception:  # noqa: BLE001 - counting failures is the point
            failures.append({"input": text[:500], "error": traceback.format_exc(limit=3)[-800:]})
            continue
        spent = time.perf_counter() - began
        if spent > slowest[0]:
            slowest = (spent, text[:120])
        detections += len(result.detections)
        chars += len(text)
    elapsed = time.perf_counter() - start
    report = {
        "inputs": count, "seed": seed, "seeds": len(seeds), "corpus_cases": len(corpus),
        "failures": len(failures), "failure_examples": failures[:5], "detections_found": detections,
        "mean_input_chars": round(chars / max(1, count - len(failures))), "seconds": round(elapsed, 1),
        "inputs_per_s": round(count / elapsed), "slowest_input_ms": round(slowest[0] * 1000, 1),
    }
    print(f"{count} mutated inputs from {len(seeds)} seeds ({len(corpus)} real): {len(failures)} failures, "
          f"{detections} detections, {elapsed:.1f} s ({count / elapsed:.0f}/s), slowest {slowest[0] * 1000:.1f} ms")
    for failure in failures[:3]:
        print("---", repr(failure["input"][:200]), "\n", failure["error"])
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    print("wrote", _common.write_result("parse_fuzz", run(args.count, args.seed)))

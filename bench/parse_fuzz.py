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

import _timing  # noqa: F401  (puts the repository root on sys.path)

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


PATHOLOGICAL = {
    "blank run after a pair": lambda n: "(1,2)" + " " * n + "x",
    "long plain line": lambda n: "1,2,3,4 a" + " " * n + "x\n",
    "unclosed point tags": lambda n: '<points x1="1" y1="2">' * (n // 22),
    "unclosed refs": lambda n: "<ref>" * (n // 5) + "<box>(1,2),(3,4)",
    "open brackets": lambda n: "[" * n,
    "open objects": lambda n: '{"a": ' * (n // 6),
    "open strings": lambda n: '["' * (n // 2),
    "many small objects": lambda n: '{"bbox_2d": [1, 2, 3, 4], "label": "a"}\n' * (n // 41),
    "truncated long list": lambda n: "[" + '{"bbox_2d": [1, 2, 3, 4], "label": "a"}, ' * (n // 42) + '{"bbox_2d": [1',
}


def pathological(size: int = 10_000) -> dict[str, dict[str, float]]:
    """Time of adversarial inputs at ``size`` and 4x ``size`` characters: about 4x means linear, 16x quadratic."""
    image = process_size((640, 480), "qwen2.5-vl")
    report = {}
    for name, make in PATHOLOGICAL.items():
        small, large = (_timing.best_of(3, lambda n=n: parse_grounding(make(n), image.family, image))
                        for n in (size, 4 * size))
        report[name] = {"ms_small": round(small * 1000, 2), "ms_4x": round(large * 1000, 2),
                        "growth": round(large / small, 1)}
        print(f"  {name:24s} {small * 1000:8.2f} ms at {size} chars, {large * 1000:8.2f} ms at {4 * size}: x{large / small:.1f}")
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    result = run(args.count, args.seed)
    print("pathological inputs (growth for 4x the size; 4 is linear, 16 quadratic):")
    result["pathological"] = pathological()
    print("wrote", _timing.write_result("parse_fuzz", result))

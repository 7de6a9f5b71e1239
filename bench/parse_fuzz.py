"""Long fuzz run: 100k seeded mutations of real and hand-written outputs; the parser must never raise.

Seeds: the style table of the tests, plus the real corpus when ../shared is beside the checkout.
Every result is checked with the same invariants as the test suite (finite coordinates, ordered
corners, picture numbers in range, ``outside`` consistent, no internal-error warning).

    python bench/parse_fuzz.py [--count 100000] [--seed 11] [--size 16000]

It then times the adversarial inputs of ``tests/grounding/mutations.py`` (one text of 8n characters
against eight of n: about 1 when linear, 8 when quadratic) and the two inputs issue 11 reported.
"""

from __future__ import annotations

import argparse
import json
import random
import time
import traceback

import _timing

from bench._record import Goal, Row
from grounding import FAMILIES, process_size
from grounding.parse import parse_grounding
from tests.conftest import load_corpus
from tests.grounding.mutations import ADVERSARIAL, check_result, mutated_inputs
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
        except Exception:
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


GROWTH_GOAL = 2.0  # one text of 8n characters over eight of n: about 1 when linear, 8 when quadratic


def _once(texts: list[str], image) -> float:
    start = time.perf_counter()
    for text in texts:
        parse_grounding(text, image.family, image)
    return time.perf_counter() - start


def _best_pair(repeats: int, long: list[str], short: list[str], image) -> tuple[float, float]:
    """The best of ``repeats`` runs of each, alternating (a burst of load on a shared machine then hits both)."""
    best_long = best_short = float("inf")
    for _ in range(repeats):
        best_long = min(best_long, _once(long, image))
        best_short = min(best_short, _once(short, image))
    return best_long, best_short


def adversarial(size: int = 16_000, repeats: int = 5) -> dict[str, dict[str, object]]:
    """Each input of ``ADVERSARIAL`` as one text of 8 x ``size`` characters ("ours") against eight texts of
    ``size`` ("peer": the same amount of text, what linear time would cost)."""
    image = process_size((640, 480), "qwen2.5-vl")
    report = {}
    for name, make in ADVERSARIAL.items():
        long, short = [make(8 * size)], [make(size)] * 8
        t_long, t_short = _best_pair(repeats, long, short, image)
        ratio = t_long / t_short
        report[name] = {"ours": round(t_long * 1000, 2), "peer": round(t_short * 1000, 2), "ratio": round(ratio, 2),
                        "goal": GROWTH_GOAL, "pass": ratio <= GROWTH_GOAL}
        print(f"  {name:30s} {t_long * 1000:8.1f} ms for {8 * size} chars, {t_short * 1000:8.1f} ms for 8 x {size}: "
              f"x{ratio:.2f}")
    return report


REPORTED = {  # issue 11, as measured there before the fix: 68 s, and 38 s with a 170 MB answer
    "{[] to 100 KB": lambda: "{[]" * 33_334,
    "(1,2), to 10 MB": lambda: "(1,2)," * 1_750_000,
}


def reported() -> dict[str, dict[str, float]]:
    image = process_size((640, 480), "qwen2.5-vl")
    report = {}
    for name, make in REPORTED.items():
        text = make()
        start = time.perf_counter()
        result = parse_grounding(text, image.family, image)
        seconds = time.perf_counter() - start
        answer = len(json.dumps(result.as_dict()))
        report[name] = {"seconds": round(seconds, 3), "answer_bytes": answer, "detections": len(result.detections)}
        print(f"  {name:18s} {seconds:6.2f} s, answer {answer / 1e6:.2f} MB, {len(result.detections)} detections")
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--size", type=int, default=16_000, help="n for the adversarial inputs (8n against 8 x n)")
    args = parser.parse_args()
    result = run(args.count, args.seed)
    print(f"adversarial inputs: one text of 8n characters against eight of n (goal <= {GROWTH_GOAL}):")
    result["adversarial"] = adversarial(args.size)
    print("inputs reported in issue 11:")
    result["reported"] = reported()
    worst = max(result["adversarial"].values(), key=lambda r: r["ratio"])
    result.update({"ours": worst["ours"], "peer": worst["peer"], "ratio": worst["ratio"], "goal": GROWTH_GOAL,
                   "pass": result["failures"] == 0 and all(r["pass"] for r in result["adversarial"].values()),
                   "unit": "ms: worst adversarial input, one text of 8n characters (ours) vs eight of n (peer); "
                           "pass also needs 0 fuzz failures"})
    rows = [
        Row("parse fuzz: mutated outputs that raised", ours=float(result["failures"]), units="exceptions",
            goal=Goal.ours_at_most(0), notes=f"{result['inputs']} seeded mutations of {result['seeds']} seeds"),
        Row(f"parse: worst adversarial input, {8 * args.size} chars (peer: 8 x {args.size})", ours=float(worst["ours"]),
            peer=float(worst["peer"]), units="ms", goal=Goal.ratio_at_most(GROWTH_GOAL),
            notes="ratio about 1 when linear, 8 when quadratic; peer: the same amount of text in eight pieces"),
    ]
    print("wrote", _timing.write_result("parse_fuzz", result, rows=rows))

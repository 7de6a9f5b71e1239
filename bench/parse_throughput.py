"""Parse + convert throughput: our parser vs supervision's ``Detections.from_vlm`` (goal: at least as fast).

Both read the same texts with the same sizes, in the same process, and return original-image
boxes. Two sets of seeded synthetic outputs (half Qwen2.5-VL, half Qwen3-VL): clean cookbook-style
fenced JSON, and messy ones (cut off by the token limit, Python literals, trailing commas, prose
around) that from_vlm also claims to handle. Runs alternate (ours, peer, ours, ...) and the best
of each counts, so a burst of load on the machine hits both. Every box from_vlm returns must be
among ours (same label, same box): ``missing`` counts those that are not.

    python bench/parse_throughput.py [--count 10000] [--repeats 5]

Record (``bench/results/parse_throughput.json``): ``ours`` and ``peer`` in outputs/s, ``ratio`` =
our time / from_vlm's time (the worse of clean and messy), ``goal`` <= 1.0, ``pass``; per set under ``sets``.
"""

from __future__ import annotations

import argparse
import random
import time

import _timing
import supervision as sv

from bench._record import Goal, Row
from grounding import process_size
from grounding.parse import parse_grounding
from tests.grounding.sv_compare import missing_from_ours
from tests.grounding.synthetic import clean_output, messy_output

GOAL = 1.0  # our time over from_vlm's, on each set


def _alternating(repeats: int, ours, peer) -> tuple[float, float]:
    best_ours = best_peer = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        ours()
        best_ours = min(best_ours, time.perf_counter() - start)
        start = time.perf_counter()
        peer()
        best_peer = min(best_peer, time.perf_counter() - start)
    return best_ours, best_peer


def run(count: int, repeats: int) -> dict[str, object]:
    rng = random.Random(2025)
    q25 = process_size((1920, 1080), "qwen2.5-vl")
    q3 = process_size((1920, 1080), "qwen3-vl")
    sets: dict[str, dict[str, object]] = {}
    for name, make in (("clean", clean_output), ("messy", messy_output)):
        texts25 = [make(rng, q25.resized_wh) for _ in range(count)]
        texts3 = [make(rng, (1000, 1000)) for _ in range(count)]

        def ours(texts25: list[str] = texts25, texts3: list[str] = texts3) -> None:
            for text in texts25:
                parse_grounding(text, "qwen2.5-vl", q25)
            for text in texts3:
                parse_grounding(text, "qwen3-vl", q3)

        def peer(texts25: list[str] = texts25, texts3: list[str] = texts3) -> None:
            for text in texts25:
                sv.Detections.from_vlm(sv.VLM.QWEN_2_5_VL, text, input_wh=q25.resized_wh, resolution_wh=q25.original_wh)
            for text in texts3:
                sv.Detections.from_vlm(sv.VLM.QWEN_3_VL, text, resolution_wh=q3.original_wh)

        boxes_ours = sum(len(parse_grounding(t, "qwen2.5-vl", q25).detections) for t in texts25) + sum(
            len(parse_grounding(t, "qwen3-vl", q3).detections) for t in texts3)
        boxes_peer = sum(len(sv.Detections.from_vlm(sv.VLM.QWEN_2_5_VL, t, input_wh=q25.resized_wh,
                                                    resolution_wh=q25.original_wh)) for t in texts25) + sum(
            len(sv.Detections.from_vlm(sv.VLM.QWEN_3_VL, t, resolution_wh=q3.original_wh)) for t in texts3)
        missing = sum(len(missing_from_ours(t, q25)) for t in texts25) + sum(len(missing_from_ours(t, q3)) for t in texts3)
        t_ours, t_peer = _alternating(repeats, ours, peer)
        outputs = 2 * count
        ratio = t_ours / t_peer
        sets[name] = {
            "ours": round(outputs / t_ours), "peer": round(outputs / t_peer), "ratio": round(ratio, 3),
            "goal": GOAL, "pass": ratio <= GOAL and missing == 0,
            "outputs": outputs, "ours_s": round(t_ours, 3), "peer_s": round(t_peer, 3),
            "boxes_ours": boxes_ours, "boxes_peer": boxes_peer, "peer_boxes_missing_from_ours": missing,
        }
        print(f"{name:5s}: ours {outputs / t_ours:8.0f} outputs/s   from_vlm {outputs / t_peer:8.0f} outputs/s   "
              f"time ratio ours/from_vlm {ratio:.2f} (goal <= {GOAL})   boxes ours {boxes_ours}, from_vlm {boxes_peer}, "
              f"from_vlm boxes missing from ours {missing}")
    worst = max(sets.values(), key=lambda s: s["ratio"])  # type: ignore[arg-type,return-value]
    return {
        "unit": "outputs/s (parse + convert to original pixels); ratio = our time / from_vlm's time",
        "peer_name": "supervision Detections.from_vlm", "count": count, "repeats": repeats,
        "ours": worst["ours"], "peer": worst["peer"], "ratio": worst["ratio"], "goal": GOAL,
        "pass": all(s["pass"] for s in sets.values()), "sets": sets,
    }


def rows(result: dict) -> list[Row]:
    """One row per set (outputs/s, ratio = ours / from_vlm's rate: at least 1), one for from_vlm's boxes we miss."""
    found = [Row(f"parse + convert, {name} outputs", ours=float(s["ours"]), peer=float(s["peer"]), units="outputs/s",
                 goal=Goal.ratio_at_least(1.0),
                 notes=f"peer: supervision Detections.from_vlm; {s['outputs']} outputs, half Qwen2.5-VL, half Qwen3-VL; "
                       f"best of {result['repeats']}, alternating")
             for name, s in result["sets"].items()]
    missing = sum(int(s["peer_boxes_missing_from_ours"]) for s in result["sets"].values())
    found.append(Row("parse: from_vlm boxes missing from ours (clean + messy)", ours=float(missing), units="boxes",
                     goal=Goal.ours_at_most(0),
                     notes=f"boxes ours {sum(s['boxes_ours'] for s in result['sets'].values())}, "
                           f"from_vlm {sum(s['boxes_peer'] for s in result['sets'].values())}"))
    return found


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    result = run(args.count, args.repeats)
    print("wrote", _timing.write_result("parse_throughput", result, rows=rows(result)))

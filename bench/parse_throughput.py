"""Parse + convert throughput: 10k Qwen outputs, our parser vs supervision's ``Detections.from_vlm``.

Both read the same texts with the same sizes and return original-image boxes. Two sets of 10k
seeded synthetic outputs: clean cookbook-style fenced JSON, and messy ones (truncated, Python
literals, trailing commas, prose around) that from_vlm also claims to handle.

    python bench/parse_throughput.py [--count 10000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import random

import _timing  # noqa: F401  (puts the repository root on sys.path)
import supervision as sv

from grounding import process_size
from grounding.parse import parse_grounding
from tests.grounding.synthetic import clean_output, messy_output

def run(count: int, repeats: int) -> dict[str, object]:
    rng = random.Random(2025)
    q25 = process_size((1920, 1080), "qwen2.5-vl")
    q3 = process_size((1920, 1080), "qwen3-vl")
    report: dict[str, object] = {"count": count}
    for name, make in (("clean", clean_output), ("messy", messy_output)):
        texts25 = [make(rng, q25.resized_wh) for _ in range(count)]
        texts3 = [make(rng, (1000, 1000)) for _ in range(count)]

        def ours() -> None:
            for text in texts25:
                parse_grounding(text, "qwen2.5-vl", q25)
            for text in texts3:
                parse_grounding(text, "qwen3-vl", q3)

        def supervision() -> None:
            for text in texts25:
                sv.Detections.from_vlm(sv.VLM.QWEN_2_5_VL, text, input_wh=q25.resized_wh, resolution_wh=q25.original_wh)
            for text in texts3:
                sv.Detections.from_vlm(sv.VLM.QWEN_3_VL, text, resolution_wh=q3.original_wh)

        boxes_ours = sum(len(parse_grounding(t, "qwen2.5-vl", q25).detections) for t in texts25)
        boxes_sv = sum(len(sv.Detections.from_vlm(sv.VLM.QWEN_2_5_VL, t, input_wh=q25.resized_wh,
                                                  resolution_wh=q25.original_wh)) for t in texts25)
        t_ours, t_sv = _timing.best_of(repeats, ours), _timing.best_of(repeats, supervision)
        outputs = 2 * count
        report[name] = {
            "outputs": outputs,
            "ours_s": round(t_ours, 3), "supervision_s": round(t_sv, 3),
            "ours_per_s": round(outputs / t_ours), "supervision_per_s": round(outputs / t_sv),
            "ours_over_supervision_time": round(t_ours / t_sv, 2),
            "boxes_qwen25_ours": boxes_ours, "boxes_qwen25_supervision": boxes_sv,
        }
        print(f"{name:5s}: ours {outputs / t_ours:8.0f} outputs/s  supervision {outputs / t_sv:8.0f} outputs/s  "
              f"time ratio ours/supervision {t_ours / t_sv:.2f}  boxes (Qwen2.5 set) ours {boxes_ours} vs {boxes_sv}")
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print("wrote", _timing.write_result("parse_throughput", run(args.count, args.repeats)))

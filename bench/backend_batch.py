"""Local backend throughput: ``generate_batch`` (several requests per forward pass) vs ``generate`` one by one.

Tiny Qwen2.5-VL built offline; ``--items`` requests, each with its own image file (sizes vary),
all generating exactly ``--max-new-tokens`` tokens (greedy). Both ways start from cold caches
(decode, resize, patches) and run in the same process; the best of ``--repeats`` rounds counts.
Ours: items/s batched (``--batch`` per generate call); peer: items/s one by one; goal: ratio >= 1.
Also checks that both ways give the same answers.

    python bench/backend_batch.py [--items 8] [--batch 8] [--max-new-tokens 64] [--repeats 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # also runnable as a plain script

from bench._record import Goal, Row, write_record

SIZES = [(640, 480), (300, 500), (800, 600), (480, 640), (1024, 768), (500, 375), (320, 240), (600, 800)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=8)
    parser.add_argument("--batch", type=int, default=None, help="requests per generate call (default: all)")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    args = parser.parse_args()

    import torch

    from tests.factories import write_image
    from tests.tiny_model import build_tiny_qwen2_5_vl
    from workbench.backends import GroundingRequest, LocalTransformersBackend

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    work = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    backend = LocalTransformersBackend(str(build_tiny_qwen2_5_vl(work / "tiny")), local_files_only=True)
    backend.load().model.generation_config.min_new_tokens = args.max_new_tokens  # every answer is full length
    requests = [
        GroundingRequest(images=(write_image(work, *SIZES[i % len(SIZES)], fmt="JPEG" if i % 2 else "PNG", seed=i),),
                         prompt=f"Locate every {noun} in the image and output the bbox coordinates in JSON format.",
                         max_new_tokens=args.max_new_tokens)
        for i, noun in zip(range(args.items), ["cat", "dog", "cup", "car", "bowl", "tree", "sign", "person"] * 99)
    ]
    backend.generate(requests[0])  # warm up
    backend.generate_batch(requests[:2])

    def one_by_one() -> list:
        return [backend.generate(request) for request in requests]

    def batched() -> list:
        return backend.generate_batch(requests, max_batch=args.batch)

    best = {"one_by_one": float("inf"), "batched": float("inf")}
    answers = {}
    for _ in range(args.repeats):
        for name, run in (("one_by_one", one_by_one), ("batched", batched)):
            backend._inputs.clear()  # both start cold
            started = time.perf_counter()
            answers[name] = run()
            best[name] = min(best[name], time.perf_counter() - started)
    same = [a.text for a in answers["one_by_one"]] == [b.text for b in answers["batched"]]
    rate = {name: args.items / seconds for name, seconds in best.items()}
    batch = args.batch or args.items
    print(f"one by one {rate['one_by_one']:.2f} items/s, batched ({batch} per call) {rate['batched']:.2f} items/s, "
          f"ratio {rate['batched'] / rate['one_by_one']:.2f}; same answers: {same}")
    rows = [Row(f"local backend throughput, {batch} requests per generate call", ours=rate["batched"],
                units="items/s", peer=rate["one_by_one"], goal=Goal.ratio_at_least(1.0),
                notes=f"peer: generate one by one; tiny model, {args.max_new_tokens} tokens each, "
                      f"{args.items} items; same answers: {same}")]
    path = write_record("backend_batch", {
        "items": args.items, "batch": batch, "max_new_tokens": args.max_new_tokens, "repeats": args.repeats,
        "seconds": best, "items_per_s": rate, "same_answers": same,
        "device": "cuda" if torch.cuda.is_available() else "cpu", "threads": torch.get_num_threads(),
    }, packages=("torch", "transformers"), rows=rows)
    print(f"record: {path}")
    if not same:
        raise SystemExit("batched answers differ from one-by-one answers")


if __name__ == "__main__":
    main()

"""Time spent outside ``generate`` per request, local backend on a tiny Qwen2.5-VL (goal: <= 10 %).

Builds the tiny test checkpoint offline, then for each request measures:

- ``backend``: ``LocalTransformersBackend.generate`` (images decoded from files, chat template,
  processor, generate, geometry from the grid), split into time inside ``model.generate``
  and outside it; ``streaming``: the same with a text callback (threaded generate feeding a
  ``TextIteratorStreamer``);
- ``peer``: the plain transformers recipe on the same files in the same process (open the
  images, ``apply_chat_template``, ``processor(...)``, ``model.generate``, decode), no
  streaming, no geometry.

Prints medians and the ratios (outside-generate share; backend / peer), and writes a record
with machine and versions to ``bench/results/backend_overhead.json``.

    python -m bench.backend_overhead --requests 20 --max-new-tokens 64 --threads 1
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bench._record import write_record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads (1 keeps timings stable on a shared machine)")
    args = parser.parse_args()

    import torch
    from PIL import Image

    from tests.factories import write_image
    from tests.tiny_model import build_tiny_qwen2_5_vl
    from workbench.backends import GroundingRequest, LocalTransformersBackend

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    work = Path(tempfile.mkdtemp(prefix="bench-backend-"))
    model_dir = build_tiny_qwen2_5_vl(work / "tiny-qwen2.5-vl")
    images = (write_image(work, 640, 480, seed=1), write_image(work, 300, 500, fmt="JPEG", seed=2))
    prompt = 'Locate every cat in the image and output the bbox coordinates in JSON format.'
    request = GroundingRequest(images=images, prompt=prompt, max_new_tokens=args.max_new_tokens)

    backend = LocalTransformersBackend(str(model_dir), local_files_only=True)
    loaded = backend.load()
    processor, model = loaded.processor, loaded.model
    # Never stop early, so both sides generate exactly max_new_tokens tokens.
    fixed = {"max_new_tokens": args.max_new_tokens, "min_new_tokens": args.max_new_tokens, "do_sample": False}
    model.generation_config.min_new_tokens = args.max_new_tokens

    def peer() -> float:
        started = time.perf_counter()
        pictures = [Image.open(path).convert("RGB") for path in images]
        messages = [{"role": "user", "content": [{"type": "image"}, {"type": "image"}, {"type": "text", "text": prompt}]}]
        text = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True, add_vision_id=True)
        inputs = processor(text=[text], images=pictures, return_tensors="pt")
        with torch.inference_mode():
            ids = model.generate(**inputs, **fixed)
        processor.batch_decode(ids[:, inputs["input_ids"].shape[1]:])
        return time.perf_counter() - started

    for _ in range(3):  # warm-up both paths
        backend.generate(request)
        peer()

    backend_total, backend_generate, peer_total, prepare_s, stream_total, stream_generate = [], [], [], [], [], []
    for _ in range(args.requests):
        output = backend.generate(request)
        assert output.completion_tokens == args.max_new_tokens
        backend_total.append(output.total_s)
        backend_generate.append(output.generate_s)
        streamed = backend.generate(request, on_text=lambda piece: None)
        stream_total.append(streamed.total_s)
        stream_generate.append(streamed.generate_s)
        t0 = time.perf_counter()
        backend.prepare(request)
        prepare_s.append(time.perf_counter() - t0)
        peer_total.append(peer())

    med = statistics.median
    outside = [t - g for t, g in zip(backend_total, backend_generate)]
    result = {
        "requests": args.requests,
        "max_new_tokens": args.max_new_tokens,
        "images": ["640x480 PNG", "300x500 JPEG"],
        "median_s": {
            "backend_total": med(backend_total),
            "backend_generate": med(backend_generate),
            "backend_outside_generate": med(outside),
            "backend_prepare": med(prepare_s),
            "peer_total": med(peer_total),
            "streaming_total": med(stream_total),
            "streaming_generate": med(stream_generate),
        },
        "ratios": {
            "outside_generate_share": med(o / t for o, t in zip(outside, backend_total)),
            "backend_over_peer": med(backend_total) / med(peer_total),
            "streaming_outside_generate_share": med((t - g) / t for t, g in zip(stream_total, stream_generate)),
            "streaming_over_peer": med(stream_total) / med(peer_total),
        },
        "device": "cuda" if torch.cuda.is_available() else "cpu",
        "threads": torch.get_num_threads(),
    }
    path = write_record("backend_overhead", result, packages=("torch", "transformers", "tokenizers"))
    m, r = result["median_s"], result["ratios"]
    print(f"backend total   {m['backend_total'] * 1000:8.1f} ms  (generate {m['backend_generate'] * 1000:.1f} ms, "
          f"outside {m['backend_outside_generate'] * 1000:.1f} ms, of which template+processor {m['backend_prepare'] * 1000:.1f} ms)")
    print(f"streaming total {m['streaming_total'] * 1000:8.1f} ms  (generate with TextIteratorStreamer in a thread "
          f"{m['streaming_generate'] * 1000:.1f} ms)")
    print(f"peer total      {m['peer_total'] * 1000:8.1f} ms  (plain processor + generate + decode)")
    print(f"outside-generate share {r['outside_generate_share']:.1%}   backend/peer {r['backend_over_peer']:.3f}")
    print(f"streaming: outside-generate share {r['streaming_outside_generate_share']:.1%}   "
          f"streaming/peer {r['streaming_over_peer']:.3f}")
    print(f"record: {path}")


if __name__ == "__main__":
    main()

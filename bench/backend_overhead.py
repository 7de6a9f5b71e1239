"""Time spent outside ``generate`` per request, local backend on a tiny Qwen2.5-VL (goal: <= 10 %).

Builds the tiny test checkpoint offline, then measures ``LocalTransformersBackend.generate``
(images from files, chat template, processor, generate, geometry from the grid), split into
time inside ``model.generate`` and outside it, in three situations:

- ``repeat``: the same request again (the issue's measure; a re-run, e.g. with more new tokens);
- ``new_prompt``: the same images with a new prompt each time (decoded pixels are kept);
- ``new_images``: new image files each time (nothing kept: decode, resize, processor);

and ``streaming`` (``repeat`` with a text callback: threaded generate feeding a streamer).
Peer: the plain transformers recipe on the same files in the same process (open the images,
``apply_chat_template``, ``processor(...)``, ``model.generate``, decode), no streaming, no
geometry; its own outside-generate share is the peer column.

A breakdown of one cold request's outside time (decode + resize, chat template, normalizing and
patching the pixels + tokenizing, after generate) is printed and recorded. Writes ``bench/results/backend_overhead.json``.

    python -m bench.backend_overhead --requests 20 --max-new-tokens 64 --threads 1
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bench._record import Goal, Row, write_record

GOAL_SHARE = 10.0
PROMPT = "Locate every cat in the image and output the bbox coordinates in JSON format."


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
    n = args.requests

    def image_pair(seed: int) -> tuple[Path, Path]:
        folder = work / f"pair{seed}"
        folder.mkdir()
        return (write_image(folder, 640, 480, seed=seed), write_image(folder, 300, 500, fmt="JPEG", seed=seed + 1))

    images = image_pair(1)
    fresh = [image_pair(100 + 2 * i) for i in range(n + 3)]

    backend = LocalTransformersBackend(str(model_dir), local_files_only=True)
    loaded = backend.load()
    processor, model = loaded.processor, loaded.model
    # Never stop early, so both sides generate exactly max_new_tokens tokens.
    fixed = {"max_new_tokens": args.max_new_tokens, "min_new_tokens": args.max_new_tokens, "do_sample": False}
    model.generation_config.min_new_tokens = args.max_new_tokens

    def request(pair, prompt: str = PROMPT) -> GroundingRequest:
        return GroundingRequest(images=pair, prompt=prompt, max_new_tokens=args.max_new_tokens)

    def peer(pair, prompt: str = PROMPT) -> tuple[float, float]:
        started = time.perf_counter()
        pictures = [Image.open(path).convert("RGB") for path in pair]
        messages = [{"role": "user", "content": [{"type": "image"}, {"type": "image"}, {"type": "text", "text": prompt}]}]
        text = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True, add_vision_id=True)
        inputs = processor(text=[text], images=pictures, return_tensors="pt")
        t0 = time.perf_counter()
        with torch.inference_mode():
            ids = model.generate(**inputs, **fixed)
        generate_s = time.perf_counter() - t0
        processor.batch_decode(ids[:, inputs["input_ids"].shape[1]:])
        return time.perf_counter() - started, generate_s

    for i in range(3):  # warm-up both paths
        backend.generate(request(images))
        backend.generate(request(fresh[n + i]))
        peer(images)

    share = {name: [] for name in ("repeat", "new_prompt", "new_images", "streaming", "peer")}
    outside = {name: [] for name in share}
    totals = {name: [] for name in share}
    breakdown = {name: [] for name in ("decode_resize", "chat_template", "patch_tokenize", "after_generate")}

    def note(name: str, total: float, generate: float) -> None:
        share[name].append(100 * (total - generate) / total)
        outside[name].append(total - generate)
        totals[name].append(total)

    for i in range(n):
        output = backend.generate(request(images))
        assert output.completion_tokens == args.max_new_tokens
        note("repeat", output.total_s, output.generate_s)
        output = backend.generate(request(images, f"{PROMPT} ({i})"))
        note("new_prompt", output.total_s, output.generate_s)
        output = backend.generate(request(fresh[i]))
        note("new_images", output.total_s, output.generate_s)
        streamed = backend.generate(request(images), on_text=lambda piece: None)
        note("streaming", streamed.total_s, streamed.generate_s)
        note("peer", *peer(images))

    for i in range(n):  # one cold request's outside time, piece by piece
        backend._inputs.clear()
        cold = request(fresh[i])
        limits = backend.effective_limits(loaded, cold)
        t0 = time.perf_counter()
        sized = [backend._model_image(loaded, image, limits) for image in cold.images]
        t1 = time.perf_counter()
        text = backend._prompt_text(loaded, cold)
        t2 = time.perf_counter()
        backend._encode(loaded, [text], sized)
        t3 = time.perf_counter()
        backend.prepare(cold)  # keep its inputs: the outside time left in generate is the kept lookup + after
        t4 = time.perf_counter()
        backend.prepare(cold)
        lookup = time.perf_counter() - t4
        output = backend.generate(cold)
        breakdown["decode_resize"].append(t1 - t0)
        breakdown["chat_template"].append(t2 - t1)
        breakdown["patch_tokenize"].append(t3 - t2)
        breakdown["after_generate"].append(max(0.0, output.total_s - output.generate_s - lookup))

    med = statistics.median
    result = {
        "requests": n, "max_new_tokens": args.max_new_tokens, "images": ["640x480 PNG", "300x500 JPEG"],
        "outside_share_percent": {k: med(v) for k, v in share.items()},
        "median_outside_ms": {k: 1000 * med(v) for k, v in outside.items()},
        "median_total_ms": {k: 1000 * med(v) for k, v in totals.items()},
        "cold_breakdown_ms": {k: 1000 * med(v) for k, v in breakdown.items()},
        "cache": backend._inputs.stats(),
        "device": "cuda" if torch.cuda.is_available() else "cpu", "threads": torch.get_num_threads(),
    }
    peer_share = med(share["peer"])
    label = {"repeat": "same request again", "new_prompt": "same images, new prompt",
             "new_images": "new image files (cold)", "streaming": "same request, streamed"}
    rows = [Row(f"local backend outside generate, {args.max_new_tokens} tokens: {label[name]}", ours=med(share[name]),
                units="%", peer=peer_share, goal=Goal.ours_at_most(GOAL_SHARE),
                notes=f"{1000 * med(outside[name]):.1f} ms outside of {1000 * med(totals[name]):.0f} ms; "
                      f"peer (plain processor recipe) {1000 * med(outside['peer']):.1f} ms outside")
            for name in label]
    path = write_record("backend_overhead", result, packages=("torch", "transformers", "tokenizers"), rows=rows)
    for name, values in breakdown.items():
        print(f"cold request, {name:15s} {1000 * med(values):6.1f} ms")
    print(f"record: {path}")


if __name__ == "__main__":
    main()

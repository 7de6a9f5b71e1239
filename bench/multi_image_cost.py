"""What each multi-image / high-resolution tool costs, against one plain request in the same run.

On a tiny Qwen2.5-VL built offline (random weights: the cost of the pipeline and of the visual
tokens, not answer quality), for three images (640x480, 300x500, 1024x256):

- ``multi``: one request with the three images (the peer every ratio is taken against);
- ``canvas``: the images merged side by side, one request;
- ``steps``: one image per turn, history kept (3 requests; turn k re-reads images 1..k);
- ``probe``: every order of the three images (6 requests);

and for one 6000x1500 image: ``tiles`` (tile budget 1280·28²) against ``single`` (the whole image under
the same budget). Every call generates exactly ``--max-new-tokens`` tokens. Also the pure part: splitting
1000 canvas boxes back to their sources, against parsing the same answer (``split / parse``).

Prints model calls, prompt tokens (the processor's count) and wall time per tool with ratios, and
writes ``bench/results/multi_image_cost.json``.

    python -m bench.multi_image_cost --max-new-tokens 16 --repeats 3 --threads 1
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from bench._record import Row, write_record


class Counting:
    """Wraps a backend: counts calls and prompt tokens of every ``generate``."""

    def __init__(self, backend):
        self.backend, self.calls, self.tokens = backend, 0, 0

    @property
    def model(self):
        return self.backend.model

    def family(self):
        return self.backend.family()

    def generate(self, request, on_text=None):
        output = self.backend.generate(request, on_text)
        self.calls += 1
        self.tokens += output.prompt_tokens or 0
        return output


def measure(backend, run, repeats: int) -> dict[str, float]:
    times, counted = [], None
    for _ in range(repeats):
        counted = Counting(backend)
        started = time.perf_counter()
        run(counted)
        times.append(time.perf_counter() - started)
    return {"calls": counted.calls, "prompt_tokens": counted.tokens, "median_s": statistics.median(times)}


def split_vs_parse(repeats: int) -> dict[str, float]:
    from grounding import process_size, to_model
    from grounding.canvas import plan_canvas, split_detections
    from grounding.parse import parse_grounding

    layout = plan_canvas([(640, 480), (300, 500), (1024, 256), (800, 800)], "grid", gap=8)
    geometry = process_size(layout.canvas_wh, "qwen2.5-vl")
    rng = random.Random(0)
    w, h = layout.canvas_wh
    items = []
    for _ in range(1000):
        x1, y1 = rng.uniform(0, w - 20), rng.uniform(0, h - 20)
        box = to_model((x1, y1, x1 + rng.uniform(5, 200), y1 + rng.uniform(5, 200)), geometry)
        items.append({"bbox_2d": [round(v) for v in box], "label": rng.choice(["cat", "dog", "cup"])})
    text = json.dumps(items)
    parsed = parse_grounding(text, "qwen2.5-vl", geometry)

    def best(fn) -> float:
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return min(times)

    parse_s = best(lambda: parse_grounding(text, "qwen2.5-vl", geometry))
    split_s = best(lambda: split_detections(parsed.detections, layout))
    return {"boxes": len(parsed.detections), "parse_s": parse_s, "split_s": split_s, "split_over_parse": split_s / parse_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-new-tokens", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import torch

    from grounding import PixelLimits, process_size
    from tests.factories import write_image
    from tests.tiny_model import build_tiny_qwen2_5_vl
    from workbench.backends import LocalTransformersBackend
    from workbench.multi.canvas import ground_canvas
    from workbench.multi.common import make_request
    from workbench.multi.order_probe import probe_order
    from workbench.multi.steps import ground_step_by_step
    from workbench.multi.tiles import ground_tiled
    from workbench.runs.pipeline import parse_output

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    work = Path(tempfile.mkdtemp(prefix="bench-multi-"))
    backend = LocalTransformersBackend(str(build_tiny_qwen2_5_vl(work / "tiny")), local_files_only=True)
    loaded = backend.load()
    loaded.model.generation_config.min_new_tokens = args.max_new_tokens  # every call generates the same count
    images = [write_image(work, 640, 480, seed=1), write_image(work, 300, 500, seed=2), write_image(work, 1024, 256, seed=3)]
    big = write_image(work, 6000, 1500, seed=4)
    n = args.max_new_tokens
    family = backend.family()

    def multi(engine):
        request = make_request(family, images, ["img1", "img2", "img3"], target="cat", prompt=None, task="boxes",
                               naming=None, max_new_tokens=n, limits=None)
        parse_output(request, engine.generate(request))

    budget = PixelLimits(family.default_min_pixels, family.cookbook_max_pixels)

    def single(engine):  # the whole image in one call, under the tiles' budget
        request = make_request(family, [big], ["img1"], target="cat", prompt=None, task="boxes", naming=None,
                               max_new_tokens=n, limits=budget)
        parse_output(request, engine.generate(request))

    tools = {
        "multi": multi,
        "canvas": lambda engine: ground_canvas(engine, images, target="cat", layout="h", max_new_tokens=n),
        "steps": lambda engine: ground_step_by_step(engine, images, target="cat", max_new_tokens=n),
        "probe": lambda engine: probe_order(engine, images, target="cat", max_new_tokens=n),
        "single": single,
        "tiles": lambda engine: ground_tiled(engine, big, target="cat", max_new_tokens=n, compare=False),
    }
    multi(backend)  # warm-up
    results = {name: measure(backend, run, args.repeats) for name, run in tools.items()}
    single_budget = list(process_size((6000, 1500), family, budget).resized_wh)
    base, single = results["multi"], results["single"]
    ratios = {name: {"calls": r["calls"] / base["calls"], "prompt_tokens": r["prompt_tokens"] / base["prompt_tokens"],
                     "time": r["median_s"] / base["median_s"]} for name, r in results.items() if name not in ("single", "tiles")}
    ratios["tiles_over_single"] = {"calls": results["tiles"]["calls"] / single["calls"],
                                   "prompt_tokens": results["tiles"]["prompt_tokens"] / single["prompt_tokens"],
                                   "time": results["tiles"]["median_s"] / single["median_s"]}
    record = {
        "max_new_tokens": n, "repeats": args.repeats, "threads": torch.get_num_threads(),
        "device": "cuda" if torch.cuda.is_available() else "cpu",
        "images": ["640x480", "300x500", "1024x256"], "big_image": "6000x1500",
        "single_pass_resized_at_tile_budget": single_budget,
        "tools": results, "ratios": ratios, "pure": split_vs_parse(max(5, args.repeats)),
    }
    labels = {"canvas": "images merged side by side, one request", "steps": "one image per turn, history kept",
              "probe": "every order of the three images"}
    rows = [Row(f"multi-image: {label} (tiny model)", ours=1000 * results[name]["median_s"], units="ms",
                peer=1000 * base["median_s"],
                notes=f"peer: one request with the three images; calls x{ratios[name]['calls']:.0f}, "
                      f"prompt tokens x{ratios[name]['prompt_tokens']:.2f}; {n} new tokens per call")
            for name, label in labels.items()]
    rows.append(Row("multi-image: 6000x1500 in tiles (tiny model)", ours=1000 * results["tiles"]["median_s"], units="ms",
                    peer=1000 * single["median_s"],
                    notes=f"peer: the whole image in one request under the tiles' budget; calls "
                          f"x{ratios['tiles_over_single']['calls']:.0f}, prompt tokens "
                          f"x{ratios['tiles_over_single']['prompt_tokens']:.2f}"))
    pure = record["pure"]
    rows.append(Row(f"multi-image: split {pure['boxes']} canvas boxes back to their images", units="ms",
                    ours=1000 * pure["split_s"], peer=1000 * pure["parse_s"], notes="peer: parsing the same answer"))
    path = write_record("multi_image_cost", record, packages=("torch", "transformers", "supervision", "scipy"),
                        rows=rows)
    for name, r in results.items():
        print(f"{name:7s} calls {r['calls']:3d}  prompt tokens {r['prompt_tokens']:6d}  median {r['median_s'] * 1000:8.1f} ms")
    for name, r in ratios.items():
        print(f"{name:18s} calls x{r['calls']:.2f}  tokens x{r['prompt_tokens']:.2f}  time x{r['time']:.2f}")
    print(f"split {pure['boxes']} canvas boxes {pure['split_s'] * 1000:.1f} ms vs parse {pure['parse_s'] * 1000:.1f} ms "
          f"(split/parse {pure['split_over_parse']:.2f})")
    print(f"record: {path}")


if __name__ == "__main__":
    main()

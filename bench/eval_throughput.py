"""Evaluation speed: answers per second against a fake server vs a raw HTTP client, and the metrics vs COCOeval.

1. **Throughput.** A fake OpenAI-compatible server (``tests/fake_server.py``, in its own process) answers
   every request with known boxes after a simulated model latency (``--delay``, one answer at a time, as one
   model on one device). For each concurrency (1, 2, 4, 8) the same items go through:

   - ``ours``: :func:`workbench.evaluate.run_evaluation` — one cell, a :class:`~workbench.batch.ReplicaPool` of
     the server, the eval sink into a durable SQLite store (one transaction per answer), and the cell's metrics
     measured at the end: what ``workbench eval`` does (without the geometry probes);
   - ``peer``: a raw HTTP client firing the very same request bodies, prepared beforehand (the server's capacity).

   Rounds alternate which side goes first; the ratio is the median of the rounds' ratios. Goal: ≥ 0.9.

2. **Metrics.** 10,000 items with 10 truth and 10 answer boxes each (seeded, three labels, answers jittered
   around the truth, some far off): :func:`grounding.evaluation.score_cases` + :func:`compute_metrics`
   (every metric, overall and per label) vs pycocotools' ``COCO`` + ``COCOeval`` (evaluate, accumulate,
   summarize) on the same boxes and scores, both from in-memory data. Goal: ours ≤ 1.0 x COCOeval's time,
   and the same ``map50_95`` (within 0.001).

The latency is simulated: these figures say whether the workbench keeps a server busy and how its metrics
compare with COCOeval, not how fast a real model answers. Writes ``bench/results/eval_throughput.json``.

    python -m bench.eval_throughput --items 48 --rounds 3 --delay 0.05
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import multiprocessing
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench._record import Goal, Row, write_record

GOAL = 0.9


def _serve(truth: dict, delay: float, pipe) -> None:  # in the server's own process
    import functools

    from tests.fake_server import FakeServer, boxes_answer

    server = FakeServer(functools.partial(boxes_answer, truth, "qwen2.5-vl"), delay_s=delay, serial=True)
    pipe.send(server.url)
    server.serve_forever()


def _dataset(folder: Path, items: int):
    from tests.factories import write_image
    from workbench.store import AnnotationDraft, DatasetStore

    store = DatasetStore(folder / "workbench.sqlite3")
    dataset = store.create_dataset("bench")
    truth = {}
    for n in range(items):
        item = store.add_item(dataset, [write_image(folder, 320 + 8 * (n % 5), 240, seed=n, name=f"i{n}.png")])
        boxes = [AnnotationDraft.box((20 + n % 7, 30, 150, 160), "cat"), AnnotationDraft.box((170, 40, 300, 200), "dog")]
        store.set_annotations(item.id, 1, boxes)
        store.set_status(item.id, "accepted")
        truth[item.images[0].sha256] = [(b.label, b.coords) for b in boxes]
    return store, truth


def throughput(args: argparse.Namespace) -> list[dict]:
    from bench.annotate_throughput import peer_run
    from workbench.batch import JobSettings, ReplicaPool
    from workbench.evaluate import EvalGrid, EvalSetup, plan_evaluation, run_evaluation
    from workbench.evaluate.runner import eval_units

    work = Path(tempfile.mkdtemp(prefix="bench-eval-"))
    store, truth = _dataset(work, args.items)
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(truth, args.delay, child), daemon=True)
    server.start()
    url = parent.recv()
    grid = EvalGrid(models=("Qwen/Qwen2.5-VL-7B-Instruct",), split="")

    def pool(setup):
        return ReplicaPool.from_urls([url], model=setup.model, family="qwen2.5-vl", limits_style="vllm", timeout=60)

    def ours(concurrency: int) -> float:
        started = time.perf_counter()
        evaluation = run_evaluation(store, plan_evaluation(store, "bench", grid, fresh=True).id, pool,
                                    concurrency=concurrency, geometry_check=False)
        elapsed = time.perf_counter() - started
        cell = evaluation.cells[0]
        if cell.state != "done" or cell.metrics["answered"] != args.items or cell.metrics["acc50"] != 1.0:
            raise RuntimeError(f"the evaluation did not measure every item right: {cell.state} {cell.error}")
        return args.items / elapsed

    evaluation = plan_evaluation(store, "bench", grid, fresh=True)
    replica = pool(EvalSetup(grid.models[0])).replicas[0].backend
    settings = JobSettings.for_backend(replica)
    bodies = [json.dumps(replica.body(unit.request(settings))).encode()
              for unit in eval_units(store, evaluation, replica.family(), None)]
    peer_run(url, bodies[:4], 2)  # warm-up
    ours(2)
    levels = []
    try:
        for concurrency in (int(c) for c in args.levels.split(",")):
            mine, theirs = [], []
            for round_number in range(args.rounds):
                for side in (["peer", "ours"] if round_number % 2 == 0 else ["ours", "peer"]):
                    if side == "peer":
                        theirs.append(peer_run(url, bodies, concurrency)[0])
                    else:
                        mine.append(ours(concurrency))
            row: dict = {"concurrency": concurrency, "ours": round(statistics.median(mine), 2),
                   "peer": round(statistics.median(theirs), 2), "ours_rounds": [round(v, 2) for v in mine],
                   "peer_rounds": [round(v, 2) for v in theirs],
                   "ratio": round(statistics.median(o / p for o, p in zip(mine, theirs)), 3)}
            row["pass"] = row["ratio"] >= GOAL
            levels.append(row)
            print(f"concurrency {concurrency}: ours {row['ours']:.2f} items/s, raw client {row['peer']:.2f} items/s, "
                  f"ratio {row['ratio']:.3f} ({'pass' if row['pass'] else 'FAIL'})")
    finally:
        server.terminate()
        store.close()
    return levels


def _synthetic(items: int, boxes: int, seed: int = 0):
    import numpy as np

    from grounding.evaluation import EvalCase, PictureBoxes

    rng = np.random.default_rng(seed)
    labels = ["cat", "dog", "car"]
    cases = []
    for n in range(items):
        xy = rng.uniform(0, 500, (boxes, 2))
        wh = rng.uniform(10, 120, (boxes, 2))
        truth = np.hstack([xy, xy + wh])
        answer = truth + rng.normal(0, 6, truth.shape)
        far = rng.random(boxes) < 0.15
        answer[far] = np.hstack([xy[far][:, ::-1], xy[far][:, ::-1] + wh[far]])
        truth_labels = tuple(labels[i] for i in rng.integers(0, 3, boxes))
        answer_labels = tuple(label if rng.random() > 0.05 else "cat" for label in truth_labels)
        scores = tuple(float(s) for s in rng.random(boxes))
        cases.append(EvalCase(str(n), (PictureBoxes(tuple(map(tuple, truth)), truth_labels),),
                              (PictureBoxes(tuple(map(tuple, answer)), answer_labels, scores),)))
    return cases


def metrics_speed(args: argparse.Namespace) -> dict:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    from grounding.evaluation import compute_metrics, label_key, ranking_scores, score_cases

    cases = _synthetic(args.metric_items, args.boxes)
    categories: dict[str, int] = {}
    images: list[dict] = []
    truth: list[dict] = []
    results: list[dict] = []
    for image_id, (case, scores) in enumerate(zip(cases, ranking_scores(cases)), start=1):
        images.append({"id": image_id, "width": 1000, "height": 1000})
        for (x1, y1, x2, y2), label in zip(case.truth[0].xyxy, case.truth[0].labels):
            truth.append({"id": len(truth) + 1, "image_id": image_id, "iscrowd": 0, "area": (x2 - x1) * (y2 - y1),
                          "category_id": categories.setdefault(label_key(label), len(categories) + 1),
                          "bbox": [x1, y1, x2 - x1, y2 - y1]})
        for (x1, y1, x2, y2), label, score in zip(case.answer[0].xyxy, case.answer[0].labels, scores[0]):
            results.append({"image_id": image_id, "category_id": categories[label_key(label)],
                            "bbox": [x1, y1, x2 - x1, y2 - y1], "score": float(score)})
    best_ours, best_coco, ours_value, coco_value = float("inf"), float("inf"), 0.0, 0.0
    for _ in range(args.metric_repeats):
        started = time.perf_counter()
        metrics = compute_metrics(score_cases(cases))
        best_ours = min(best_ours, time.perf_counter() - started)
        ours_value = metrics["map50_95"]
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            gt = COCO()
            gt.dataset = {"images": images, "annotations": truth,
                          "categories": [{"id": i, "name": k} for k, i in categories.items()]}
            gt.createIndex()
            evaluator = COCOeval(gt, gt.loadRes(results), "bbox")
            evaluator.evaluate()
            evaluator.accumulate()
            evaluator.summarize()
        best_coco = min(best_coco, time.perf_counter() - started)
        coco_value = float(evaluator.stats[0])
    print(f"metrics for {args.metric_items} items x {args.boxes} boxes: ours {best_ours:.2f} s (every metric, per "
          f"label too), COCOeval {best_coco:.2f} s; map50_95 {ours_value:.6f} vs {coco_value:.6f}")
    return {"items": args.metric_items, "boxes_per_item": args.boxes, "ours_s": round(best_ours, 3),
            "coco_s": round(best_coco, 3), "ratio": round(best_ours / best_coco, 3),
            "map50_95": {"ours": ours_value, "cocoeval": coco_value},
            "same_map": abs(ours_value - coco_value) < 1e-3}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=48, help="items of the throughput dataset")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--delay", type=float, default=0.05, help="simulated seconds per answer (serial)")
    parser.add_argument("--levels", default="1,2,4,8")
    parser.add_argument("--metric-items", type=int, default=10_000)
    parser.add_argument("--boxes", type=int, default=10)
    parser.add_argument("--metric-repeats", type=int, default=1)
    args = parser.parse_args()
    load_before = list(os.getloadavg())
    levels = throughput(args)
    speed = metrics_speed(args)
    rows = [Row(f"eval client at concurrency {row['concurrency']} (fake server, {args.delay * 1000:.0f} ms per answer, "
                "simulated)", ours=row["ours"], peer=row["peer"], units="items/s", goal=Goal.ratio_at_least(GOAL),
                notes=f"peer: raw HTTP client with prepared bodies; median of {args.rounds} rounds; median of the "
                      f"rounds' ratios {row['ratio']:.3f}; ours stores every answer durably and measures the cell")
            for row in levels]
    rows.append(Row(f"metrics for {speed['items']} items x {speed['boxes_per_item']} boxes", ours=speed["ours_s"],
                    peer=speed["coco_s"], units="s", goal=Goal.ratio_at_most(1.0),
                    notes=f"peer: pycocotools COCOeval (evaluate, accumulate, summarize); ours: every metric, per "
                          f"label too; map50_95 {speed['map50_95']['ours']:.6f} vs {speed['map50_95']['cocoeval']:.6f}"))
    path = write_record("eval_throughput", {
        "items": args.items, "rounds": args.rounds, "delay_s": args.delay, "levels": levels, "metrics": speed,
        "server": "tests/fake_server.py in its own process, one answer at a time after the simulated delay",
        "load_average_before_after": [load_before, list(os.getloadavg())],
        "pass": all(row["pass"] for row in levels) and speed["ratio"] <= 1.0 and speed["same_map"],
    }, packages=("pycocotools", "numpy", "openai", "httpx"), rows=rows)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

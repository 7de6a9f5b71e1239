"""Review order by confidence, in a simulation: how many of the wrong boxes come in the first 30 % of the queue.

**This is a simulation, not a measurement on a real model.** A fake OpenAI-compatible server
(:class:`workbench.backends.fake_server.FakeChatServer`, vLLM's response shape) answers for each item; the
answers go through the app's own path (``OpenAICompatibleBackend`` with ``logprobs=5`` -> ``run_on_item`` ->
the store), a simulated reviewer corrects and accepts items, the dataset is calibrated on those reviews,
and the remaining queue is ordered by the weakest box.

The model of the fake answers (seeded; the figures depend on it, so it is stated here):

- each item has 1 to 4 objects (labels cup, plate, fork) on a 1288 x 952 picture the model sees at
  644 x 476 (Qwen2.5-VL, absolute coordinates of the resized image), written one JSON list on one line;
- each object's box is wrong with probability 0.08 (moved by 20-50 % of its size), and with
  probability 0.08 an item gets one extra box where there is nothing; the others are right (the
  true box, rounded to the model's pixels);
- every character is one token (as Qwen's tokenizers write digits); a digit the model is sure of has
  log-probability -|N(0, 0.03)|, the rest of its probability on the neighbouring digits;
- 75 % of wrong boxes are *hesitant*: one or two of their hundreds/tens digits have probability
  U(0.08, 0.67), the true digit taking most of the rest; the other 25 % are *confidently wrong* (as sure
  as right boxes: the errors digits cannot reveal, e.g. a confident mistake);
- 15 % of right boxes hesitate too, on a units or tens digit (probability U(0.3, 0.74)).

The reviewer removes extra boxes, moves wrong ones to the truth, keeps right ones, and accepts. Protocol:
every item is pre-annotated; the raw-signal order is measured on all of them; then the reviewer takes the
first ``--calibrate-on`` items in file order, the dataset is refitted (calibrated), and the remaining items
are ordered by confidence (weakest box first), in file order, and at random (mean of 50 seeded shuffles).
For each order: the share of the remaining wrong boxes found in the first 30 % of the queue. Also the
calibration's held-out AUROC/ECE (its own folds) and AUROC/ECE of the calibrated scores on the remaining
boxes (never fitted on), cross-checked with scikit-learn where it is installed.

    python -m bench.review_order [--items 200] [--calibrate-on 40] [--seeds 7 11 13 17 19]
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # also runnable as a plain script

from PIL import Image

from bench._record import Goal, Row, write_record
from grounding.confidence import TokenLogprob
from workbench.backends import OpenAICompatibleBackend
from workbench.backends.media import data_url
from workbench.confidence import auroc, expected_calibration_error, refit
from workbench.runs.items import run_on_item
from workbench.store import AnnotationDraft, DatasetStore, ItemFilter

LABELS = ("cup", "plate", "fork")
ORIGINAL, SEEN = (1288, 952), (644, 476)
SCALE = ORIGINAL[0] / SEEN[0]
P_WRONG, P_EXTRA, P_HESITANT_WRONG, P_HESITANT_RIGHT = 0.08, 0.08, 0.75, 0.15
SHARE = 0.3


@dataclass
class Box:
    label: str
    truth: tuple[int, int, int, int] | None
    """The true box in model pixels (None for an extra box where there is nothing)."""
    written: tuple[int, int, int, int]
    hesitant: list[tuple[int, int, float]] = field(default_factory=list)
    """(coordinate index, place from the right: 0 units, 1 tens, 2 hundreds; probability) of the digits the
    model hesitates on."""

    @property
    def wrong(self) -> bool:
        return self.truth is None or self.written != self.truth


def simulated_answer(rng: random.Random) -> list[Box]:
    boxes = []
    for _ in range(rng.randint(1, 4)):
        w, h = rng.randint(60, 260), rng.randint(50, 200)
        x1, y1 = rng.randint(0, SEEN[0] - w), rng.randint(0, SEEN[1] - h)
        truth = (x1, y1, x1 + w, y1 + h)
        written = truth
        if rng.random() < P_WRONG:
            dx = int(w * rng.uniform(0.2, 0.5)) * rng.choice((-1, 1))
            dy = int(h * rng.uniform(0.2, 0.5)) * rng.choice((-1, 1))
            moved_x = min(max(x1 + dx, 0), SEEN[0] - w)
            moved_y = min(max(y1 + dy, 0), SEEN[1] - h)
            written = (moved_x, moved_y, moved_x + w, moved_y + h)
        boxes.append(Box(rng.choice(LABELS), truth, written))
    if rng.random() < P_EXTRA:
        w, h = rng.randint(40, 150), rng.randint(40, 150)
        x1, y1 = rng.randint(0, SEEN[0] - w), rng.randint(0, SEEN[1] - h)
        boxes.append(Box(rng.choice(LABELS), None, (x1, y1, x1 + w, y1 + h)))
    for box in boxes:
        if box.wrong and rng.random() < P_HESITANT_WRONG:
            box.hesitant = [(rng.randrange(4), rng.choice((1, 2)), rng.uniform(0.08, 0.67))
                            for _ in range(rng.randint(1, 2))]
        elif not box.wrong and rng.random() < P_HESITANT_RIGHT:
            box.hesitant = [(rng.randrange(4), rng.choice((0, 1)), rng.uniform(0.3, 0.74))]
    return boxes


def _digit_token(rng: random.Random, digit: str, p: float, hint: str | None) -> TokenLogprob:
    """A digit written with probability ``p``; the rest on ``hint`` (the true digit) or the neighbours."""
    others = [d for d in "0123456789" if d != digit]
    rest = 1.0 - p
    weights: dict[str, float] = {}
    if hint is not None and hint != digit:
        weights[hint] = rest * 0.8
        rest *= 0.2
    near = [d for d in others if abs(int(d) - int(digit)) == 1 and d not in weights]
    for d in near:
        weights[d] = weights.get(d, 0.0) + rest * 0.9 / len(near)
    spread = [d for d in others if d not in weights]
    for d in spread[:2]:
        weights[d] = rest * 0.05
    top = sorted([(digit, p), *weights.items()], key=lambda pair: -pair[1])[:5]
    return TokenLogprob(digit, math.log(p), tuple((d, math.log(max(q, 1e-12))) for d, q in top))


def answer_tokens(boxes: list[Box], rng: random.Random) -> list[TokenLogprob]:
    """The answer one character per token, digits with the probabilities of the model above."""
    tokens: list[TokenLogprob] = []

    def plain(text: str) -> None:
        tokens.extend(TokenLogprob(c, -0.001, ((c, -0.001),)) for c in text)

    plain("[")
    for n, box in enumerate(boxes):
        plain(("" if n == 0 else ", ") + '{"bbox_2d": [')
        for k, value in enumerate(box.written):
            text = str(value)
            truth_text = str(box.truth[k]).rjust(len(text), "0") if box.truth is not None else None
            for place, digit in enumerate(text):
                from_right = min(len(text) - 1 - place, 2)
                unsure = [p for index, at, p in box.hesitant if index == k and at == from_right]
                p = unsure[0] if unsure else math.exp(-abs(rng.gauss(0, 0.03)))
                hint = truth_text[place] if truth_text and len(truth_text) == len(text) else None
                tokens.append(_digit_token(rng, digit, min(p, 0.999999), hint))
            if k < 3:
                plain(", ")
        plain(f'], "label": "{box.label}"}}')
    plain("]")
    return tokens


def reviewed_annotations(item, boxes: list[Box]) -> list[AnnotationDraft]:
    """What the reviewer leaves: the right model boxes as they are, the true box for each wrong one."""
    stored = list(item.annotations)
    out = []
    for box, annotation in zip(boxes, stored):
        if box.truth is None:
            continue
        if not box.wrong:
            out.append(annotation.draft())
        else:
            out.append(AnnotationDraft.box(tuple(v * SCALE for v in box.truth), box.label))
    return out


def share_in_first(order: list[int], wrong: dict[int, int], share: float = SHARE) -> float:
    head = order[:max(1, round(len(order) * share))]
    total = sum(wrong[i] for i in order)
    return sum(wrong[i] for i in head) / total if total else float("nan")


def run(items: int, calibrate_on: int, seed: int) -> dict:
    rng = random.Random(seed)
    folder = Path(tempfile.mkdtemp(prefix="review-order-"))
    store = DatasetStore(folder / "db.sqlite3", durable=False)
    dataset = store.create_dataset("simulated")
    store.update_dataset_settings(dataset.id, {"family": "qwen2.5-vl", "max_pixels": SEEN[0] * SEEN[1]})
    truth_by_url: dict[str, list[Box]] = {}
    truth: dict[int, list[Box]] = {}
    ids = []
    for n in range(items):
        path = folder / f"scene{n:03d}.png"
        Image.new("RGB", ORIGINAL, (n % 256, (n * 7) % 256, (n * 13) % 256)).save(path)
        item = store.add_item(dataset.id, [path])
        boxes = simulated_answer(rng)
        truth[item.id] = boxes
        truth_by_url[data_url(store.item(item.id).images[0].file)] = boxes
        ids.append(item.id)
    answers = {url: answer_tokens(boxes, random.Random(f"{seed}-{k}")) for k, (url, boxes) in enumerate(truth_by_url.items())}

    def answer(body: dict) -> list[TokenLogprob]:
        url = next(part["image_url"]["url"] for m in body["messages"] if isinstance(m["content"], list)
                   for part in m["content"] if part.get("type") == "image_url")
        return answers[url]

    from workbench.backends.fake_server import FakeChatServer
    from workbench.run_settings import Reading

    settings = Reading.from_dataset(store.dataset_settings(dataset.id))
    started = time.perf_counter()
    with FakeChatServer(answer) as server:
        backend = OpenAICompatibleBackend("Qwen/Qwen2.5-VL-7B-Instruct", base_url=server.url, api_key="none",
                                          limits_style="none", limits=settings.limits)
        for item_id in ids:
            outcome = run_on_item(store, backend, item_id, "Locate every cup, plate, fork.", limits=settings.limits)
            assert outcome.detections == len(truth[item_id]), (outcome.warnings, outcome.text)
    annotate_s = time.perf_counter() - started
    wrong = {i: sum(b.wrong for b in truth[i]) for i in ids}
    raw_report = refit(store, dataset.id)
    raw_order = list(store.item_ids(dataset.id, ItemFilter(order="confidence")))
    randoms = [rng.sample(ids, len(ids)) for _ in range(50)]
    before = {"confidence_raw": share_in_first(raw_order, wrong), "file": share_in_first(ids, wrong),
              "random": sum(share_in_first(o, wrong) for o in randoms) / len(randoms), "calibrated": raw_report.calibrated}

    for item_id in ids[:calibrate_on]:  # the reviewer's first items, in file order
        item = store.item(item_id)
        store.set_annotations(item_id, 1, reviewed_annotations(item, truth[item_id]))
        store.set_status(item_id, "accepted")
    report = refit(store, dataset.id)
    rest = ids[calibrate_on:]
    ordered = list(store.item_ids(dataset.id, ItemFilter(status="pre-annotated", order="confidence")))
    assert sorted(ordered) == sorted(rest)
    rest_randoms = [rng.sample(rest, len(rest)) for _ in range(50)]
    after = {"confidence": share_in_first(ordered, wrong), "file": share_in_first(rest, wrong),
             "random": sum(share_in_first(o, wrong) for o in rest_randoms) / len(rest_randoms)}
    labels, scores = [], []
    for item_id in rest:
        for box, annotation in zip(truth[item_id], store.item(item_id).annotations):
            labels.append(not box.wrong)
            scores.append(float(annotation.score))
    held_out = {"auroc": auroc(labels, scores), "ece": expected_calibration_error(labels, scores),
                "boxes": len(labels), "wrong": labels.count(False)}
    try:
        from sklearn.metrics import roc_auc_score

        held_out["auroc_sklearn"] = float(roc_auc_score(labels, scores))
    except ImportError:
        held_out["auroc_sklearn"] = None
    calibration = report.calibration.as_dict() if report.calibration else None
    store.close()
    return {"items": items, "calibrate_on": calibrate_on, "seed": seed, "annotate_s": round(annotate_s, 2),
            "wrong_boxes": sum(wrong.values()), "items_with_wrong": sum(1 for v in wrong.values() if v),
            "before_review": before, "after_calibration": after, "held_out_boxes": held_out,
            "calibration": {k: calibration[k] for k in ("items", "boxes", "survived", "auroc", "ece", "raw_auroc")}
            if calibration else None, "report": report.message}


def _mean(runs: list[dict], *path: str) -> float:
    values = []
    for result in runs:
        value = result
        for key in path:
            value = value[key]
        values.append(float(value))
    return sum(values) / len(values)


def _span(runs: list[dict], *path: str) -> str:
    values = []
    for result in runs:
        value = result
        for key in path:
            value = value[key]
        values.append(float(value))
    return f"{min(values):.2f}-{max(values):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--calibrate-on", type=int, default=40)
    parser.add_argument("--seeds", type=int, nargs="+", default=[7, 11, 13, 17, 19])
    args = parser.parse_args()
    runs = [run(args.items, args.calibrate_on, seed) for seed in args.seeds]
    for result in runs:
        print(f"seed {result['seed']}: first 30 % by confidence {result['after_calibration']['confidence']:.3f}, "
              f"file {result['after_calibration']['file']:.3f}, random {result['after_calibration']['random']:.3f}; "
              f"held-out AUROC {result['held_out_boxes']['auroc']:.3f}, ECE {result['held_out_boxes']['ece']:.3f}")
    wrong = sum(r["wrong_boxes"] for r in runs)
    note = (f"SIMULATION (fake server, the answer model stated in the script; not a real checkpoint): mean of "
            f"{len(runs)} seeds x {args.items} items ({wrong} wrong boxes in all), calibrated on the first "
            f"{args.calibrate_on} reviewed items; per seed {_span(runs, 'after_calibration', 'confidence')}")
    held_auroc = _mean(runs, "held_out_boxes", "auroc")
    sklearn_auroc = [r["held_out_boxes"]["auroc_sklearn"] for r in runs]
    cross = ("scikit-learn's roc_auc_score agrees" if all(a is not None and abs(a - r["held_out_boxes"]["auroc"]) < 1e-9
                                                         for a, r in zip(sklearn_auroc, runs))
             else "scikit-learn not installed or different")
    rows = [
        Row("review order: wrong boxes in the first 30 % (calibrated confidence vs random)",
            _mean(runs, "after_calibration", "confidence"), "share", peer=_mean(runs, "after_calibration", "random"),
            goal=Goal.ours_at_least(0.8), notes=note),
        Row("review order: calibrated confidence vs random, ratio", _mean(runs, "after_calibration", "confidence"),
            "share", peer=_mean(runs, "after_calibration", "random"), goal=Goal.ratio_at_least(2.0),
            notes="goal: at least twice random (simulation)"),
        Row("review order: calibrated confidence vs file order", _mean(runs, "after_calibration", "confidence"),
            "share", peer=_mean(runs, "after_calibration", "file"), notes="file order as the peer (simulation)"),
        Row("review order: raw signal (before any review) vs random", _mean(runs, "before_review", "confidence_raw"),
            "share", peer=_mean(runs, "before_review", "random"), notes="every item, before calibration (simulation)"),
        Row("confidence AUROC on items never fitted on", held_auroc, "AUROC",
            notes=f"ECE {_mean(runs, 'held_out_boxes', 'ece'):.3f}; {cross} (simulation)"),
    ]
    write_record("review_order", {"runs": runs, "items": args.items, "calibrate_on": args.calibrate_on,
                                  "seeds": args.seeds}, packages=("numpy", "scikit-learn"), rows=rows)


if __name__ == "__main__":
    main()

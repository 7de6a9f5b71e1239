"""Every metric on a small dataset whose answers were worked out by hand (see the comments), and the
COCO-style numbers against pycocotools on the same boxes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from grounding.errors import GroundingError
from grounding.evaluation import EvalCase, PictureBoxes, compute_metrics, score_cases
from tests.grounding.evaluation.coco_reference import coco_stats

CAT, DOG = "cat", "dog"


def boxes(*pairs, scores=None) -> tuple[PictureBoxes, ...]:
    return (PictureBoxes(tuple(b for b, _ in pairs), tuple(label for _, label in pairs), scores),)


# Truth and answers, one picture per item (answers ranked in the order written: score 1/k):
#   A  cat (0,0,10,10)            <- cat (0,0,10,7.8): IoU 0.78
#   B  dog (0,0,20,20)            <- dog (0,0,20,12.4): IoU 0.62, then the same box again (a duplicate)
#   C  cat (0,0,10,10), dog (50,50,60,60)  <- cat (50,50,60,60): on the dog, IoU 0 with the cat; no dog box
#   D  nothing                    <- nothing (a negative answered right)
#   E  nothing                    <- cat (0,0,5,5), bird (5,5,9,9) (a negative answered wrong; bird is no label)
#   F  cat (0,0,10,10)            <- nothing readable, cut by the token limit
#   G  cat (0,0,10,10)            <- no answer (the request failed): an error, out of every quality metric
CASES = [
    EvalCase("A", boxes(((0, 0, 10, 10), CAT)), boxes(((0, 0, 10, 7.8), CAT)),
             prompt_tokens=100, output_tokens=10, seconds=0.5),
    EvalCase("B", boxes(((0, 0, 20, 20), DOG)), boxes(((0, 0, 20, 12.4), DOG), ((0, 0, 20, 12.4), DOG)),
             prompt_tokens=100, output_tokens=20, seconds=1.5),
    EvalCase("C", boxes(((0, 0, 10, 10), CAT), ((50, 50, 60, 60), DOG)), boxes(((50, 50, 60, 60), CAT)),
             outside=2, prompt_tokens=100, output_tokens=30, seconds=1.0),
    EvalCase("D", boxes(), boxes(), output_tokens=5, seconds=0.5),
    EvalCase("E", boxes(), boxes(((0, 0, 5, 5), CAT), ((5, 5, 9, 9), "bird")),
             prompt_tokens=100, output_tokens=15, seconds=0.5),
    EvalCase("F", boxes(((0, 0, 10, 10), CAT)), boxes(), truncated=True,
             prompt_tokens=100, output_tokens=1024, seconds=2.0),
    EvalCase("G", boxes(((0, 0, 10, 10), CAT)), None),
]

# By hand. Referring targets (label with one truth box on its picture): A cat 0.78, B dog 0.62 (top box),
# C cat 0 (its cat box is on the dog), C dog 0 (no dog box), F cat 0 -> 5 targets.
# Ranked cat boxes (all score 1): A (IoU .78), C (fp), E (fp); 3 truth cats (A, C, F).
#   thresholds .50-.75 (6 of 10): precision 1 up to recall 1/3 -> 34 of the 101 recall points -> AP 34/101
#   thresholds .80-.95: no match -> AP 0.   cat AP = 0.6 * 34/101, recall = 0.6 * 1/3
# Ranked dog boxes: B (IoU .62), B again (fp); 2 truth dogs (B, C).
#   thresholds .50-.60 (3 of 10): precision 1 up to recall 1/2 -> 51 points -> AP 51/101; else 0
EXPECTED = {
    "items": 7, "answered": 6, "errors": 1, "negatives": 2, "targets": 5,
    "acc50": 2 / 5, "acc75": 1 / 5, "miou": (0.78 + 0.62) / 5, "center_acc": 2 / 5,
    "map50_95": (0.6 * 34 / 101 + 0.3 * 51 / 101) / 2, "map50": (34 / 101 + 51 / 101) / 2, "map75": (34 / 101) / 2,
    "ar100": (0.6 / 3 + 0.3 / 2) / 2,
    # boxes at IoU 0.5: 6 answer boxes (A, B, B, C, E cat, E bird), 5 truth boxes of answered items, 2 matched
    "precision": 2 / 6, "recall": 2 / 5, "f1": 2 * (2 / 6) * (2 / 5) / (2 / 6 + 2 / 5),
    "truth_boxes": 5, "answer_boxes": 6,
    "parse_failures": 1, "duplicates": 1, "outside": 2, "none_accuracy": 1 / 2, "truncated": 1, "unknown_labels": 1,
    "output_tokens": (10 + 20 + 30 + 5 + 15 + 1024) / 6, "prompt_tokens": 100.0, "seconds_per_item": 6.0 / 6,
    "ordering": "proposal order",
}
PER_LABEL = {
    CAT: {"truth_boxes": 3, "answer_boxes": 3, "precision": 1 / 3, "recall": 1 / 3, "f1": 1 / 3, "targets": 3,
          "acc50": 1 / 3, "acc75": 1 / 3, "miou": 0.78 / 3, "center_acc": 1 / 3, "map50_95": 0.6 * 34 / 101,
          "map50": 34 / 101, "map75": 34 / 101, "ar100": 0.6 / 3},
    DOG: {"truth_boxes": 2, "answer_boxes": 2, "precision": 1 / 2, "recall": 1 / 2, "f1": 1 / 2, "targets": 2,
          "acc50": 1 / 2, "acc75": 0.0, "miou": 0.62 / 2, "center_acc": 1 / 2, "map50_95": 0.3 * 51 / 101,
          "map50": 51 / 101, "map75": 0.0, "ar100": 0.3 / 2},
}


def _close(got, want, where: str) -> None:
    if isinstance(want, float):
        assert got == pytest.approx(want, abs=1e-9), where
    else:
        assert got == want, where


def test_every_metric_matches_the_hand_computed_answer():
    metrics = compute_metrics(score_cases(CASES))
    for key, want in EXPECTED.items():
        _close(metrics[key], want, key)
    assert set(metrics["per_label"]) == {CAT, DOG}  # bird is no label of the truth
    for label, expected in PER_LABEL.items():
        for key, want in expected.items():
            _close(metrics["per_label"][label][key], want, f"{label} {key}")


def test_the_coco_numbers_are_pycocotools_numbers():
    stats = coco_stats(CASES)
    metrics = compute_metrics(score_cases(CASES))
    assert [metrics[k] for k in ("map50_95", "map50", "map75", "ar100")] == pytest.approx(
        [stats[0], stats[1], stats[2], stats[8]], abs=1e-12)


def test_per_item_quality_orders_the_error_browser():
    scored = score_cases(CASES)
    assert scored.item_quality.tolist()[:6] == pytest.approx([0.78, 0.62 / 2, 0.0, 1.0, 0.0, 0.0])
    assert scored.item_missed.tolist()[:6] == [0, 0, 2, 0, 0, 1]
    assert scored.item_extra.tolist()[:6] == [0, 1, 1, 0, 2, 0]
    assert math.isnan(scored.item_quality[6])  # no answer
    assert scored.item_lowest_iou[0] == pytest.approx(0.78) and math.isnan(scored.item_lowest_iou[3])


def test_scores_rank_the_boxes_when_every_box_has_one():
    truth = boxes(((0, 0, 10, 10), CAT))
    # the model wrote the poor box first but scored it lower: the top box is the good one
    answer = boxes(((0, 0, 10, 3), CAT), ((0, 0, 10, 9), CAT), scores=(0.2, 0.9))
    metrics = compute_metrics(score_cases([EvalCase("x", truth, answer)]))
    assert metrics["ordering"] == "score" and metrics["acc75"] == 1.0 and metrics["miou"] == pytest.approx(0.9)
    unscored = compute_metrics(score_cases([EvalCase("x", truth, boxes(((0, 0, 10, 3), CAT), ((0, 0, 10, 9), CAT)))]))
    assert unscored["ordering"] == "proposal order" and unscored["acc50"] == 0.0 and unscored["miou"] == pytest.approx(0.3)


def test_a_single_target_takes_the_answers_top_box_whatever_its_label():
    truth = boxes(((0, 0, 10, 10), "the red mug"))
    metrics = compute_metrics(score_cases([EvalCase("x", truth, boxes(((0, 0, 10, 10), "mug")))]))
    assert (metrics["acc50"], metrics["center_acc"], metrics["map50"]) == (1.0, 1.0, 0.0)  # a wrong label for COCO


def test_labels_compare_without_case_or_spacing():
    metrics = compute_metrics(score_cases([EvalCase("x", boxes(((0, 0, 10, 10), "Red  Car")),
                                                    boxes(((0, 0, 10, 10), "red car")))]))
    assert metrics["precision"] == 1.0 and list(metrics["per_label"]) == ["Red  Car"]


def test_multi_image_items_match_boxes_on_their_own_picture_only():
    truth = (PictureBoxes(((0, 0, 10, 10),), (CAT,)), PictureBoxes(((0, 0, 10, 10),), (DOG,)))
    swapped = (PictureBoxes(((0, 0, 10, 10),), (DOG,)), PictureBoxes(((0, 0, 10, 10),), (CAT,)))
    right = (PictureBoxes(((0, 0, 10, 10),), (CAT,)), PictureBoxes(((0, 0, 10, 10),), (DOG,)))
    assert compute_metrics(score_cases([EvalCase("x", truth, swapped)]))["recall"] == 0.0
    assert compute_metrics(score_cases([EvalCase("x", truth, right)]))["recall"] == 1.0


def test_weights_count_items_that_many_times():
    scored = score_cases(CASES)
    doubled = compute_metrics(score_cases([*CASES[:1], *CASES]))  # A twice
    weighted = compute_metrics(scored, np.array([2, 1, 1, 1, 1, 1, 1], dtype=float))
    for key in ("acc50", "miou", "precision", "recall", "map50_95", "ar100", "output_tokens"):
        assert weighted[key] == pytest.approx(doubled[key], abs=1e-12), key


def test_nothing_to_measure_gives_none_not_zero():
    metrics = compute_metrics(score_cases([EvalCase("x", boxes(), boxes())]))
    assert metrics["map50_95"] is None and metrics["acc50"] is None and metrics["none_accuracy"] == 1.0
    assert compute_metrics(score_cases([]))["items"] == 0


@pytest.mark.parametrize("bad", [
    pytest.param(lambda: PictureBoxes(((0, 0, 1, 1),), ()), id="label-count"),
    pytest.param(lambda: PictureBoxes(((0, 0, 1, float("nan")),), ("a",)), id="nan"),
    pytest.param(lambda: PictureBoxes(((0, 0, 1, 1),), ("a",), (0.5, 0.2)), id="score-count"),
    pytest.param(lambda: EvalCase("x", boxes(), (*boxes(), *boxes())), id="picture-count"),
])
def test_bad_cases_are_refused_in_words(bad):
    with pytest.raises(GroundingError):
        bad()

"""The reference: pycocotools' COCOeval on the same boxes, labels and scores as our evaluation cases.

Each picture of each item is one COCO image (ids from 1 in item order, then picture order), each
label of the truth one category; answer boxes get the score our ranking uses
(:func:`grounding.evaluation.scoring.ranking_scores`), so both rank the boxes alike.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence

import numpy as np

from grounding.evaluation import EvalCase, label_key, ranking_scores


def coco_stats(cases: Sequence[EvalCase]) -> np.ndarray | None:
    """COCOeval's 12 summary numbers (``stats``) for the answered cases; None when it cannot run
    (no truth box or no answer box: pycocotools refuses an empty result list)."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    answered = [case for case in cases if case.answer is not None]
    categories: dict[str, int] = {}
    for case in answered:
        for picture in case.truth:
            for label in picture.labels:
                categories.setdefault(label_key(label), len(categories) + 1)
    images, truth, results = [], [], []
    scores = ranking_scores(answered)
    image_id = 0
    for case, case_scores in zip(answered, scores):
        assert case.answer is not None
        for picture, given, picture_scores in zip(case.truth, case.answer, case_scores):
            image_id += 1
            images.append({"id": image_id, "width": 10_000, "height": 10_000})
            for box, label in zip(picture.xyxy, picture.labels):
                x1, y1, x2, y2 = box
                truth.append({"id": len(truth) + 1, "image_id": image_id, "category_id": categories[label_key(label)],
                              "bbox": [x1, y1, x2 - x1, y2 - y1], "area": (x2 - x1) * (y2 - y1), "iscrowd": 0})
            for box, label, score in zip(given.xyxy, given.labels, picture_scores):
                key = label_key(label)
                if key not in categories:
                    continue  # a label the truth does not have: COCOeval never looks at it
                x1, y1, x2, y2 = box
                results.append({"image_id": image_id, "category_id": categories[key],
                                "bbox": [x1, y1, x2 - x1, y2 - y1], "score": float(score)})
    if not truth or not results:
        return None
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = {"images": images, "annotations": truth,
                      "categories": [{"id": i, "name": name} for name, i in categories.items()]}
        gt.createIndex()
        dt = gt.loadRes(results)
        evaluator = COCOeval(gt, dt, "bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return evaluator.stats

"""Grounding quality against reviewed boxes: pure numpy, no store (the workbench feeds it).

- :mod:`~grounding.evaluation.cases`: :class:`EvalCase` (an item's accepted boxes and a run's answer);
- :mod:`~grounding.evaluation.scoring`: :func:`score_cases` (COCOeval's matching, referring targets,
  failures and costs, once per item);
- :mod:`~grounding.evaluation.metrics`: :func:`compute_metrics` (every metric, overall and per label;
  ``map50_95`` is pycocotools' number on the same boxes and scores);
- :mod:`~grounding.evaluation.compare`: :func:`paired_bootstrap` (two setups on the same items);
- :mod:`~grounding.evaluation.plot`: an IoU histogram per label as a picture.

>>> from grounding.evaluation import EvalCase, PictureBoxes, compute_metrics, score_cases
"""

from grounding.evaluation.cases import EvalCase, PictureBoxes, label_key
from grounding.evaluation.metrics import COUNT_KEYS, METRIC_KEYS, compute_metrics
from grounding.evaluation.scoring import IOU_THRESHOLDS, ScoredCases, box_iou, ranking_scores, score_cases

__all__ = [
    "COUNT_KEYS",
    "EvalCase",
    "IOU_THRESHOLDS",
    "METRIC_KEYS",
    "PictureBoxes",
    "ScoredCases",
    "box_iou",
    "compute_metrics",
    "label_key",
    "ranking_scores",
    "score_cases",
]

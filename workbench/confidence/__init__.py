"""Per-box confidence for a dataset: calibration on its own reviews, scores, the optional agreement check.

- :mod:`~workbench.confidence.calibration`: P(box survives review) from the signals (logistic regression),
  AUROC and ECE on held-out reviewed items;
- :mod:`~workbench.confidence.scoring`: the signals of an answer's boxes, the dataset's scorer, refitting;
- the agreement check itself is a run's (:mod:`workbench.runs.agreement`): a second call and each box's IoU.

The signals themselves are pure and live in :mod:`grounding.confidence`. See ``docs/confidence.md``.
"""

from workbench.confidence.calibration import (
    FEATURES,
    MIN_REVIEWED_ITEMS,
    SURVIVAL_IOU,
    Calibration,
    ReviewedBox,
    auroc,
    expected_calibration_error,
    fit,
)
from workbench.confidence.scoring import (
    SETTINGS_KEY,
    RefitReport,
    answer_signals,
    dataset_calibration,
    dataset_scorer,
    refit,
    status_text,
)

__all__ = ["FEATURES", "MIN_REVIEWED_ITEMS", "SETTINGS_KEY", "SURVIVAL_IOU", "Calibration", "RefitReport",
           "ReviewedBox", "answer_signals", "auroc", "dataset_calibration", "dataset_scorer",
           "expected_calibration_error", "fit", "refit", "status_text"]

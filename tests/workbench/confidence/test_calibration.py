"""Calibration metrics and the logistic fit, checked against scikit-learn's on known data."""

from __future__ import annotations

import math

import numpy as np
import pytest

from workbench.confidence.calibration import (
    FEATURES,
    PENALTY,
    Calibration,
    ReviewedBox,
    auroc,
    expected_calibration_error,
    features,
    fit,
    fit_logistic,
)

sklearn = pytest.importorskip("sklearn")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auroc_is_scikit_learns(seed):
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(seed)
    y = rng.random(300) < 0.4
    scores = np.round(rng.random(300) + 0.3 * y, 1)  # rounded: many ties
    assert auroc(y.tolist(), scores.tolist()) == pytest.approx(roc_auc_score(y, scores), abs=1e-12)
    assert auroc([True, True], [0.1, 0.2]) is None


@pytest.mark.parametrize("seed", [0, 1])
def test_ece_matches_scikit_learns_calibration_curve(seed):
    from sklearn.calibration import calibration_curve

    rng = np.random.default_rng(seed)
    p = rng.random(500)
    y = rng.random(500) < p ** 1.5
    observed, predicted = calibration_curve(y, p, n_bins=10, strategy="uniform")
    counts = np.bincount(np.minimum((p * 10).astype(int), 9), minlength=10)
    counts = counts[counts > 0]
    reference = float(np.sum(counts / len(p) * np.abs(observed - predicted)))
    assert expected_calibration_error(y.tolist(), p.tolist()) == pytest.approx(reference, abs=1e-12)


def test_logistic_fit_is_scikit_learns_with_the_same_penalty():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(3)
    x = rng.normal(size=(400, 4))
    y = (rng.random(400) < 1 / (1 + np.exp(-(x @ [1.5, -2.0, 0.0, 0.5] + 0.3)))).astype(float)
    coef, intercept = fit_logistic(x, y, penalty=PENALTY)
    reference = LogisticRegression(C=1 / PENALTY, tol=1e-12, max_iter=10_000).fit(x, y)
    assert coef == pytest.approx(reference.coef_[0], abs=1e-5)
    assert intercept == pytest.approx(reference.intercept_[0], abs=1e-5)


def _rows(items=60, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for item in range(items):
        for _ in range(4):
            wrong = rng.random() < 0.3
            lp = float(-rng.uniform(1.5, 6.0) if wrong else -rng.uniform(0.0, 1.0))
            rows.append(ReviewedBox(item, {"logprob_min": lp, "logprob_mean": lp / 3, "error_px": -lp * 4,
                                           "logprobs": True, "area": 0.05, "border": bool(rng.random() < 0.2)},
                                    not wrong))
    return rows


def test_fit_reports_held_out_auroc_and_ece_and_scores_like_a_probability():
    calibration = fit(_rows())
    assert calibration.items == 60 and calibration.boxes == 240
    assert calibration.auroc is not None and calibration.auroc > 0.9
    assert calibration.ece is not None and calibration.ece < 0.15
    assert calibration.raw_auroc is not None and calibration.raw_auroc > 0.9
    sure = calibration.score({"logprob_min": -0.1, "logprob_mean": -0.03, "error_px": 0.4, "logprobs": True,
                              "area": 0.05})
    unsure = calibration.score({"logprob_min": -5.0, "logprob_mean": -1.6, "error_px": 20, "logprobs": True,
                                "area": 0.05})
    assert 0.0 < unsure < 0.2 < 0.8 < sure < 1.0
    again = Calibration.from_dict(calibration.as_dict())
    assert again is not None and again.score({"logprob_min": -2.0}) == calibration.score({"logprob_min": -2.0})


def test_one_outcome_only_gives_the_smoothed_rate():
    rows = [ReviewedBox(i, {"logprob_min": -0.1}, True) for i in range(40)]
    calibration = fit(rows)
    assert calibration.auroc is None and calibration.score({"logprob_min": -9.0}) == pytest.approx(41 / 42, abs=1e-6)


def test_features_mark_what_is_missing():
    assert len(features({})) == len(FEATURES)
    missing = dict(zip(FEATURES, features({})))
    assert missing["no_logprobs"] == 1.0 and missing["no_agreement"] == 1.0
    present = dict(zip(FEATURES, features({"logprob_min": -1.0, "agreement": 0.7})))
    assert present["no_logprobs"] == 0.0 and present["agreement"] == 0.7
    assert present["log_area"] == pytest.approx(math.log(1e-6))

"""``map50_95`` (and AP50, AP75, AR100) equal pycocotools' COCOeval within 0.001 on 50 random datasets:
boxes near and far from the truth, several labels, multi-picture items, labels the truth lacks,
negatives, tied scores, with and without scores."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grounding.evaluation import EvalCase, PictureBoxes, compute_metrics, score_cases
from tests.grounding.evaluation.coco_reference import coco_stats

LABELS = ["cat", "dog", "Red car"]


@st.composite
def box(draw, near=None):
    if near is not None and draw(st.booleans()):
        jitter = st.floats(-6, 6, allow_nan=False)
        x1, y1, x2, y2 = near
        return (x1 + draw(jitter), y1 + draw(jitter), x2 + draw(jitter), y2 + draw(jitter))
    x, y = draw(st.floats(0, 200)), draw(st.floats(0, 200))
    return (x, y, x + draw(st.floats(1, 60)), y + draw(st.floats(1, 60)))


@st.composite
def dataset(draw):
    scored = draw(st.booleans())
    cases = []
    for n in range(draw(st.integers(1, 12))):
        truth, answer = [], []
        for _ in range(draw(st.integers(1, 2))):
            gt = [draw(box()) for _ in range(draw(st.integers(0, 5)))]
            gl = [draw(st.sampled_from(LABELS)) for _ in gt]
            dt = [draw(box(near=draw(st.sampled_from(gt)) if gt else None)) for _ in range(draw(st.integers(0, 6)))]
            dl = [draw(st.sampled_from([*LABELS, "bird"])) for _ in dt]
            scores = tuple(draw(st.sampled_from([0.25, 0.5, 0.75]) | st.floats(0, 1)) for _ in dt) if scored else None
            truth.append(PictureBoxes(tuple(gt), tuple(gl)))
            answer.append(PictureBoxes(tuple(dt), tuple(dl), scores))
        cases.append(EvalCase(str(n), tuple(truth), tuple(answer)))
    return cases


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dataset())
def test_coco_numbers_equal_cocoeval(cases):
    stats = coco_stats(cases)
    metrics = compute_metrics(score_cases(cases), per_label=False)
    if stats is None:  # no truth box or no answer box: pycocotools cannot run; we say 0 or None
        assert metrics["map50_95"] in (None, 0.0)
        return
    for key, index in (("map50_95", 0), ("map50", 1), ("map75", 2), ("ar100", 8)):
        reference = None if stats[index] < 0 else stats[index]
        if reference is None:
            assert metrics[key] is None, key
        else:
            assert abs(metrics[key] - reference) < 1e-3, (key, metrics[key], reference)

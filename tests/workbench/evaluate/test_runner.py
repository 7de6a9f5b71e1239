"""Evaluations end to end against a fake server with known answers: the numbers, resuming, a model that cannot
be reached, no accepted item, a split change afterwards, and the items left untouched."""

from __future__ import annotations

import threading

import pytest

from tests.fake_server import FakeServer
from tests.workbench.evaluate.known import NAME, build_known
from workbench.batch import ReplicaPool
from workbench.errors import WorkbenchError
from workbench.evaluate import EvalGrid, item_outcomes, plan_evaluation, run_evaluation
from workbench.evaluate.compare import compare_runs
from workbench.store import DatasetStore

SHIFTED = "Locate every {target} in the image, shifted, and output the bbox coordinates in JSON format."


@pytest.fixture
def store(tmp_path):
    with DatasetStore(tmp_path / "data" / "workbench.sqlite3") as store:
        yield store


@pytest.fixture
def known(store, tmp_path):
    return build_known(store, tmp_path / "images")


@pytest.fixture
def server(known):
    with FakeServer(known.answer, models=["good"]) as server:
        yield server


def opener(server):
    return lambda setup: ReplicaPool.from_urls([server.url], model=setup.model, family="qwen2.5-vl",
                                               limits_style="vllm", timeout=10, pool_options={"wait_s": 1.0})


def test_two_prompts_give_the_numbers_the_answers_imply(store, known, server):
    grid = EvalGrid(models=("good",), prompts=(None, SHIFTED), split="val")
    evaluation = run_evaluation(store, plan_evaluation(store, NAME, grid).id, opener(server), concurrency=3)
    exact, shifted = (cell.metrics for cell in evaluation.cells)
    assert evaluation.items == tuple(known.val) and [c.state for c in evaluation.cells] == ["done", "done"]
    # exact boxes (rounded to the resized image's pixels): every threshold up to 0.95 is met
    assert (exact["acc50"], exact["acc75"], exact["center_acc"], exact["precision"], exact["recall"]) == (1.0,) * 5
    assert exact["map50_95"] == pytest.approx(1.0) and exact["miou"] > 0.98 and exact["none_accuracy"] == 1.0
    # shifted 20 px: IoU 2/3, found at thresholds 0.50-0.65 (4 of 10) only
    assert (shifted["acc50"], shifted["acc75"], shifted["center_acc"]) == (1.0, 0.0, 1.0)
    assert shifted["map50_95"] == pytest.approx(0.4) and shifted["map75"] == 0.0
    assert shifted["miou"] == pytest.approx(2 / 3, abs=0.01) and set(shifted["per_label"]) == {"cat", "dog"}
    assert exact["items"] == 6 and exact["negatives"] == 1 and exact["parse_failures"] == 0
    assert exact["output_tokens"] > 0 and exact["prompt_tokens"] > 0 and exact["seconds_per_item"] > 0
    assert len(server.requests) == 2 * 6 + 2 * 3  # 6 items per cell, and each cell's 3 geometry probes


def test_the_question_names_the_items_labels_or_every_label_for_a_negative(store, known, server):
    run_evaluation(store, plan_evaluation(store, NAME, EvalGrid(models=("good",), split="val")).id, opener(server),
                   geometry_check=False)
    asked = {r.prompt for r in server.requests}
    assert "Locate every cat in the image and output the bbox coordinates in JSON format." in asked
    assert "Locate every cat and dog in the image and output the bbox coordinates in JSON format." in asked


def test_a_model_that_cannot_be_reached_fails_its_cell_and_the_others_run(store, known, server):
    grid = EvalGrid(models=("missing", "good"), split="val")
    evaluation = run_evaluation(store, plan_evaluation(store, NAME, grid).id, opener(server))
    failed, done = evaluation.cells
    assert failed.state == "failed" and "`missing` does not exist" in failed.error
    assert done.state == "done" and done.metrics["acc50"] == 1.0


def test_no_accepted_item_in_the_split_is_said_before_anything_runs(store, known, server):
    store.set_split(NAME, known.val, "train")
    with pytest.raises(WorkbenchError, match="no accepted item in the val split") as caught:
        plan_evaluation(store, NAME, EvalGrid(models=("good",), split="val"))
    assert "8 in train" in str(caught.value) and server.requests == [] and store.evaluations(NAME) == []
    with pytest.raises(WorkbenchError, match="no accepted item in the test split"):
        plan_evaluation(store, NAME, EvalGrid(models=("good",), split="test"))


def test_an_interrupted_cell_resumes_where_it_stopped(store, known, server):
    grid = EvalGrid(models=("good",), split="val")
    cancel = threading.Event()

    def stop_after_two(cell, progress):
        if progress.written >= 2:
            cancel.set()

    first = run_evaluation(store, plan_evaluation(store, NAME, grid).id, opener(server), concurrency=1,
                           geometry_check=False, on_progress=stop_after_two, cancel=cancel)
    assert first.cells[0].state == "cancelled"
    answered = len(store.run_answers(first.cells[0].run_id))
    assert 2 <= answered < 6
    asked = len(server.requests)
    again = plan_evaluation(store, NAME, grid)  # the same grid: the unfinished evaluation, not a new one
    assert again.id == first.id
    done = run_evaluation(store, again.id, opener(server), geometry_check=False)
    assert done.cells[0].state == "done" and done.cells[0].run_id == first.cells[0].run_id
    assert len(server.requests) - asked == 6 - answered  # only the items not answered yet
    assert done.cells[0].metrics["answered"] == 6 and done.cells[0].metrics["acc50"] == 1.0
    assert plan_evaluation(store, NAME, grid).id != first.id  # finished: running it again measures afresh


def test_a_split_change_after_a_run_leaves_the_measured_items_as_they_were(store, known, server):
    grid = EvalGrid(models=("good",), split="val")
    evaluation = run_evaluation(store, plan_evaluation(store, NAME, grid).id, opener(server), geometry_check=False)
    store.set_split(NAME, known.val[:3], "test")
    store.set_split(NAME, known.train, "val")
    kept = store.evaluation(evaluation.id)
    assert kept.items == tuple(known.val) and kept.cells[0].metrics["items"] == 6
    fresh = plan_evaluation(store, NAME, grid)
    assert set(fresh.items) == {*known.val[3:], *known.train}


def test_measuring_touches_no_annotation_status_version_or_history(store, known, server):
    before = {i: (store.item(i), store.history(i)) for i in known.val}
    run_evaluation(store, plan_evaluation(store, NAME, EvalGrid(models=("good",), prompts=(SHIFTED,))).id,
                   opener(server), geometry_check=False)
    for item_id, (item, history) in before.items():
        after = store.item(item_id)
        assert (after.version, after.status, after.annotations, after.error) == (item.version, item.status,
                                                                                  item.annotations, item.error)
        assert store.history(item_id) == history and store.proposals(item_id)[0] is None


def test_the_error_browser_lists_the_worst_items_first(store, known, server):
    grid = EvalGrid(models=("good",), prompts=(SHIFTED,), split="val")
    evaluation = run_evaluation(store, plan_evaluation(store, NAME, grid).id, opener(server), geometry_check=False)
    rows = item_outcomes(store, evaluation, evaluation.cells[0].run_id)
    assert len(rows) == 6 and rows[-1].item_id == known.negative and rows[-1].quality == 1.0
    assert all(r.quality == pytest.approx(2 / 3, abs=0.02) and r.missed == 0 for r in rows[:5])


def test_comparing_two_cells_gives_intervals_and_the_items_that_got_worse(store, known, server):
    grid = EvalGrid(models=("good",), prompts=(None, SHIFTED), split="val")
    evaluation = run_evaluation(store, plan_evaluation(store, NAME, grid).id, opener(server), geometry_check=False)
    exact, shifted = (cell.run_id for cell in evaluation.cells)
    comparison = compare_runs(store, exact, shifted, resamples=200)
    by_metric = {d.metric: d for d in comparison.differences}
    assert comparison.items == 6
    assert (by_metric["acc75"].difference, by_metric["acc75"].low, by_metric["acc75"].high) == (-1.0, -1.0, -1.0)
    assert by_metric["acc50"].difference == 0.0 and by_metric["map50_95"].difference == pytest.approx(-0.6)
    assert {int(c.key) for c in comparison.worse} == set(known.val) - {known.negative}
    with pytest.raises(WorkbenchError, match="not an evaluation run"):
        compare_runs(store, exact, store.run(NAME, model="m", family="qwen2.5-vl", settings={}).id)

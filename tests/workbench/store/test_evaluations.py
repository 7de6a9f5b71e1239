"""Evaluations in the store: a frozen item list, cells with states and metrics, eval runs whose answers never
touch the item (annotations, status, version, history) and never show as the item's latest run."""

from __future__ import annotations

import pytest

from tests.factories import write_image
from workbench.errors import StoreError
from workbench.store import AnnotationDraft, DatasetStore

CAT = AnnotationDraft.box((10, 20, 110, 220), "cat")


@pytest.fixture
def store(tmp_path):
    with DatasetStore(tmp_path / "data" / "workbench.sqlite3") as store:
        yield store


@pytest.fixture
def accepted(store, tmp_path):
    dataset = store.create_dataset("d")
    ids = []
    for n in range(3):
        item = store.add_item(dataset, [write_image(tmp_path, 320, 240, seed=n)])
        store.set_annotations(item.id, 1, [CAT])
        ids.append(store.set_status(item.id, "accepted").id)
    return ids


def test_an_evaluation_keeps_the_items_it_was_created_with(store, accepted):
    store.set_split("d", accepted, "val")
    evaluation = store.create_evaluation("d", "val", {"models": ["m"]}, accepted, [{"model": "m"}, {"model": "n"}])
    store.set_split("d", accepted[:2], "train")  # the split changes afterwards
    again = store.evaluation(evaluation.id)
    assert again.items == tuple(accepted) and [c.position for c in again.cells] == [1, 2]
    assert store.evaluations("d")[0].id == evaluation.id


def test_an_unfinished_evaluation_of_the_same_grid_is_found_to_resume(store, accepted):
    grid = {"models": ["m"], "prompts": [None]}
    evaluation = store.create_evaluation("d", "val", grid, accepted, [{"model": "m"}])
    assert store.unfinished_evaluation("d", "val", grid).id == evaluation.id
    assert store.unfinished_evaluation("d", "test", grid) is None
    assert store.unfinished_evaluation("d", "val", {**grid, "models": ["n"]}) is None
    (cell,) = evaluation.cells
    store.update_evaluation_cell(cell.id, state="done", metrics={"acc50": 0.5})
    assert store.unfinished_evaluation("d", "val", grid) is None
    assert store.evaluation_cell(cell.id).metrics == {"acc50": 0.5} and store.evaluation(evaluation.id).state == "done"


def test_running_cells_of_a_gone_process_are_interrupted(store, accepted):
    evaluation = store.create_evaluation("d", "", {}, accepted, [{"model": "m"}])
    store.update_evaluation_cell(evaluation.cells[0].id, state="running")
    assert store.interrupt_running_evaluations() == 1
    assert store.evaluation(evaluation.id).cells[0].state == "interrupted"
    with pytest.raises(StoreError, match="state is one of"):
        store.update_evaluation_cell(evaluation.cells[0].id, state="paused")


def test_an_eval_answer_never_touches_the_item(store, accepted):
    item = store.item(accepted[0])
    history = store.history(item.id)
    run = store.run("d", model="m", family="qwen2.5-vl", settings={"evaluation": 1, "cell": 1}, kind="eval")
    box = AnnotationDraft.box((12, 20, 100, 200), "cat", provenance="model")
    store.record_eval_answer(run.id, item.id, [[box]], text="[...]", stats={"output_tokens": 7, "seconds": 0.5})
    store.record_eval_error(run.id, accepted[1], "server said 503")
    after = store.item(item.id)
    assert (after.version, after.status, after.annotations, after.error) == (item.version, item.status,
                                                                              item.annotations, item.error)
    assert store.history(item.id) == history
    assert store.proposals(item.id) == (None, [[]])  # Review shows the latest annotate run: there is none
    shown_run, shown = store.proposals(item.id, run.id)  # ... unless it is asked for this run
    assert shown_run.kind == "eval" and shown[0][0].coords == box.coords
    answers = store.run_answers(run.id)
    assert answers[item.id].stats == {"output_tokens": 7, "seconds": 0.5} and not answers[item.id].failed
    assert answers[accepted[1]].failed and answers[accepted[1]].error == "server said 503"
    assert store.run_done(run.id, item.id) and not store.run_done(run.id, accepted[1])


def test_eval_and_annotate_runs_are_apart(store, accepted):
    settings = {"prompt": "p"}
    annotate = store.run("d", model="m", family="qwen2.5-vl", settings=settings)
    measured = store.run("d", model="m", family="qwen2.5-vl", settings=settings, kind="eval")
    assert annotate.id != measured.id and (annotate.kind, measured.kind) == ("annotate", "eval")
    with pytest.raises(StoreError, match="evaluation run"):
        store.record_proposals(measured.id, accepted[0], [[CAT]])
    with pytest.raises(StoreError, match="not an evaluation run"):
        store.record_eval_answer(annotate.id, accepted[0], [[CAT]])
    with pytest.raises(StoreError, match="kind is one of"):
        store.run("d", model="m", family="qwen2.5-vl", settings=settings, kind="train")


def test_an_answer_for_the_wrong_number_of_pictures_is_refused(store, accepted):
    run = store.run("d", model="m", family="qwen2.5-vl", settings={}, kind="eval")
    with pytest.raises(StoreError, match="has 1 images"):
        store.record_eval_answer(run.id, accepted[0], [[CAT], []])
    assert store.run_answers(run.id) == {}

"""Scores in the store: what reviews say about each proposal, rescoring, the queue by weakest box, and accepting
every item above a threshold (one transaction, one undoable history entry per item)."""

from __future__ import annotations

import pytest

from tests.factories import write_image
from workbench.store import AnnotationDraft, DatasetStore, ItemFilter, StaleItemError
from workbench.store.scores import BULK_ACCEPT


@pytest.fixture
def store(tmp_path):
    with DatasetStore(tmp_path / "db.sqlite3") as s:
        yield s


def add_items(store, tmp_path, count, name="d"):
    dataset = store.create_dataset(name) if name not in [d.name for d in store.list_datasets()] else store.dataset(name)
    return dataset, [store.add_item(dataset.id, [write_image(tmp_path, 200, 100, seed=n, name=f"{name}{n}.png")])
                     for n in range(count)]


def propose(store, item, boxes):
    """A model run on the item: ``boxes`` are (coords, label, score)."""
    run = store.run(item.dataset_id, model="m", family="qwen2.5-vl", settings={"prompt": "p"})
    drafts = [AnnotationDraft.box(c, label, provenance="model", score=score) for c, label, score in boxes]
    signals = [{"logprob_min": score - 1, "logprobs": True} for _, _, score in boxes]
    updated, applied = store.record_proposals(run.id, item.id, [drafts], signals=[signals])
    assert applied
    return updated


def test_reviews_say_which_proposals_survived(store, tmp_path):
    dataset, (item,) = add_items(store, tmp_path, 1)
    item = propose(store, item, [((10, 10, 50, 50), "cat", 0.9), ((60, 10, 100, 50), "cat", 0.8),
                                 ((110, 10, 150, 50), "cat", 0.7), ((10, 60, 50, 95), "cat", 0.6),
                                 ((120, 60, 160, 95), "dog", 0.5)])
    kept, _nudged, _moved, _deleted, relabelled = item.annotations
    person = [kept.draft(), AnnotationDraft.box((61, 10, 100, 50), "cat"), AnnotationDraft.box((110, 30, 150, 70), "cat"),
              AnnotationDraft.box(relabelled.coords, "fox")]
    item = store.set_annotations(item.id, 1, person)
    store.set_status(item.id, "accepted")
    survived = [(signals["logprob_min"], ok) for _, signals, ok in store.reviewed_boxes(dataset.id)]
    assert survived == [(pytest.approx(-0.1), True), (pytest.approx(-0.2), True), (pytest.approx(-0.3), False),
                        (pytest.approx(-0.4), False), (pytest.approx(-0.5), False)]


def test_unreviewed_and_threshold_accepted_items_teach_nothing(store, tmp_path):
    dataset, items = add_items(store, tmp_path, 2)
    for item in items:
        propose(store, item, [((10, 10, 50, 50), "cat", 0.95)])
    assert store.reviewed_boxes(dataset.id) == []
    assert store.accept_confident(dataset.id, 0.9) == [i.id for i in items]
    assert store.reviewed_boxes(dataset.id) == []


def test_accept_above_threshold_counts_first_then_acts_once_undoable_per_item(store, tmp_path):
    dataset, items = add_items(store, tmp_path, 4)
    propose(store, items[0], [((10, 10, 50, 50), "cat", 0.97), ((60, 10, 90, 40), "cat", 0.92)])
    propose(store, items[1], [((10, 10, 50, 50), "cat", 0.97), ((60, 10, 90, 40), "cat", 0.4)])
    propose(store, items[2], [((10, 10, 50, 50), "cat", 0.99)])
    store.set_annotations(items[2].id, 1, [*store.item(items[2].id).annotations,
                                           AnnotationDraft.box((1, 1, 9, 9), "cat")])  # a person's box: not taken
    counted = store.confident_items(dataset.id, 0.9)
    assert [(i, n) for i, n, _ in counted] == [(items[0].id, 2)]
    assert counted[0][2] == pytest.approx(0.03 + 0.08)
    before = {i.id: store.item(i.id).version for i in items}
    assert store.accept_confident(dataset.id, 0.9) == [items[0].id]
    taken = store.item(items[0].id)
    assert taken.status == "accepted" and taken.version == before[items[0].id] + 1
    assert [a.action for a in store.history(items[0].id)][-1] == BULK_ACCEPT
    assert {i.id: store.item(i.id).version for i in items[1:]} == {i.id: before[i.id] for i in items[1:]}
    assert store.undo(items[0].id).status == "pre-annotated"
    with pytest.raises(Exception, match="between 0 and 1"):
        store.accept_confident(dataset.id, 1.5)


def test_rescoring_writes_no_history_and_undo_still_works(store, tmp_path):
    dataset, (item,) = add_items(store, tmp_path, 1)
    item = propose(store, item, [((10, 10, 50, 50), "cat", 0.5)])
    assert store.rescore(dataset.id, lambda signals: 0.25) == 1
    rescored = store.item(item.id)
    assert rescored.annotations[0].score == 0.25 and rescored.version == item.version
    _, (proposals,) = store.proposals(item.id)
    assert proposals[0].score == 0.25 and proposals[0].signals["logprob_min"] == pytest.approx(-0.5)
    assert store.undo(item.id).annotations == ()  # the model run is taken back although its box was rescored
    assert store.redo(item.id).annotations[0].coords == (10.0, 10.0, 50.0, 50.0)
    with store.db.write() as conn:  # a real change made behind the history's back still blocks undo
        conn.execute("UPDATE annotations SET label = 'dog'")
    with pytest.raises(StaleItemError):
        store.undo(item.id)


def test_the_queue_by_weakest_box_and_by_expected_edits(store, tmp_path):
    dataset, items = add_items(store, tmp_path, 4)
    propose(store, items[0], [((10, 10, 50, 50), "cat", 0.9)])
    propose(store, items[1], [((10, 10, 50, 50), "cat", 0.2), ((60, 10, 90, 40), "cat", 0.99)])
    propose(store, items[2], [((10, 10, 50, 50), "cat", 0.5), ((60, 10, 90, 40), "cat", 0.5),
                              ((100, 10, 150, 40), "cat", 0.5)])
    ids = [i.id for i in items]
    by_weakest = ItemFilter(order="confidence")
    assert store.item_ids(dataset.id, by_weakest) == [ids[1], ids[2], ids[0], ids[3]]  # unscored last
    assert store.item_ids(dataset.id, ItemFilter(order="edits")) == [ids[2], ids[1], ids[0], ids[3]]
    assert [r.id for r in store.queue(dataset.id, by_weakest).rows] == [ids[1], ids[2], ids[0], ids[3]]
    assert store.neighbour(dataset.id, ids[2], filter=by_weakest) == ids[0]
    assert store.neighbour(dataset.id, ids[2], step=-1, filter=by_weakest) == ids[1]
    assert store.neighbour(dataset.id, None, filter=by_weakest) == ids[1]
    assert store.index_of(dataset.id, ids[0], by_weakest) == 3
    assert store.weakest_scores(ids) == {ids[0]: 0.9, ids[1]: 0.2, ids[2]: 0.5}
    with pytest.raises(Exception, match="unknown queue order"):
        store.item_ids(dataset.id, ItemFilter(order="sideways"))

"""An answer's boxes get signals and a score on the way into the store; a dataset calibrates on its reviews."""

from __future__ import annotations

import math

import pytest

from grounding.confidence import TokenLogprob
from grounding.parse import EMPTY_ANSWER_NOTE
from tests.factories import write_image
from workbench.backends import FakeBackend, OpenAICompatibleBackend
from workbench.backends.fake_server import FakeChatServer
from workbench.confidence import MIN_REVIEWED_ITEMS, dataset_calibration, refit, status_text
from workbench.run_settings import Reading
from workbench.runs.items import LOOP_NOTE, paste_on_item, run_on_item
from workbench.store import AnnotationDraft, DatasetStore


@pytest.fixture
def store(tmp_path):
    with DatasetStore(tmp_path / "db.sqlite3", durable=False) as s:
        yield s


def tokens_for(text, weak_at=(), p=0.2):
    return [TokenLogprob(c, math.log(p) if i in weak_at else -0.001, ((c, math.log(p) if i in weak_at else -0.001),))
            for i, c in enumerate(text)]


def test_a_pasted_answer_gets_structure_signals_and_a_raw_score(store, tmp_path):
    item = store.add_item(store.create_dataset("d"), [write_image(tmp_path, 644, 476)])
    store.add_label(item.dataset_id, "cup")
    text = '[{"bbox_2d": [0, 10, 100, 100], "label": "cup"}, {"bbox_2d": [200, 10, 300, 100], "label": "mug"}]'
    outcome = paste_on_item(store, item.id, text, Reading("qwen2.5-vl"))
    _, (proposals,) = store.proposals(item.id)
    assert [p.signals["border"] for p in proposals] == [True, False]
    assert [p.signals["unknown_label"] for p in proposals] == [False, True]
    assert [p.signals["logprobs"] for p in proposals] == [False, False]
    assert [a.score for a in outcome.item.annotations] == [1.0, 0.5]  # raw: halved for the label outside the set
    assert not outcome.calibrated


def test_an_explicit_empty_answer_and_a_loop_are_said_on_the_item(store, tmp_path):
    item = store.add_item(store.create_dataset("d"), [write_image(tmp_path, 644, 476)])
    outcome = paste_on_item(store, item.id, "None.", Reading("qwen2.5-vl"))
    assert outcome.empty and outcome.detections == 0 and EMPTY_ANSWER_NOTE in outcome.warnings
    assert EMPTY_ANSWER_NOTE in store.run_text(store.proposals(item.id)[0].id, item.id)[1]
    looped = "[" + ", ".join(['{"bbox_2d": [10, 10, 50, 50], "label": "cup"}'] * 6) + "]"
    outcome = paste_on_item(store, item.id, looped, Reading("qwen2.5-vl"))
    assert LOOP_NOTE in outcome.warnings


def test_a_served_answer_with_logprobs_scores_the_unsure_box_lowest(store, tmp_path):
    item = store.add_item(store.create_dataset("d"), [write_image(tmp_path, 644, 476)])
    text = '[{"bbox_2d": [10, 10, 100, 100], "label": "cup"}, {"bbox_2d": [200, 10, 300, 100], "label": "cup"}]'
    weak = text.index("300")
    with FakeChatServer(lambda body: tokens_for(text, {weak})) as server:
        backend = OpenAICompatibleBackend("Qwen/Qwen2.5-VL-3B-Instruct", base_url=server.url, api_key="x",
                                          limits_style="none")
        outcome = run_on_item(store, backend, item.id, "Find cups.", limits=None)
    sure, unsure = outcome.item.annotations
    assert unsure.score == pytest.approx(0.2, abs=1e-3) and sure.score > 0.99
    _, (proposals,) = store.proposals(item.id)
    assert proposals[1].signals["logprob_min"] == pytest.approx(math.log(0.2))
    assert proposals[1].signals["error_max_px"] > proposals[0].signals["error_max_px"]


def test_agreement_records_each_boxs_iou_with_the_second_answer(store, tmp_path):
    item = store.add_item(store.create_dataset("d"), [write_image(tmp_path, 644, 476)])
    calls = []

    def answer(request, geometry):
        calls.append(request)
        if len(calls) == 1:
            return '[{"bbox_2d": [0, 0, 100, 100], "label": "a"}, {"bbox_2d": [300, 300, 400, 400], "label": "a"}]'
        # mirrored: the first box comes back where it should (x -> 644 - x), the second one is gone
        return '[{"bbox_2d": [544, 0, 644, 100], "label": "a"}]'

    outcome = run_on_item(store, FakeBackend(answer), item.id, "Find a.", limits=None, agreement="mirror")
    _, (proposals,) = store.proposals(item.id)
    assert [p.signals["agreement"] for p in proposals] == [1.0, 0.0]
    assert [a.score for a in outcome.item.annotations] == [1.0, 0.0]
    assert calls[1].images[0].size == (644, 476) and calls[1].logprobs == 0


def review(store, item):
    """The reviewer deletes the unsure box when it was wrong (every odd item) and accepts."""
    if store.proposals(item.id)[1][0][1].signals["logprob_min"] < -1:
        store.set_annotations(item.id, 1, [item.annotations[0].draft()])
    store.set_status(item.id, "accepted")


def test_a_dataset_calibrates_once_enough_items_are_reviewed(store, tmp_path):
    dataset = store.create_dataset("d")
    for n in range(MIN_REVIEWED_ITEMS + 5):
        item = store.add_item(dataset.id, [write_image(tmp_path, 200, 100, seed=n, name=f"{n}.png")])
        run = store.run(dataset.id, model="m", family="qwen2.5-vl", settings={})
        boxes = [((10, 10, 50, 50), -0.01), ((60, 10, 100, 50), -3.0 if n % 2 else -0.02)]
        drafts = [AnnotationDraft.box(c, "cup", provenance="model") for c, _ in boxes]
        store.record_proposals(run.id, item.id, [drafts], signals=[[{"logprob_min": lp, "logprobs": True}
                                                                   for _, lp in boxes]])
    items = store.items(dataset.id)
    for item in items[:3]:
        review(store, item)
    report = refit(store, dataset.id)
    assert not report.calibrated and report.reviewed_items == 3
    assert "not calibrated yet" in status_text(store, dataset.id)
    for item in items[3:MIN_REVIEWED_ITEMS]:
        review(store, item)
    report = refit(store, dataset.id)
    assert report.calibrated and report.reviewed_items == MIN_REVIEWED_ITEMS
    assert report.calibration.auroc is not None and report.calibration.auroc > 0.9
    assert dataset_calibration(store, dataset.id) is not None and "held-out AUROC" in status_text(store, dataset.id)
    scores = [[a.score for a in item.annotations] for item in store.items(dataset.id, statuses=["pre-annotated"])]
    assert len(scores) == 5 and all(s[0] > 0.8 for s in scores) and any(s[1] < 0.2 for s in scores)

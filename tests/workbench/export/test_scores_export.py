"""Exports carry a model box's score where the format has a place for one (COCO, Label Studio predictions)."""

from __future__ import annotations

from grounding import QWEN2_5_VL, PixelLimits
from tests.factories import write_image
from workbench.export.coco import to_coco
from workbench.export.labelstudio import to_tasks
from workbench.export.samples import export_samples
from workbench.export.settings import ExportSettings
from workbench.store import AnnotationDraft, DatasetStore


def _samples(tmp_path, status):
    with DatasetStore(tmp_path / "db.sqlite3") as store:
        item = store.add_item(store.create_dataset("d"), [write_image(tmp_path, 200, 100)])
        run = store.run(item.dataset_id, model="m", family="qwen2.5-vl", settings={})
        drafts = [AnnotationDraft.box((10, 10, 50, 50), "cup", provenance="model", score=0.42),
                  AnnotationDraft.box((60, 10, 90, 50), "cup", provenance="model", score=0.9)]
        store.record_proposals(run.id, item.id, [drafts])
        item = store.set_annotations(item.id, 1, [*store.item(item.id).annotations[:2],
                                                  AnnotationDraft.box((100, 10, 150, 60), "cup")])
        if status == "accepted":
            item = store.set_status(item.id, "accepted")
        return export_samples([store.item(item.id)])


def test_coco_annotations_carry_the_model_score(tmp_path):
    doc = to_coco(_samples(tmp_path, "accepted"), None)
    assert [a.get("score") for a in doc["annotations"]] == [0.42, 0.9, None]


def test_label_studio_predictions_carry_region_and_prediction_scores(tmp_path):
    (task,) = to_tasks(_samples(tmp_path, "pre-annotated"), ExportSettings(QWEN2_5_VL, PixelLimits.default_for(QWEN2_5_VL)))
    (prediction,) = task["predictions"]
    assert prediction["score"] == 0.42 and [r["score"] for r in prediction["result"]] == [0.42, 0.9]
    assert all("score" not in r for r in task["annotations"][0]["result"])

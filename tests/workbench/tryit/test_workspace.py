"""Workspace (the Try-it view): images, the last answer kept with its images, and one click into a dataset."""

from __future__ import annotations

import pytest
from PIL import Image

from grounding import PixelLimits, process_size
from workbench.store import DatasetStore
from workbench.tryit.image_set import ImageEntry, ImageSetError
from workbench.tryit.uploads import load_upload
from workbench.tryit.workspace import Workspace, WorkspaceError, save_to_dataset

CAT = '[{"bbox_2d": [322, 238, 644, 476], "label": "cat"}]'


def _ws(*names: str) -> Workspace:
    ws = Workspace()
    return ws.with_images(ws.images.add([ImageEntry.placeholder(n, (640, 480)) for n in names]))


def _labels(ws: Workspace, image_id: str) -> list[str]:
    return [d.label for d in ws.run.detections_for(image_id)]


def test_a_removed_images_id_and_detections_do_not_pass_to_a_new_image():
    ws = _ws("a.jpg", "b.jpg").with_output(CAT, target_image=1)
    assert _labels(ws, "img1") == ["cat"]
    ws = ws.with_images(ws.images.remove("img1"))
    ws = ws.with_images(ws.images.add([ImageEntry.placeholder("c.jpg", (640, 480))]))
    assert ws.images.ids == ("img2", "img3")
    assert _labels(ws, "img3") == []


def test_reordering_keeps_each_images_detections():
    ws = _ws("a.jpg", "b.jpg").with_output(CAT, target_image=2)
    ws = ws.with_images(ws.images.move("img2", -1))
    assert _labels(ws, "img2") == ["cat"] and _labels(ws, "img1") == []


def test_rename_with_spaces_keeps_detections():
    ws = _ws("a.jpg").with_output(CAT).rename("img1", "  front ")
    assert ws.images.ids == ("front",) and _labels(ws, "front") == ["cat"]
    with pytest.raises(ImageSetError):
        ws.rename("front", "bad id!")


def test_an_image_the_model_cannot_take_does_not_block_parsing_for_the_others():
    ws = Workspace()
    ws = ws.with_images(ws.images.add([ImageEntry.placeholder("thin.png", (6000, 20)),
                                       ImageEntry.placeholder("a.jpg", (640, 480))]))
    ws = ws.with_output('[{"bbox_2d": [322, 238, 644, 476], "label": "cat", "image": 1}]')
    assert _labels(ws, "img2") == ["cat"] and _labels(ws, "img1") == []
    assert any("img1 left out" in w and "aspect ratio" in w for w in ws.run.warnings)
    with pytest.raises(WorkspaceError, match="cannot take"):
        ws.geometries()


def test_a_run_leaves_images_it_did_not_see_alone():
    ws = _ws("a.jpg")
    sent = [(e.image_id, e.path) for e in ws.images]
    ws = ws.with_images(ws.images.add([ImageEntry.placeholder("b.jpg", (640, 480))]))
    ws = ws.with_output(CAT, sent=sent, images=[ws.geometries()[0]])
    assert _labels(ws, "img1") == ["cat"] and _labels(ws, "img2") == []


def _uploaded(tmp_path, *sizes):
    ws = Workspace()
    entries = []
    for n, wh in enumerate(sizes, 1):
        Image.new("RGB", wh).save(tmp_path / f"p{n}.png")
        entries.append(load_upload(tmp_path / f"p{n}.png", tmp_path / "display"))
    return ws.with_images(ws.images.add(entries))


def test_one_click_adds_each_image_as_a_pre_annotated_item_with_the_runs_provenance(tmp_path):
    ws = _uploaded(tmp_path, (640, 480), (300, 500))
    qwen3 = [process_size((640, 480), "qwen3-vl"), process_size((300, 500), "qwen3-vl")]
    limits = PixelLimits.default_for("qwen3-vl")
    ws = ws.with_output('[{"bbox_2d": [0, 0, 500, 500], "label": "cat", "image": 2}]', images=qwen3, model="m",
                        limits=limits)
    with DatasetStore(tmp_path / "db.sqlite3") as store:
        ids = save_to_dataset(store, ws, "pets")
        first, second = (store.item(i) for i in ids)
        assert (first.status, first.annotations) == ("pre-annotated", ())  # the model looked and found nothing
        assert second.status == "pre-annotated"
        (box,) = second.annotations
        assert box.coords == (0.0, 0.0, 150.0, 250.0)  # 0-1000 of 300 x 500
        assert (box.provenance, box.model, box.settings["family"], box.settings["max_pixels"]) == (
            "model", "m", "qwen3-vl", limits.max_pixels)
        assert [i.original_name for i in second.images] == ["p2.png"]


def test_together_makes_one_multi_image_item(tmp_path):
    ws = _uploaded(tmp_path, (640, 480), (300, 500)).with_output(
        '[{"bbox_2d": [322, 238, 644, 476], "label": "cat", "image": 1}]')
    with DatasetStore(tmp_path / "db.sqlite3") as store:
        (item_id,) = save_to_dataset(store, ws, "pets", together=True)
        item = store.item(item_id)
        assert [i.image_id for i in item.images] == ["img1", "img2"]
        assert [(a.label, a.coords) for a in item.images[0].annotations] == [("cat", (320.0, 240.0, 640.0, 480.0))]


def test_an_output_pasted_for_one_picture_of_five_pre_annotates_that_one_only(tmp_path):
    ws = _uploaded(tmp_path, *[(640, 480)] * 5).with_output(CAT, target_image=3)
    with DatasetStore(tmp_path / "db.sqlite3") as store:
        items = [store.item(i) for i in save_to_dataset(store, ws, "pets")]
        assert [i.status for i in items] == ["new", "new", "pre-annotated", "new", "new"]
        assert [len(i.annotations) for i in items] == [0, 0, 1, 0, 0]
        assert [i.id for i in store.items("pets", statuses=["new"])] == [items[n].id for n in (0, 1, 3, 4)]

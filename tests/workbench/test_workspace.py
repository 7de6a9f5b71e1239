"""Workspace: one user's images, results and edits, kept consistent when images change."""

from __future__ import annotations

import pytest

from workbench.box_history import EditorBox
from workbench.image_set import ImageEntry, ImageSetError
from workbench.workspace import Workspace

CAT = '[{"bbox_2d": [322, 238, 644, 476], "label": "cat"}]'


def _ws(*names: str) -> Workspace:
    ws = Workspace()
    return ws.with_images(ws.images.add([ImageEntry.placeholder(n, (640, 480)) for n in names]))


def test_a_removed_images_id_and_detections_do_not_pass_to_a_new_image():
    ws = _ws("a.jpg", "b.jpg").with_output(CAT, target_image=1)
    assert [b.label for b in ws.model_boxes("img1")] == ["cat"]
    ws = ws.with_images(ws.images.remove("img1"))
    ws = ws.with_images(ws.images.add([ImageEntry.placeholder("c.jpg", (640, 480))]))
    assert ws.images.ids == ("img2", "img3")
    assert ws.model_boxes("img3") == () and ws.boxes("img3") == ()


def test_reordering_keeps_each_images_detections():
    ws = _ws("a.jpg", "b.jpg").with_output(CAT, target_image=2)
    ws = ws.with_images(ws.images.move("img2", -1))
    assert [b.label for b in ws.model_boxes("img2")] == ["cat"] and ws.model_boxes("img1") == ()


def test_rename_with_spaces_keeps_edits_and_detections():
    ws = _ws("a.jpg").with_output(CAT)
    ws = ws.edit("img1", [EditorBox("dog", (1, 2, 3, 4))]).accept("img1")
    ws = ws.rename("img1", "  front ")
    assert ws.images.ids == ("front",)
    assert ws.boxes("front") == (EditorBox("dog", (1, 2, 3, 4)),)
    assert [b.label for b in ws.model_boxes("front")] == ["cat"]
    assert ws.accepted["front"] == (EditorBox("dog", (1, 2, 3, 4)),)
    with pytest.raises(ImageSetError):
        ws.rename("front", "bad id!")


def test_a_new_run_keeps_earlier_edits_undoable():
    ws = _ws("a.jpg").with_output(CAT)
    assert ws.history("img1").can_undo is False  # untouched: starts from the model's boxes
    ws = ws.edit("img1", [EditorBox("dog", (1, 2, 3, 4))])
    ws = ws.with_output('[{"bbox_2d": [0, 0, 10, 10], "label": "bird"}]')
    assert [b.label for b in ws.boxes("img1")] == ["bird"]
    assert [b.label for b in ws.undo("img1").boxes("img1")] == ["dog"]


def test_region_text_in_each_familys_own_coordinates():
    ws = _ws("a.jpg")
    assert ws.region_text("img1", (320, 240, 640, 480)) == "[322, 238, 644, 476]"
    qwen2 = ws.with_settings("qwen2-vl", ws.limits)
    assert qwen2.region_text("img1", (320, 240, 640, 480)) == "<|box_start|>(500,500),(1000,1000)<|box_end|>"


def test_boxes_beyond_the_image_are_edited_and_saved_clamped():
    ws = _ws("a.jpg").with_output('[{"bbox_2d": [-20, 100, 700, 500], "label": "table"}]')
    assert ws.result.detections[0].outside
    assert ws.boxes("img1") == (EditorBox("table", (0.0, 100 * 480 / 476, 640.0, 480.0)),)


def test_save_accepted_keeps_identical_boxes_and_provenance(tmp_path):
    from PIL import Image

    from workbench.dataset_session import save_accepted
    from workbench.store import DatasetStore
    from workbench.uploads import load_upload

    Image.new("RGB", (640, 480)).save(tmp_path / "a.png")
    store = DatasetStore(tmp_path / "db.sqlite3")
    store.create_dataset("d")
    ws = Workspace()
    ws = ws.with_images(ws.images.add([load_upload(tmp_path / "a.png", tmp_path / "display")]))
    ws = ws.with_output('[{"bbox_2d": [322, 238, 644, 476], "label": "cat"}]')
    twin = EditorBox("sock", (1, 2, 30, 40))
    ws = ws.edit("img1", [*ws.boxes("img1"), twin, twin])
    ws, message = save_accepted(store, ws, "img1", "d", prompt="p")
    saved = store.sample(ws.sample_id).images[0].annotations
    assert sorted((a.label, a.provenance) for a in saved) == [("cat", "model"), ("sock", "human"), ("sock", "human")]
    ws = ws.edit("img1", [twin])
    ws, _ = save_accepted(store, ws, "img1", "d")
    assert [(a.label, a.coords) for a in store.sample(ws.sample_id).images[0].annotations] == [("sock", (1, 2, 30, 40))]
    assert len(store.samples("d")) == 1

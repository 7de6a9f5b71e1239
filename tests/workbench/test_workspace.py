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


def test_removing_the_last_image_does_not_free_its_id_or_its_accepted_boxes():
    ws = _ws("a.jpg", "b.jpg")
    ws = ws.edit("img2", [EditorBox("cat", (1, 1, 9, 9))]).accept("img2")
    ws = ws.with_images(ws.images.remove("img2"))
    ws = ws.with_images(ws.images.add([ImageEntry.placeholder("c.jpg", (640, 480))]))
    assert ws.images.ids == ("img1", "img3")
    assert "img2" not in ws.accepted and ws.accepted.get("img3") is None


def test_a_run_leaves_images_it_did_not_see_alone():
    from workbench.session_run import FinishedRun  # noqa: F401  (the UI path; here the same rule via sent=)

    ws = _ws("a.jpg")
    sent = [(e.image_id, e.path) for e in ws.images]
    ws = ws.with_images(ws.images.add([ImageEntry.placeholder("b.jpg", (640, 480))]))
    ws = ws.edit("img2", [EditorBox("dog", (1, 1, 5, 5))]).edit("img2", [EditorBox("dog", (2, 2, 6, 6))])
    ws = ws.with_output(CAT, sent=sent, images=[ws.geometries()[0]])
    assert [b.label for b in ws.boxes("img1")] == ["cat"]
    assert ws.boxes("img2") == (EditorBox("dog", (2, 2, 6, 6)),)


def test_editor_round_trip_keeps_near_duplicate_boxes_apart():
    from workbench.editor import annotator_value, boxes_from_annotator

    entry = ImageEntry("img1", "big.jpg", "big.jpg", (4000, 3000), "big_small.jpg", (1600, 1200))
    boxes = [EditorBox("cat", (100, 100, 500, 500)), EditorBox("cat", (101, 101, 501, 501))]
    value = annotator_value(entry, boxes)
    for box in value["boxes"]:  # the component hands back whole display pixels
        box.update({k: round(box[k]) for k in ("xmin", "ymin", "xmax", "ymax")})
    assert boxes_from_annotator(value, entry, boxes) == boxes


def _saved_store(tmp_path):
    from PIL import Image

    from workbench.store import DatasetStore
    from workbench.uploads import load_upload

    for name in ("a.png", "b.png"):
        Image.new("RGB", (640, 480)).save(tmp_path / name)
    store = DatasetStore(tmp_path / "db.sqlite3")
    store.create_dataset("d")
    ws = Workspace()
    ws = ws.with_images(ws.images.add([load_upload(tmp_path / n, tmp_path / "display") for n in ("a.png", "b.png")]))
    return store, ws


def test_renaming_after_an_accept_renames_the_stored_image_in_the_same_sample(tmp_path):
    from workbench.dataset_session import save_accepted

    store, ws = _saved_store(tmp_path)
    ws = ws.with_output(CAT, target_image=1)
    ws, _ = save_accepted(store, ws, "img1", "d")
    ws = ws.rename("img2", "dog").edit("dog", [EditorBox("dog", (5, 5, 50, 50))])
    ws, _ = save_accepted(store, ws, "dog", "d")
    samples = store.samples("d")
    assert len(samples) == 1
    assert [(i.image_id, [a.label for a in i.annotations]) for i in samples[0].images] == [
        ("img1", ["cat"]), ("dog", ["dog"])]
    store.undo(samples[0].id)  # the dog box
    store.undo(samples[0].id)  # the rename
    assert [i.image_id for i in store.sample(samples[0].id).images] == ["img1", "img2"]


def test_a_new_sample_gets_every_accepted_image(tmp_path):
    from PIL import Image

    from workbench.dataset_session import save_accepted
    from workbench.uploads import load_upload

    store, ws = _saved_store(tmp_path)
    ws = ws.with_output(CAT, target_image=1)
    ws, _ = save_accepted(store, ws, "img1", "d")
    Image.new("RGB", (320, 240), (9, 9, 9)).save(tmp_path / "c.png")
    ws = ws.with_images(ws.images.add([load_upload(tmp_path / "c.png", tmp_path / "display")]))  # a new request
    ws = ws.edit("img3", [EditorBox("dog", (5, 5, 50, 50))])
    ws, _ = save_accepted(store, ws, "img3", "d")
    assert len(store.samples("d")) == 2
    newest = store.samples("d")[-1]
    assert [(i.image_id, [a.label for a in i.annotations]) for i in newest.images] == [
        ("img1", ["cat"]), ("img2", []), ("img3", ["dog"])]


def test_reordering_after_an_accept_reorders_the_stored_sample(tmp_path):
    from workbench.dataset_session import save_accepted

    store, ws = _saved_store(tmp_path)
    ws = ws.with_output(CAT, target_image=1)
    ws, _ = save_accepted(store, ws, "img1", "d")
    ws = ws.with_images(ws.images.move("img2", -1)).edit("img2", [EditorBox("dog", (5, 5, 50, 50))])
    ws, _ = save_accepted(store, ws, "img2", "d")
    samples = store.samples("d")
    assert len(samples) == 1
    assert [(i.image_id, [a.label for a in i.annotations]) for i in samples[0].images] == [
        ("img2", ["dog"]), ("img1", ["cat"])]
    store.undo(samples[0].id)  # the dog box
    store.undo(samples[0].id)  # the new order
    assert [i.image_id for i in store.sample(samples[0].id).images] == ["img1", "img2"]


def test_model_provenance_records_the_family_and_limits_the_model_ran_with(tmp_path):
    from grounding import PixelLimits, process_size
    from workbench.dataset_session import save_accepted

    store, ws = _saved_store(tmp_path)
    qwen3 = [process_size((640, 480), "qwen3-vl"), process_size((640, 480), "qwen3-vl")]
    limits = PixelLimits.default_for("qwen3-vl")
    ws = ws.with_output('[{"bbox_2d": [0, 0, 500, 500], "label": "cat"}]', images=qwen3, model="m", limits=limits)
    ws, _ = save_accepted(store, ws, "img1", "d")
    saved = store.samples("d")[0].images[0].annotations[0]
    assert (saved.provenance, saved.model, saved.settings["family"]) == ("model", "m", "qwen3-vl")
    assert (saved.settings["min_pixels"], saved.settings["max_pixels"]) == (limits.min_pixels, limits.max_pixels)

"""Model answers on dataset items: geometry, image IDs, labels the model forgot, provenance."""

from __future__ import annotations

import pytest
from PIL import Image

from workbench.backends.fake import FakeBackend
from workbench.run_settings import Reading
from workbench.runs.items import paste_on_item, run_on_item
from workbench.store import DatasetStore, ImageSource


@pytest.fixture
def store(tmp_path):
    Image.new("RGB", (640, 480)).save(tmp_path / "a.png")
    Image.new("RGB", (300, 500)).save(tmp_path / "b.png")
    with DatasetStore(tmp_path / "db.sqlite3") as store:
        store.add_item(store.create_dataset("d"), [ImageSource(tmp_path / "a.png", "img10"),
                                                    ImageSource(tmp_path / "b.png", "img2")])
        yield store


def test_an_answer_naming_an_image_by_id_lands_on_that_image_not_on_its_digits(store):
    text = '[{"bbox_2d": [0, 0, 100, 100], "label": "cat", "image": "img10"}]'
    outcome = paste_on_item(store, 1, text, Reading("qwen2.5-vl"))
    first, second = outcome.item.images
    assert [a.label for a in first.annotations] == ["cat"] and second.annotations == ()


def test_a_box_without_a_label_is_kept_named_after_the_target_and_said_so(store):
    outcome = paste_on_item(store, 1, '[{"bbox_2d": [322, 238, 644, 476]}]', Reading("qwen2.5-vl"),
                            target_image=1, fallback_label="cat")
    (box,) = outcome.item.annotations
    assert (box.label, box.attributes.get("label_missing")) == ("cat", True)
    assert any("came without a label and were named 'cat'" in w for w in outcome.warnings)


def test_a_box_outside_the_image_is_clamped_and_marked(store):
    outcome = paste_on_item(store, 1, '[{"bbox_2d": [600, 400, 900, 700], "label": "x"}]',
                            Reading("qwen2.5-vl"), target_image=1)
    (box,) = outcome.item.annotations
    assert box.coords[2:] == (640.0, 480.0) and box.attributes["outside"] is True
    assert outcome.warnings == ("1 box(es)/point(s) reaching beyond their image were clamped into it (the model's "
                                "coordinates are kept with each)",)


def test_one_box_beyond_its_image_and_one_wholly_outside_are_each_said_once(store):
    text = '[{"bbox_2d": [600, 400, 900, 700], "label": "x"}, {"bbox_2d": [700, 500, 800, 600], "label": "y"}]'
    outcome = paste_on_item(store, 1, text, Reading("qwen2.5-vl"), target_image=1)
    assert [a.label for a in outcome.item.annotations] == ["x"]
    assert outcome.warnings == ("1 box(es)/point(s) reaching beyond their image were clamped into it (the model's "
                                "coordinates are kept with each)",
                                "1 box(es) lay wholly outside their image and were left out")


def test_a_dataset_that_names_extra_coordinate_keys_reads_answers_under_them_pasted_or_run(store):
    store.update_dataset_settings(1, {"coordinate_keys": ["position"]})
    settings = Reading.from_dataset(store.dataset_settings(1))
    assert settings.coordinate_keys == ("position",)
    answer = '[{"position": [0, 0, 322, 238], "label": "cup"}]'
    assert paste_on_item(store, 1, answer, Reading("qwen2.5-vl"), target_image=1).item.annotations == ()
    pasted = paste_on_item(store, 1, answer, settings, target_image=1)
    assert [a.label for a in pasted.item.annotations] == ["cup"]

    backend = FakeBackend(lambda request, images: answer, family="qwen2.5-vl")
    ran = run_on_item(store, backend, 1, "Find the cup; give its position.", limits=settings.limits,
                      coordinate_keys=settings.coordinate_keys)
    assert [a.label for a in ran.item.images[0].annotations][-1:] == ["cup"]
    run, _ = store.proposals(1)  # the item's latest run records the keys it was read with
    assert run is not None and run.model == "fake" and run.settings["coordinate_keys"] == ["position"]


def test_coordinate_keys_written_by_hand_that_make_no_sense_read_as_none():
    assert Reading.from_dataset({"coordinate_keys": [3, ""]}).coordinate_keys == ()
    assert Reading.from_dataset({"coordinate_keys": "position, loc"}).coordinate_keys == ("position", "loc")

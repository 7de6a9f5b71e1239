"""Model answers on dataset items: geometry, image IDs, labels the model forgot, provenance."""

from __future__ import annotations

import pytest
from PIL import Image

from workbench.runs.items import ReviewSettings, paste_on_item
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
    outcome = paste_on_item(store, 1, text, ReviewSettings("qwen2.5-vl"))
    first, second = outcome.item.images
    assert [a.label for a in first.annotations] == ["cat"] and second.annotations == ()


def test_a_box_without_a_label_is_kept_named_after_the_target_and_said_so(store):
    outcome = paste_on_item(store, 1, '[{"bbox_2d": [322, 238, 644, 476]}]', ReviewSettings("qwen2.5-vl"),
                            target_image=1, fallback_label="cat")
    (box,) = outcome.item.annotations
    assert (box.label, box.attributes.get("label_missing")) == ("cat", True)
    assert any("came without a label and were named 'cat'" in w for w in outcome.warnings)


def test_a_box_outside_the_image_is_clamped_and_marked(store):
    outcome = paste_on_item(store, 1, '[{"bbox_2d": [600, 400, 900, 700], "label": "x"}]',
                            ReviewSettings("qwen2.5-vl"), target_image=1)
    (box,) = outcome.item.annotations
    assert box.coords[2:] == (640.0, 480.0) and box.attributes["outside"] is True

"""The multi-image tools on dataset items: known answers through the same code paths, stored as a run's proposals."""

from __future__ import annotations

import json

import pytest

from grounding import to_model
from grounding.canvas import plan_canvas
from tests.factories import write_image
from workbench.backends import FakeBackend
from workbench.errors import WorkbenchError
from workbench.multi.items import (
    canvas_on_item,
    preview_item,
    probe_item,
    record_tool_run,
    steps_on_item,
    tiles_on_item,
)
from workbench.store import AnnotationDraft, DatasetStore


@pytest.fixture
def store(tmp_path):
    with DatasetStore(tmp_path / "db.sqlite3", images_dir=tmp_path / "images") as store:
        yield store


@pytest.fixture
def pair(store, tmp_path):
    """A two-picture item: front 640 x 480, back 300 x 500."""
    front = write_image(tmp_path, 640, 480, name="front.png")
    back = write_image(tmp_path, 300, 500, fmt="JPEG", name="back.jpg", seed=2)
    return store.add_item(store.create_dataset("pairs"), [front, back])


def box_on(geometry, box) -> str:
    return json.dumps([{"bbox_2d": [float(v) for v in to_model(box, geometry)], "label": "thing"}])


def test_a_canvas_answer_lands_on_the_picture_it_covers_in_that_pictures_pixels(store, pair):
    layout = plan_canvas([(640, 480), (300, 500)], "h")
    second = layout.placements[1]
    x, y = second.offset_xy
    w, h = second.placed_wh
    backend = FakeBackend(lambda request, geometry: box_on(geometry[0], (x + 2, y + 2, x + w - 2, y + h - 2)))
    result, outcome = canvas_on_item(store, backend, pair.id, target="thing", layout="h")
    assert outcome.applied and outcome.detections == 1
    assert [len(image.annotations) for image in outcome.item.images] == [0, 1]
    (annotation,) = outcome.item.images[1].annotations
    sx, sy = second.scale_xy
    assert annotation.coords == pytest.approx((2 / sx, 2 / sy, 300 - 2 / sx, 500 - 2 / sy), abs=1.5)
    run, proposals = store.proposals(pair.id)
    assert run.settings["tool"] == "canvas" and run.settings["layout"] == "h" and run.settings["target"] == "thing"
    assert [len(p) for p in proposals] == [0, 1]
    assert str(pair.images[0].file.parent.parent) not in json.dumps(result)  # the item's IDs, not the data folder's
    assert [s["file"] for s in result["layout"]["sources"]] == [i.image_id for i in pair.images]


def test_work_by_hand_is_kept_and_the_tools_boxes_wait_beside_it(store, pair):
    human = AnnotationDraft("box", (10, 10, 50, 50), "mine", "human")
    store.set_annotations(pair.id, 1, [human])
    def answer(request, geometry):
        return box_on(geometry[-1], (0, 0, *geometry[-1].original_wh))
    _, outcome = steps_on_item(store, FakeBackend(answer), pair.id, target="thing")
    assert not outcome.applied
    assert [(a.label, a.provenance) for a in outcome.item.annotations] == [("mine", "human")]
    run, proposals = store.proposals(pair.id)
    assert run.settings["tool"] == "steps" and run.settings["naming"] == "picture"
    assert [[p.coords for p in per] for per in proposals] == [[(0.0, 0.0, 640.0, 480.0)], [(0.0, 0.0, 300.0, 500.0)]]


def test_steps_text_keeps_every_turn(store, pair):
    def answer(request, geometry):
        return f"turn with {len(geometry)} picture(s): []"
    steps_on_item(store, FakeBackend(answer), pair.id, prompt="Find the cups.")
    run, _ = store.proposals(pair.id)
    text, _, error = store.run_text(run.id, pair.id)
    ids = [i.image_id for i in pair.images]
    assert f"--- turn 1 ({ids[0]}) ---\nturn with 1 picture(s)" in text and f"turn 2 ({ids[1]})" in text
    assert run.settings["prompt"] == "Find the cups." and run.settings["target"] is None and error == ""


def test_tiles_are_for_one_picture_items(store, pair, tmp_path):
    with pytest.raises(WorkbenchError, match="tiles are for an item of one picture; this one has 2"):
        tiles_on_item(store, FakeBackend(lambda r, g: "[]"), pair.id, target="car")
    wide = store.add_item("pairs", [write_image(tmp_path, 2000, 500, name="wide.png")])
    def answer(request, geometry):
        return box_on(geometry[0], (10, 10, 60, 60))
    result, outcome = tiles_on_item(store, FakeBackend(answer), wide.id, target="car", tile_max_pixels=250_000,
                                    compare=True)
    assert result["plan"]["grid"] == [5, 1] and outcome.detections == len(result["detections"]) == 5
    offsets = sorted(a.coords[0] - 10 for a in outcome.item.annotations)
    assert offsets == pytest.approx(sorted(t["offset"][0] for t in result["tiles"]), abs=1.0)
    run, _ = store.proposals(wide.id)
    assert run.settings["tool"] == "tiles" and run.settings["tile_max_pixels"] == 250_000
    text, _, _ = store.run_text(run.id, wide.id)
    assert text.count("--- tile ") == 5 and "the whole image in one pass" in text


def test_the_probe_runs_on_the_items_ids_and_stores_nothing(store, pair, tmp_path):
    backend = FakeBackend(lambda request, geometry: '[{"bbox_2d": [0, 0, 28, 28], "label": "x", "image": 1}]')
    result = probe_item(store, backend, pair.id, target="x", naming="picture")
    ids = [i.image_id for i in pair.images]
    assert result["image_ids"] == ids and result["orders"] == [[1, 2], [2, 1]]
    assert [image["counts"] for image in result["images"]] == [[1, 0], [0, 1]]
    assert [[row["file"] for row in a["images"]] for a in result["answers"]] == [ids, ids[::-1]]
    assert store.proposals(pair.id)[0] is None
    single = store.add_item("pairs", [write_image(tmp_path, 64, 64, name="one.png")])
    with pytest.raises(WorkbenchError, match="at least two pictures"):
        probe_item(store, backend, single.id, target="x")


def test_the_preview_names_pictures_by_their_ids(store, pair):
    view = preview_item(store, FakeBackend(lambda r, g: ""), pair.id, target="cat", naming="ids")
    ids = [i.image_id for i in pair.images]
    parts = [p.get("text") for p in view["messages"][0]["content"] if p.get("type") == "text"]
    assert parts[:2] == [f"{ids[0]}: ", f"{ids[1]}: "] and f'"{ids[0]}"' in view["prompt"]
    with pytest.raises(WorkbenchError, match="say what to find"):
        preview_item(store, FakeBackend(lambda r, g: ""), pair.id)


def test_a_detection_on_no_picture_of_the_item_is_left_out_with_a_warning(store, pair):
    result = {"model": "m", "family": "qwen2.5-vl", "text": "", "warnings": [], "detections": [
        {"kind": "box", "label": "a", "image": 2, "model": [0, 0, 5, 5], "original": [0, 0, 5, 5], "outside": False},
        {"kind": "box", "label": "b", "image": 3, "model": [0, 0, 5, 5], "original": [0, 0, 5, 5], "outside": False},
    ]}
    outcome = record_tool_run(store, pair.id, result, tool="canvas", settings={})
    assert outcome.detections == 1 and any("named no image of the item" in w for w in outcome.warnings)
    with pytest.raises(WorkbenchError, match="tool must be one of"):
        record_tool_run(store, pair.id, result, tool="probe", settings={})

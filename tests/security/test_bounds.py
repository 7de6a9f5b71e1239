"""Issue 20, item 8: boxes, labels and names are bounded where they enter, with a message.

100 000 boxes in one editor gesture, a 10 MB label, a million boxes through a CLI import, a NUL in a
name: refused (a person's input) or cut with a warning (a model's answer), and the export still works.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from grounding import process_size
from grounding.display import DisplayScale
from grounding.parse import parse_grounding
from tests.factories import write_image
from ui.box_editor import drafts_from_value
from workbench.cli import app
from workbench.errors import StoreError
from workbench.export import ExportSettings, export_dataset
from workbench.runs.items import drafts_from
from workbench.store import AnnotationDraft, DatasetStore
from workbench.store.bounds import MAX_ANNOTATIONS_PER_IMAGE, MAX_LABEL_CHARS


@pytest.fixture
def store(tmp_path):
    with DatasetStore(tmp_path / "db.sqlite3") as opened:
        yield opened


@pytest.fixture
def item(store, tmp_path):
    return store.add_item(store.create_dataset("pets"), [write_image(tmp_path, 640, 480, name="cat.png")])


def test_an_editor_gesture_with_100k_boxes_is_refused_before_any_draft_is_made(item):
    shapes = [{"kind": "box", "label": "cat", "c": [1, 1, 5, 5]}] * 100_000
    with pytest.raises(StoreError, match="picture 1 would carry 100000 boxes/points; one picture may carry at most"):
        drafts_from_value({"shapes": shapes}, DisplayScale((640, 480), (640, 480)), {})


def test_the_store_refuses_more_boxes_than_a_picture_may_carry(store, item):
    drafts = [AnnotationDraft.box((1, 1, 5, 5), "cat")] * (MAX_ANNOTATIONS_PER_IMAGE + 1)
    with pytest.raises(StoreError, match="at most 5000"):
        store.set_annotations(item.id, 1, drafts)
    assert store.item(item.id).annotations == ()


@pytest.mark.parametrize("enter", ["editor", "label set", "rename"])
def test_a_10mb_label_is_refused_in_words(store, item, enter):
    huge = "x" * (10 << 20)
    store.add_label(item.dataset_id, "cat")
    with pytest.raises(StoreError, match=f"a label is at most {MAX_LABEL_CHARS} characters"):
        if enter == "editor":
            drafts_from_value({"shapes": [{"kind": "box", "label": huge, "c": [1, 1, 5, 5]}]},
                              DisplayScale((640, 480), (640, 480)), {})
        elif enter == "label set":
            store.add_label(item.dataset_id, huge)
        else:
            store.rename_label(item.dataset_id, "cat", huge)
    assert [label.name for label in store.labels(item.dataset_id)] == ["cat"]


def test_the_largest_answer_the_parser_keeps_fits_the_store(store, item):
    label = "y" * 400
    boxes = [f'{{"bbox_2d": [{n % 600}, {n // 600}, {n % 600 + 9}, {n // 600 + 9}], "label": "{label[:n % 401]}"}}'
             for n in range(MAX_ANNOTATIONS_PER_IMAGE + 8)]
    parsed = parse_grounding("[" + ",".join(boxes) + "]", "qwen2.5-vl", process_size((640, 480), "qwen2.5-vl"))
    per_image, _ = drafts_from(parsed, [(640, 480)])
    assert 0 < len(per_image[0]) <= MAX_ANNOTATIONS_PER_IMAGE
    assert all(len(d.label) <= MAX_LABEL_CHARS for d in per_image[0])
    run = store.run(item.dataset_id, model="m", family="qwen2.5-vl", settings={})
    updated, applied = store.record_proposals(run.id, item.id, per_image)
    assert applied and len(updated.annotations) == len(per_image[0])


def test_a_cli_import_with_too_many_boxes_says_so_and_adds_no_item(tmp_path):
    source = tmp_path / "yolo"
    (source / "images").mkdir(parents=True)
    (source / "labels").mkdir()
    write_image(source / "images", 64, 48, name="a.png")
    (source / "classes.txt").write_text("cat\n")
    (source / "labels" / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n" * (MAX_ANNOTATIONS_PER_IMAGE + 1))
    done = CliRunner().invoke(app, ["import", "yolo", "ds", str(source), "--data-dir", str(tmp_path / "data")])
    assert done.exit_code == 1
    assert "one picture may carry at most 5000" in done.output
    with DatasetStore.open(tmp_path / "data") as store:
        assert all(store.items(d.id) == [] for d in store.list_datasets(owner=None))


def test_a_nul_in_a_dataset_name_is_refused(store):
    with pytest.raises(StoreError, match="control characters"):
        store.create_dataset("cats\x00dogs")


def test_a_nul_in_a_file_name_is_cleaned_and_the_export_works(store, tmp_path):
    from workbench.store import ImageSource

    source = write_image(tmp_path, 64, 48, name="plain.png")
    blob = store.blobs.put_file(source)
    record = store.create_dataset("pets")
    item = store.add_item_blobs(record.id, [(ImageSource("ca\x00t.png", "cat"), blob)],
                                annotations=[[AnnotationDraft.box((1, 1, 9, 9), "cat")]], status="accepted")
    assert item.images[0].original_name == "ca t.png"
    result = export_dataset(store, record.id, "coco", ExportSettings.create("qwen2.5-vl"), tmp_path / "out")
    assert result.zip_path.is_file()

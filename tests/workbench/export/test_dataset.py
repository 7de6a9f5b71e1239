"""export_dataset: errors lose nothing, earlier exports stay unless overwritten."""

from __future__ import annotations

import pytest

from workbench.errors import ExportError, StoreError
from workbench.export import ExportSettings, export_dataset

SETTINGS = ExportSettings.create("qwen2.5-vl")


def test_existing_export_is_kept_unless_overwrite(demo_store, tmp_path):
    first = export_dataset(demo_store, "demo", "coco", SETTINGS, tmp_path)
    marker = first.folder / "keep.txt"
    marker.write_text("mine")
    with pytest.raises(ExportError, match="already exists"):
        export_dataset(demo_store, "demo", "coco", SETTINGS, tmp_path)
    assert marker.read_text() == "mine"
    again = export_dataset(demo_store, "demo", "coco", SETTINGS, tmp_path, overwrite=True)
    assert not marker.exists() and again.zip_path.is_file()


@pytest.mark.parametrize(("dataset", "fmt", "error", "message"), [
    pytest.param("demo", "tfrecord", ExportError, "unknown export format 'tfrecord'", id="unknown-format"),
    pytest.param("nope", "coco", StoreError, "no dataset 'nope'", id="unknown-dataset"),
    pytest.param("empty", "coco", ExportError, "has no accepted items to export", id="empty-dataset"),
])
def test_bad_requests_write_nothing(demo_store, tmp_path, dataset, fmt, error, message):
    if dataset == "empty" and "empty" not in {d.name for d in demo_store.list_datasets()}:
        demo_store.create_dataset("empty")
    with pytest.raises(error, match=message):
        export_dataset(demo_store, dataset, fmt, SETTINGS, tmp_path / "out")
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_a_failing_validation_leaves_no_folder(demo_store, tmp_path, monkeypatch):
    from workbench.export import registry

    fmt = registry.FORMATS["swift"]
    monkeypatch.setitem(registry.FORMATS, "swift", type(fmt)(fmt.name, fmt.title, fmt.multi_image, fmt.coordinates,
                                                              fmt.write, lambda folder, settings: ["broken on purpose"]))
    with pytest.raises(ExportError, match="would not load in its trainer:\n  broken on purpose"):
        export_dataset(demo_store, "demo", "swift", SETTINGS, tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("options", "message"), [
    pytest.param({"min_pixels": 5000, "max_pixels": 4000}, "larger than max_pixels", id="min-over-max"),
    pytest.param({"statuses": ("approved",)}, "item statuses to export must be some of", id="bad-status"),
    pytest.param({"vlmr1_task": "vqa"}, "rec' or 'ovd", id="bad-task"),
])
def test_bad_settings_are_export_errors(options, message):
    with pytest.raises(ExportError, match=message):
        ExportSettings.create("qwen2.5-vl", **options)

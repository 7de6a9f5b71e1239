"""Round trips: COCO export -> import gives the same boxes; own format -> import gives the same dataset."""

from __future__ import annotations

from workbench.export import ExportSettings, export_dataset
from workbench.importers import import_coco, import_workbench
from workbench.store import DatasetStore


def _content(store, name):
    """A dataset without its database ids: prompt, images (id, bytes hash, size), annotations."""
    return [(s.prompt, [(i.image_id, i.sha256, i.wh, i.original_name,
                         [(a.kind, a.coords, a.label, a.provenance, a.model, dict(a.settings),
                           dict(a.attributes)) for a in i.annotations]) for i in s.images], s.status)
            for s in store.items(name, statuses=["accepted"])]


def test_coco_export_then_import_gives_identical_boxes(demo_store, tmp_path):
    result = export_dataset(demo_store, "demo", "coco", ExportSettings.create("qwen2.5-vl"), tmp_path / "out")
    with DatasetStore(tmp_path / "other" / "workbench.sqlite3") as other:
        report = import_coco(other, "back", result.folder / "annotations.json", result.folder / "images")
        imported = [[(i.image_id, [(a.label, a.coords) for a in i.annotations]) for i in s.images]
                    for s in other.items("back")]
        assert report.annotations == 5
    exported = [[(i.image_id, [(a.label, tuple(min(max(v, 0.0), float(i.wh[k % 2])) for k, v in enumerate(a.coords)))
                               for a in i.annotations if a.kind == "box"]) for i in s.images]
                for s in demo_store.items("demo", statuses=["accepted"])]
    assert imported == exported  # the same samples, pictures in order, IDs, boxes to the bit


def test_own_format_export_then_import_gives_identical_dataset(demo_store, tmp_path):
    result = export_dataset(demo_store, "demo", "workbench", ExportSettings.create("qwen2.5-vl"), tmp_path / "out")
    with DatasetStore(tmp_path / "other" / "workbench.sqlite3") as other:
        report = import_workbench(other, result.folder)
        assert report.dataset == "demo" and len(report.items) == 3
        assert _content(other, "demo") == _content(demo_store, "demo")
        # and a second copy next to it under another name
        import_workbench(other, result.folder, name="demo-copy")
        assert _content(other, "demo-copy") == _content(demo_store, "demo")

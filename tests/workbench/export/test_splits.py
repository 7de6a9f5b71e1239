"""Exports by split: ``--split`` chooses, and items with splits are written one complete export per split folder
(trainer formats one data file per split, COCO one file per split, YOLO one data.yaml naming train/val with one
class list); the workbench format keeps each item's split and brings it back."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml
from typer.testing import CliRunner

from tests.workbench.store_data import build_demo
from workbench.cli import app
from workbench.errors import ExportError
from workbench.export import FORMAT_NAMES, ExportSettings, export_dataset
from workbench.export.registry import get_format
from workbench.importers import import_workbench
from workbench.store import DatasetStore

SETTINGS = ExportSettings.create("qwen2.5-vl", created_at="2026-01-01T00:00:00+00:00")


@pytest.fixture(scope="module")
def split_store(tmp_path_factory):
    """The demo dataset (three accepted items: the bowl, a two-image item, the chair) split train/train/val."""
    root = tmp_path_factory.mktemp("split-store")
    with DatasetStore(root / "data" / "workbench.sqlite3") as store:
        build_demo(store, root / "sources")
        ids = store.item_ids("demo")
        store.set_split("demo", ids[:2], "train")
        store.set_split("demo", ids[2:], "val")
        yield store


@pytest.mark.parametrize("fmt", [f for f in FORMAT_NAMES if f != "workbench"])
def test_each_split_is_a_complete_export_of_its_own(split_store, tmp_path, fmt):
    result = export_dataset(split_store, "demo", fmt, SETTINGS, tmp_path)
    manifest = result.manifest
    assert manifest["layout"] == "one folder per split" and list(manifest["splits"]) == ["train", "val"]
    for split in ("train", "val"):
        part = result.folder / split
        assert json.loads((part / "manifest.json").read_text())["split"] == split
        assert get_format(fmt).validate(part, SETTINGS) == []  # it loads alone
    assert manifest["counts"]["samples"] == sum(m["counts"]["samples"] for m in manifest["splits"].values()) == 3
    assert "train:" in manifest["usage"] or fmt == "yolo"


def test_detection_formats_share_one_class_list_across_splits(split_store, tmp_path):
    from pycocotools.coco import COCO

    coco = export_dataset(split_store, "demo", "coco", SETTINGS, tmp_path)
    categories = [{c["id"]: c["name"] for c in COCO(str(coco.folder / split / "annotations.json")).dataset["categories"]}
                  for split in ("train", "val")]
    assert categories[0] == categories[1] and "chair" in categories[1].values()  # chair is only in val
    yolo = export_dataset(split_store, "demo", "yolo", SETTINGS, tmp_path)
    top = yaml.safe_load((yolo.folder / "data.yaml").read_text())
    assert (top["train"], top["val"]) == ("train/images", "val/images") and "test" not in top
    for split in ("train", "val"):
        assert yaml.safe_load((yolo.folder / split / "data.yaml").read_text())["names"] == top["names"]


def test_the_yolo_data_yaml_by_split_passes_ultralytics_check(split_store, tmp_path):
    result = export_dataset(split_store, "demo", "yolo", SETTINGS, tmp_path / "out")
    code = ("import json, sys\nfrom ultralytics.data.utils import check_det_dataset\n"
            "data = check_det_dataset(sys.argv[1], autodownload=False)\n"
            "print(json.dumps({'train': str(data['train']), 'val': str(data['val']), 'nc': data['nc']}))")
    env = {**os.environ, "YOLO_CONFIG_DIR": str(tmp_path), "YOLO_OFFLINE": "True"}
    run = subprocess.run([sys.executable, "-c", code, str(result.folder / "data.yaml")], capture_output=True,
                         text=True, env=env, cwd=tmp_path, timeout=300)
    assert run.returncode == 0, run.stderr
    checked = json.loads(run.stdout.strip().splitlines()[-1])
    assert checked["train"].endswith("train/images") and checked["val"].endswith("val/images")
    assert checked["nc"] == 4


def test_split_chooses_what_is_exported(split_store, tmp_path):
    only_val = export_dataset(split_store, "demo", "qwen_finetune", ExportSettings.create(
        "qwen2.5-vl", splits=("val",)), tmp_path)
    assert list(only_val.manifest["splits"]) == ["val"] and only_val.manifest["counts"]["samples"] == 1
    with pytest.raises(ExportError, match="no accepted items in test to export"):
        export_dataset(split_store, "demo", "coco", ExportSettings.create("qwen2.5-vl", splits=("test",)), tmp_path)
    with pytest.raises(ExportError, match="a split is one of"):
        ExportSettings.create("qwen2.5-vl", splits=("holdout",))


def test_yolo_of_one_split_trains_and_validates_on_it(split_store, tmp_path):
    result = export_dataset(split_store, "demo", "yolo", ExportSettings.create("qwen2.5-vl", splits=("val",)),
                            tmp_path)
    top = yaml.safe_load((result.folder / "data.yaml").read_text())
    assert top["train"] == top["val"] == "val/images"
    assert any("no train split: data.yaml trains on val" in w for w in result.warnings)


def test_items_in_no_split_go_to_unsplit_and_are_said(split_store, tmp_path):
    ids = split_store.item_ids("demo")
    split_store.set_split("demo", ids[:1], "none")
    try:
        result = export_dataset(split_store, "demo", "yolo", SETTINGS, tmp_path)
    finally:
        split_store.set_split("demo", ids[:1], "train")
    assert list(result.manifest["splits"]) == ["train", "val", "unsplit"]
    assert any("unsplit/, which data.yaml does not name" in w for w in result.warnings)


def test_the_workbench_format_keeps_each_items_split(split_store, tmp_path):
    result = export_dataset(split_store, "demo", "workbench", SETTINGS, tmp_path)
    assert "layout" not in result.manifest
    with DatasetStore(tmp_path / "other" / "workbench.sqlite3") as other:
        import_workbench(other, result.folder, name="copy")
        assert [i.split for i in other.items("copy")] == [i.split for i in split_store.items("demo", statuses=[
            "accepted"])]


def test_export_split_on_the_command_line(tmp_path):
    data = tmp_path / "data"
    with DatasetStore.open(data) as store:
        build_demo(store, tmp_path / "sources")
        store.set_split("demo", store.item_ids("demo")[:2], "train")
    result = CliRunner().invoke(app, ["export", "demo", str(tmp_path / "out"), "--format", "coco", "--split", "train",
                                      "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["splits"] == ["train"] and summary["counts"]["samples"] == 2

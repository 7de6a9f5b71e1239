"""Every export loaded by the real reader of its format (issue 10), on a dataset built to break them.

pycocotools, torchvision's ``VOCDetection``, Ultralytics' dataset check, Label Studio's converter
and ``datasets`` run here; the trainers that cannot install here are covered by their
validators in test_trainers.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from PIL import Image

from tests.workbench.export.hard_data import EDGE_BOXES, LABELS, PHONE_WH, build_hard
from workbench.export import ExportSettings, export_dataset
from workbench.store import DatasetStore

SETTINGS = ExportSettings.create("qwen2.5-vl", created_at="2026-01-01T00:00:00+00:00")


@pytest.fixture(scope="module")
def hard_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("hard")
    with DatasetStore(root / "data" / "workbench.sqlite3") as store:
        build_hard(store, root / "sources")
        yield store


@pytest.fixture(scope="module")
def exports(hard_store, tmp_path_factory):
    """One export per format, written once (the 12 MP photo makes them slow to repeat)."""
    out = tmp_path_factory.mktemp("exports")
    done = {}

    def get(fmt: str):
        if fmt not in done:
            done[fmt] = export_dataset(hard_store, "hard", fmt, SETTINGS, out)
        return done[fmt]

    return get


_ULTRALYTICS_CHECK = """
import json, sys
from ultralytics.data.utils import check_det_dataset, verify_image_label
data = check_det_dataset(sys.argv[1], autodownload=False)
_, labels, shape, *_, corrupt, message = verify_image_label((sys.argv[2], sys.argv[3], "", False, data["nc"], 0, 0, False))
print(json.dumps({"nc": data["nc"], "names": list(data["names"].values()), "labels": labels.tolist(),
                  "shape": list(shape), "corrupt": corrupt, "message": message}))
"""


def test_yolo_edge_boxes_of_a_12_mp_photo_load_in_ultralytics(exports, tmp_path):
    # Ultralytics patches PIL's Image.open when imported: it runs in its own process, not in this one
    result = exports("yolo")  # before: the validator refused boxes on the right/bottom edge (0.01 px tolerance)
    phone = sorted((result.folder / "images").glob("s000001-*"))[0]
    label_file = result.folder / "labels" / f"{phone.stem}.txt"
    env = {**os.environ, "YOLO_CONFIG_DIR": str(tmp_path), "YOLO_OFFLINE": "True"}
    run = subprocess.run([sys.executable, "-c", _ULTRALYTICS_CHECK, str(result.folder / "data.yaml"), str(phone),
                          str(label_file)], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert run.returncode == 0, run.stderr
    checked = json.loads(run.stdout.strip().splitlines()[-1])
    assert checked["nc"] == len(checked["names"]) and LABELS[0] in checked["names"]
    assert checked["corrupt"] == 0, checked["message"]
    assert checked["shape"] == list(PHONE_WH[::-1])  # (h, w) of the upright file
    w, h = PHONE_WH
    for (x1, y1, x2, y2), (_, cx, cy, bw, bh) in zip(EDGE_BOXES, checked["labels"]):
        got = [(cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h]
        assert got == pytest.approx([x1, y1, x2, y2], abs=w * 1e-6 + 0.01)  # float32 in Ultralytics


def test_coco_loads_in_pycocotools_with_every_box(exports, hard_store):
    from pycocotools.coco import COCO

    result = exports("coco")
    coco = COCO(str(result.folder / "annotations.json"))
    names = {c["id"]: c["name"] for c in coco.loadCats(coco.getCatIds())}
    phone = next(i for i in coco.loadImgs(coco.getImgIds()) if i["file_name"].startswith("s000001-"))
    assert (phone["width"], phone["height"]) == PHONE_WH
    with Image.open(result.folder / "images" / phone["file_name"]) as image:
        assert image.size == PHONE_WH
    boxes = {names[a["category_id"]]: a["bbox"] for a in coco.loadAnns(coco.getAnnIds(imgIds=[phone["id"]]))}
    for (x1, y1, x2, y2), label in zip(EDGE_BOXES, LABELS):
        assert boxes[label] == pytest.approx([x1, y1, x2 - x1, y2 - y1])
    assert len(coco.getImgIds()) == 4  # the points-only and the empty image are skipped


def test_voc_loads_in_torchvision_as_it_is(exports):
    from torchvision.datasets import VOCDetection

    result = exports("voc")
    dataset = VOCDetection(str(result.folder), year="2012", image_set="trainval")
    assert len(dataset) == 4
    image, target = dataset[0]
    annotation = target["annotation"]
    assert image.size == PHONE_WH and annotation["source"]["database"] != "roboflow.ai"
    names = [obj["name"] for obj in annotation["object"]]
    assert names[:len(LABELS)] == LABELS
    assert annotation["object"][0]["bndbox"] == {"xmin": "1001", "ymin": "2002", "xmax": "3024", "ymax": "4032"}
    _, screen = dataset[1]  # the PNG, written as a JPEG under JPEGImages
    with Image.open(dataset.images[1]) as file:
        assert file.format == "JPEG"
    assert screen["annotation"]["object"][0]["name"] == "window"
    assert any("re-encoded as JPEG" in w for w in result.warnings)


def test_labelstudio_reviewed_boxes_are_annotations_and_proposals_predictions(hard_store, tmp_path):
    from label_studio_converter import Converter

    settings = ExportSettings.create("qwen2.5-vl", statuses=("accepted", "pre-annotated"))
    result = export_dataset(hard_store, "hard", "labelstudio", settings, tmp_path / "with-proposals")
    tasks = json.loads((result.folder / "tasks.json").read_text(encoding="utf-8"))
    phone, unreviewed = tasks[0], tasks[-1]
    reviewed = [r["value"]["rectanglelabels"][0] for a in phone["annotations"] for r in a["result"]]
    assert reviewed == LABELS and phone.get("predictions", []) == []
    proposed = [r["value"]["rectanglelabels"][0] for p in unreviewed["predictions"] for r in p["result"]]
    assert proposed == ["proposal"] and unreviewed.get("annotations", []) == []
    # Label Studio's own converter reads the human annotations (never the predictions) with its config; it
    # works on Label Studio's export, whose tasks carry the ids Label Studio gave them on import
    exported = tmp_path / "exported.json"
    exported.write_text(json.dumps([task | {"id": n} for n, task in enumerate(tasks, 1)]), encoding="utf-8")
    converter = Converter(str(result.folder / "label_config.xml"), project_dir=str(result.folder))
    converter.convert_to_coco(str(exported), str(tmp_path / "coco"), is_dir=False)
    doc = json.loads((tmp_path / "coco" / "result.json").read_text(encoding="utf-8"))
    names = {c["id"]: c["name"] for c in doc["categories"]}
    converted = [names[a["category_id"]] for a in doc["annotations"] if a["image_id"] == 0]
    assert sorted(converted) == sorted(LABELS)


def test_hf_datasets_keep_the_jpeg(exports, hard_store):
    from datasets import Image as ImageFeature
    from datasets import load_from_disk

    result = exports("hf_datasets")
    dataset = load_from_disk(str(result.folder / "hf_dataset"))
    assert dataset[0]["image"].size == PHONE_WH and dataset[0]["image"].format == "JPEG"
    raw = dataset.cast_column("image", ImageFeature(decode=False))[0]["image"]["bytes"]
    source = hard_store.items("hard")[0].images[0].file
    assert len(raw) < 2 * source.stat().st_size  # upright JPEG at quality 95, not a 6x larger PNG
    assert dataset[0]["objects"]["label"] == LABELS and set(dataset[0]["objects"]["provenance"]) == {"human"}


def test_the_manifest_names_a_command_that_exists(exports, tmp_path):
    from typer.testing import CliRunner

    from workbench.cli import app

    result = exports("workbench")
    usage = result.manifest["usage"]
    assert usage.startswith("workbench import workbench ")
    args = usage.split(" brings it back")[0].split()[1:]
    run = CliRunner().invoke(app, [*args, "--data-dir", str(tmp_path / "other"), "--name", "back"])
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout)["items"] == 5  # the accepted ones

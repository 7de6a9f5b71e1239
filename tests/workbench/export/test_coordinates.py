"""Targets in each format against values computed by hand (the resize rule worked on paper)."""

from __future__ import annotations

import json

import pytest

from tests.workbench.store_data import BOWL_BOX
from workbench.export import ExportSettings, export_dataset
from workbench.export.base import parse_json_answer, parse_qwen2_answer


def _export(store, tmp_path, fmt, family, **options):
    return export_dataset(store, "demo", fmt, ExportSettings.create(family, **options), tmp_path / family)


def _qwen_entries(result):
    return json.loads((result.folder / "qwen_finetune.json").read_text(encoding="utf-8"))


def test_official_bowl_example_qwen2_vl(demo_store, tmp_path):
    # 640x428, box [146,137,615,415] -> round(v / size * 1000) = [228, 320, 961, 970]
    entry = _qwen_entries(_export(demo_store, tmp_path, "qwen_finetune", "qwen2-vl"))[0]
    assert parse_qwen2_answer(entry["conversations"][1]["value"]) == [(None, "bowl", [228, 320, 961, 970])]
    assert entry["conversations"][1]["value"] == (
        "<|object_ref_start|>bowl<|object_ref_end|><|box_start|>(228,320),(961,970)<|box_end|>")


def test_qwen2_5_vl_absolute_on_the_resized_image(demo_store, tmp_path):
    # bowl 640x428 with the checkpoint limits -> 644x420 (round(640/28)=23, round(428/28)=15):
    # 146*644/640=146.9->147, 137*420/428=134.4->134, 615*644/640=618.8->619, 415*420/428=407.2->407
    entries = _qwen_entries(_export(demo_store, tmp_path, "qwen_finetune", "qwen2.5-vl"))
    assert parse_json_answer(entries[0]["conversations"][1]["value"]) == [
        {"bbox_2d": [147, 134, 619, 407], "label": "bowl"}, {"point_2d": [322, 210], "label": "spoon"}]
    # street 2000x1500 -> 1988x1512; the road box clamped to the image first, then to W'-1/H'-1
    objects = parse_json_answer(entries[1]["conversations"][1]["value"])
    assert objects[2] == {"bbox_2d": [0, 1411, 1987, 1511], "label": "road", "image": 2}


def test_qwen2_5_vl_with_the_training_scripts_limits(demo_store, tmp_path):
    # 640x480 with max_pixels 50176: 644x476 is too large, beta = sqrt(640*480/50176) = 2.474;
    # w' = floor(640/2.474/28)*28 = 252, h' = floor(480/2.474/28)*28 = 168.
    # chair [100,120,300,330] -> 100*252/640=39.4->39, 120*168/480=42, 300*252/640=118.1->118, 330*168/480=115.5->116
    entries = _qwen_entries(_export(demo_store, tmp_path, "qwen_finetune", "qwen2.5-vl", min_pixels=784,
                                    max_pixels=50176))
    assert parse_json_answer(entries[2]["conversations"][1]["value"]) == [{"bbox_2d": [39, 42, 118, 116],
                                                                           "label": "chair"}]


def test_qwen3_vl_relative_1000(demo_store, tmp_path):
    # chair on 640x480: 100/640*1000=156.25->156, 120/480*1000=250, 300/640*1000=468.75->469, 330/480*1000=687.5->688
    entries = _qwen_entries(_export(demo_store, tmp_path, "qwen_finetune", "qwen3-vl"))
    assert parse_json_answer(entries[2]["conversations"][1]["value"]) == [{"bbox_2d": [156, 250, 469, 688],
                                                                           "label": "chair"}]


def test_llamafactory_downscale_comes_first(demo_store, tmp_path):
    # street 2000x1500 > 768*768: factor sqrt(589824/3e6) = 0.44341 -> int(886.8) x int(665.1) = 886x665,
    # then Qwen2.5 checkpoint limits: round(886/28)=32 -> 896, round(665/28)=24 -> 672.
    # car [500,375,1500,1125] -> 500*896/2000=224, 375*672/1500=168, 1500*896/2000=672, 1125*672/1500=504.
    result = _export(demo_store, tmp_path, "llamafactory", "qwen2.5-vl")
    entries = json.loads((result.folder / "llamafactory.json").read_text(encoding="utf-8"))
    objects = parse_json_answer(entries[1]["messages"][1]["content"])
    assert objects[1] == {"bbox_2d": [224, 168, 672, 504], "label": "car", "image": 2}
    # without the downscale the processor alone gives 1988x1512 and the car would be [497, 378, 1491, 1134]
    qwen = _qwen_entries(_export(demo_store, tmp_path / "plain", "qwen_finetune", "qwen2.5-vl"))
    assert parse_json_answer(qwen[1]["conversations"][1]["value"])[1]["bbox_2d"] == [497, 378, 1491, 1134]
    assert result.manifest["llamafactory"] == {"image_max_pixels": 589824, "image_min_pixels": 1024}


def test_multi_image_sample_keeps_order_ids_and_placeholders(demo_store, tmp_path):
    result = _export(demo_store, tmp_path, "llamafactory", "qwen2.5-vl")
    entry = json.loads((result.folder / "llamafactory.json").read_text(encoding="utf-8"))[1]
    # the stored prompt ("Find bowls and cars.") is not what the answer holds (a road too): the question is generated
    assert entry["messages"][0]["content"] == (
        "Picture 1 (kitchen): <image>\nPicture 2 (street): <image>\n"
        "Locate every bowl, car and road in the images and output the bbox coordinates in JSON format.\n"
        "There are 2 images: Picture 1 is kitchen, Picture 2 is street. "
        'Add an "image" key to every object with the number of the picture it is in (1 to 2).')
    assert len(entry["images"]) == 2 and entry["images"][0].endswith(".jpg") and entry["images"][1].endswith(".png")
    assert [o["image"] for o in parse_json_answer(entry["messages"][1]["content"])] == [1, 2, 2]


def test_swift_keeps_original_pixels(demo_store, tmp_path):
    result = _export(demo_store, tmp_path, "swift", "qwen2.5-vl")
    rows = [json.loads(line) for line in (result.folder / "swift.jsonl").read_text().splitlines()]
    assert rows[0]["objects"] == {"ref": ["bowl"], "bbox": [list(BOWL_BOX)], "bbox_type": "real", "image_id": [0]}
    assert rows[1]["objects"]["image_id"] == [0, 1, 1]


@pytest.mark.parametrize(("task", "expected"), [
    pytest.param("rec", "<answer>[146,137,615,415]</answer>", id="rec-original-pixels"),
    # OVD rewards compare raw model output: Qwen2.5-VL pixels of the 644x420 resized bowl image
    pytest.param("ovd", '```json\n[\n  {"bbox_2d": [147, 134, 619, 407], "label": "bowl"}\n]\n```', id="ovd-model"),
])
def test_vlmr1_ground_truth(demo_store, tmp_path, task, expected):
    result = _export(demo_store, tmp_path, "vlmr1", "qwen2.5-vl", vlmr1_task=task)
    rows = [json.loads(line) for line in (result.folder / f"vlmr1_{task}.jsonl").read_text().splitlines()]
    assert rows[0]["conversations"][1]["value"] == expected
    assert all(isinstance(row["image"], str) for row in rows)  # multi-image samples are split
    assert any("split into one entry per image" in w for w in result.warnings)


def test_coco_yolo_voc_labelstudio_values(demo_store, tmp_path):
    coco = _export(demo_store, tmp_path, "coco", "qwen2.5-vl")
    doc = json.loads((coco.folder / "annotations.json").read_text())
    assert doc["annotations"][0]["bbox"] == [146.0, 137.0, 469.0, 278.0]  # xywh
    assert [c["name"] for c in doc["categories"]] == ["bowl", "car", "road", "chair"]  # points are not classes

    yolo = _export(demo_store, tmp_path, "yolo", "qwen2.5-vl")
    cls, cx, cy, w, h = (yolo.folder / "labels" / "s000001-1-bowl.txt").read_text().split()
    assert cls == "0"
    assert [float(cx), float(cy), float(w), float(h)] == pytest.approx(
        [(146 + 615) / 2 / 640, (137 + 415) / 2 / 428, 469 / 640, 278 / 428], abs=1e-5)

    voc = _export(demo_store, tmp_path, "voc", "qwen2.5-vl")
    xml = (voc.folder / "VOCdevkit" / "VOC2012" / "Annotations" / "s000001-1-bowl.xml").read_text()
    # the VOC devkit's 1-based inclusive pixels: xmin/ymin shift by one, xmax/ymax do not
    assert "<xmin>147</xmin>" in xml and "<ymin>138</ymin>" in xml and "<xmax>615</xmax>" in xml
    assert "<ymax>415</ymax>" in xml and "<width>640</width>" in xml

    ls = _export(demo_store, tmp_path, "labelstudio", "qwen2.5-vl")
    result = json.loads((ls.folder / "tasks.json").read_text())[0]["annotations"][0]["result"]
    assert result[0]["value"]["x"] == pytest.approx(146 / 640 * 100)
    assert result[0]["value"]["height"] == pytest.approx(278 / 428 * 100)
    assert result[1]["type"] == "keypointlabels" and result[1]["value"]["x"] == pytest.approx(50.0)

"""Trainer formats checked the way each trainer's own code reads them (issue 10, points 2-5).

ms-swift, VLM-R1 and XComposer2 cannot be installed here; these tests replay what their data
code does (cited in each format module) on real exports: ms-swift's placeholder filling and
path lookup, VLM-R1's answer parsing and OVD reward (COCO mAP through pycocotools, as its
``calculate_map`` does), XComposer2's ``data.txt`` reading from another working directory.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from grounding import PixelLimits, process_size, round_half_up, to_model
from tests.workbench.export.hard_data import LABELS, build_hard
from tests.workbench.store_data import build_demo
from workbench.errors import ExportError
from workbench.export import ExportSettings, export_dataset, get_format
from workbench.export.base import parse_json_answer
from workbench.export.swift import render_answer
from workbench.store import DatasetStore


@pytest.fixture(scope="module")
def hard_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("hard")
    with DatasetStore(root / "data" / "workbench.sqlite3") as store:
        build_hard(store, root / "sources")
        build_demo(store, root / "demo-sources")
        yield store


def _rows(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("family", ["qwen2.5-vl", "qwen3-vl"])
def test_swift_labels_with_quotes_and_backslashes_render_to_valid_json(hard_store, tmp_path, family):
    result = export_dataset(hard_store, "hard", "swift", ExportSettings.create(family), tmp_path)
    row = _rows(result.folder / "swift.jsonl")[0]
    answer = render_answer(row["messages"][1]["content"], row["objects"]["ref"],
                           [[int(v) for v in box] for box in row["objects"]["bbox"]], "new")
    assert [entry["label"] for entry in parse_json_answer(answer)] == LABELS
    assert "QWENVL_BBOX_FORMAT=new" in result.manifest["usage"]


def test_swift_validator_catches_a_raw_quote(hard_store, tmp_path):
    settings = ExportSettings.create("qwen2.5-vl")
    result = export_dataset(hard_store, "hard", "swift", settings, tmp_path)
    rows = _rows(result.folder / "swift.jsonl")
    rows[0]["objects"]["ref"] = list(LABELS)  # what a raw paste gives: "label": "say "cheese""
    (result.folder / "swift.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    problems = get_format("swift").validate(result.folder, settings)
    assert any("not valid JSON" in p for p in problems), problems


def test_swift_qwen2_vl_keeps_labels_raw_in_its_tokens(hard_store, tmp_path):
    result = export_dataset(hard_store, "hard", "swift", ExportSettings.create("qwen2-vl"), tmp_path)
    row = _rows(result.folder / "swift.jsonl")[0]
    assert row["objects"]["ref"][0] == 'say "cheese"'
    assert "QWENVL_BBOX_FORMAT=legacy" in result.manifest["usage"]


def _swift_path(path: str, root: str | None) -> str | None:
    """ms-swift's ``_check_path``: as given from the working directory, else under ROOT_IMAGE_DIR."""
    if os.path.exists(path):
        return os.path.abspath(path)
    if root is not None and os.path.exists(os.path.join(root, path)):
        return os.path.join(root, path)
    return None


@pytest.mark.parametrize("paths", ["absolute", "relative"])
def test_swift_command_works_from_another_folder(hard_store, tmp_path, monkeypatch, paths):
    result = export_dataset(hard_store, "hard", "swift", ExportSettings.create("qwen2.5-vl", paths=paths),
                            tmp_path / "out")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    usage = result.manifest["usage"]
    dataset = re.search(r"--dataset (\S+)", usage).group(1)
    root = re.search(r"ROOT_IMAGE_DIR=(\S+)", usage)
    assert (paths == "relative") == bool(root)
    images = [image for row in _rows(open_path(dataset)) for image in row["images"]]
    assert images and all(_swift_path(image, root and root.group(1)) for image in images)


def open_path(text: str):
    from pathlib import Path

    path = Path(text)
    assert path.is_absolute() and path.is_file(), text
    return path


def _finetune_data(data_path: str) -> dict[str, list]:
    """XComposer2's make_supervised_data_module with --given_num True (InternLM-XComposer-2.0/finetune/finetune.py),
    without its random draw: how many samples each data.txt line makes it train on."""
    train_json = {}
    with open(data_path) as f:
        lines = f.readlines()
    for line in lines:
        line = line.strip().split(" ")
        with open(line[0]) as f:
            temp = json.load(f)
        assert len(line) == 2
        num = int(float(line[1]) * 1000)
        temp = temp[:num] if len(temp) > num else temp + temp[:num - len(temp)]
        train_json[line[0]] = temp
    return train_json


@pytest.mark.parametrize("paths,folder", [("absolute", "out"), ("relative", "out"), ("absolute", "out dir")])
def test_xcomposer2_data_txt_works_as_its_finetune_reads_it(hard_store, tmp_path, monkeypatch, paths, folder):
    from PIL import Image

    result = export_dataset(hard_store, "hard", "xcomposer2", ExportSettings.create("qwen2.5-vl", paths=paths),
                            tmp_path / folder)
    usage = result.manifest["usage"]
    assert "--given_num True --img_size 490 --hd_num -1" in usage
    data_path = re.search(r"--data_path (\S+)", usage).group(1)
    moved = re.match(r"cd (\S+|\"[^\"]+\") && ", usage)
    if paths == "relative" or " " in folder:  # the command changes into the export folder first
        assert moved and Path(json.loads(moved.group(1)) if moved.group(1).startswith('"') else moved.group(1)) \
            == result.folder
        monkeypatch.chdir(result.folder)
    else:
        assert not moved
        (tmp_path / "elsewhere").mkdir()
        monkeypatch.chdir(tmp_path / "elsewhere")
    samples = json.loads((result.folder / "xcomposer2.json").read_text(encoding="utf-8"))
    [trained] = _finetune_data(data_path).values()
    assert len(trained) == len(samples) == 4  # every sample once, not a random 1,000 of them
    for image in samples[0]["image"]:
        with Image.open(image) as opened:  # data_mix.py: Image.open(path).convert('RGB')
            assert opened.size


def test_xcomposer2_data_txt_counts_past_a_thousand(tmp_path):
    from workbench.export.xcomposer2 import given_num

    assert all(int(float(given_num(n)) * 1000) == n for n in range(1, 30001))
    assert int(float("1.001") * 1000) == 1000  # why the plain count/1000 is not enough


@pytest.mark.parametrize("family", ["qwen2.5-vl", "qwen3-vl"])
def test_xcomposer2_targets_are_on_its_490_square(hard_store, tmp_path, family):
    result = export_dataset(hard_store, "hard", "xcomposer2", ExportSettings.create(family), tmp_path)
    [first, *_] = json.loads((result.folder / "xcomposer2.json").read_text(encoding="utf-8"))
    answer = json.loads(first["conversations"][1]["value"].removeprefix("```json\n").removesuffix("\n```"))
    [item] = [s for s in hard_store.items("hard") if s.images[0].image_id == "phone"]
    (w, h), boxes = item.images[0].wh, [a.coords for a in item.images[0].annotations]
    extent, top = ((490, 490), 489) if family == "qwen2.5-vl" else ((1000, 1000), 1000)
    expected = [[min(round_half_up(v * extent[k % 2] / (w, h)[k % 2]), top) for k, v in enumerate(box)]
                for box in boxes]  # XComposer2 resizes every image to 490x490: no Qwen resize anywhere
    assert [entry["bbox_2d"] for entry in answer] == expected


def _vlmr1_map(predicted: list[dict], truth: list[dict]) -> float:
    """VLM-R1's ``calculate_map`` (grpo_jsonl.py): COCO mAP of raw boxes on a 2048x2048 canvas, score 1."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    ids = {label: n for n, label in enumerate(dict.fromkeys(t["label"] for t in truth))}
    def box(b):
        return [b[0], b[1], b[2] - b[0], b[3] - b[1]]

    gt = COCO()
    gt.dataset = {"images": [{"id": 0, "width": 2048, "height": 2048, "file_name": "image_0.jpg"}],
                  "categories": [{"id": i, "name": label} for label, i in ids.items()],
                  "annotations": [{"id": n + 1, "image_id": 0, "category_id": ids[t["label"]], "bbox": box(t["bbox_2d"]),
                                   "area": box(t["bbox_2d"])[2] * box(t["bbox_2d"])[3], "iscrowd": 0}
                                  for n, t in enumerate(truth)]}
    gt.createIndex()
    dt = gt.loadRes([{"image_id": 0, "category_id": ids[p["label"]], "bbox": box(p["bbox_2d"]), "score": 1.0}
                     for p in predicted])
    evaluation = COCOeval(gt, dt, "bbox")
    evaluation.evaluate()
    evaluation.accumulate()
    evaluation.summarize()
    return float(evaluation.stats[0])


@pytest.mark.parametrize("family", ["qwen2.5-vl", "qwen2-vl"])
def test_vlmr1_ovd_a_perfect_answer_scores_one(hard_store, tmp_path, family):
    from workbench.export.vlmr1 import ovd_objects

    limits = PixelLimits(3136, 1003520)
    settings = ExportSettings.create(family, vlmr1_task="ovd", min_pixels=limits.min_pixels,
                                     max_pixels=limits.max_pixels)
    result = export_dataset(hard_store, "demo", "vlmr1", settings, tmp_path)
    images = [i for s in hard_store.items("demo", statuses=["accepted"]) for i in s.images
              if any(a.kind == "box" for a in i.annotations)]
    scored = 0
    for row, image in zip(_rows(result.folder / "vlmr1_ovd.jsonl"), images, strict=True):
        assert row["image"] == f"images/{image.sha256[:20]}{image.file.suffix}"
        seen = process_size(image.wh, family, limits)
        # what a perfect model answers: its own coordinates of the true boxes, computed independently
        perfect = [{"bbox_2d": [round_half_up(v) for v in to_model([min(max(c, 0), image.wh[k % 2])
                                                                      for k, c in enumerate(a.coords)], seen)],
                    "label": a.label} for a in image.annotations if a.kind == "box"]
        truth = ovd_objects(row["conversations"][1]["value"])
        assert truth is not None
        assert _vlmr1_map(perfect, truth) == pytest.approx(1.0)
        scored += 1
    assert scored == 4
    usage = result.manifest["usage"]
    assert "--is_reward_customized_from_vlm_module False" in usage and "--reward_method odLength" in usage
    assert f"--max_pixels {limits.max_pixels}" in usage


def test_points_only_samples_are_skipped_and_counted_even_with_negatives(hard_store, tmp_path):
    result = export_dataset(hard_store, "hard", "swift", ExportSettings.create("qwen2.5-vl"), tmp_path / "a")
    rows = _rows(result.folder / "swift.jsonl")
    assert all(row["objects"]["ref"] for row in rows) and len(rows) == 3
    assert "1 samples skipped: every annotation they had was of a kind this export leaves out (they are not " \
           "negatives: something is there)" in result.warnings
    assert result.manifest["skipped"] == {"without_annotations": 1, "all_annotations_left_out": 1,
                                          "annotations_left_out": {"point": 2}}
    kept = export_dataset(hard_store, "hard", "swift", ExportSettings.create("qwen2.5-vl", negatives=True),
                          tmp_path / "b")
    rows = _rows(kept.folder / "swift.jsonl")
    # the empty picture is a negative; the points-only one is not ("nothing here" would be a lie): still skipped
    assert len(rows) == 4 and rows[-1]["objects"]["ref"] == [] and kept.manifest["skipped"]["all_annotations_left_out"] == 1
    assert rows[-1]["messages"][1]["content"] == "```json\n[\n]\n```"
    question = rows[-1]["messages"][0]["content"]  # the negative asks for the labels the export teaches
    assert question == ("<image>\nLocate every say \"cheese\", back\\slash, 猫, 🐱 cat, plain, window, shelf and icon "
                        "in the image and output the bbox coordinates in JSON format.")


def test_negatives_in_yolo_are_empty_pictures_only(hard_store, tmp_path):
    result = export_dataset(hard_store, "hard", "yolo", ExportSettings.create("qwen2.5-vl", negatives=True), tmp_path)
    labels = {path.stem.split("-", 2)[2]: path.read_text() for path in (result.folder / "labels").glob("*.txt")}
    assert labels["empty"] == "" and "only-points" not in labels  # no empty label file for a picture of points


def test_an_export_with_nothing_left_says_why(hard_store, tmp_path):
    with pytest.raises(ExportError, match="nothing to export as swift: .*points left out"):
        export_dataset(hard_store, "hard", "swift", ExportSettings.create("qwen2.5-vl", task="points"), tmp_path)
    assert list(tmp_path.iterdir()) == []

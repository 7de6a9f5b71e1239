"""Imports: bad input raises before anything is written; model outputs go through the parser."""

from __future__ import annotations

import importlib.util
import json

import pytest

import grounding
from tests.factories import write_image
from workbench.importers import (
    DatasetImportError,
    ModelOutput,
    import_coco,
    import_model_outputs,
    import_workbench,
    read_outputs_jsonl,
)
from workbench.store import DatasetStore, ImageSource


@pytest.fixture
def store(tmp_path):
    with DatasetStore(tmp_path / "data" / "workbench.sqlite3") as store:
        yield store


def test_broken_own_format_adds_nothing(store, tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "dataset.json").write_text(json.dumps({"format": "grounding-workbench", "version": 1, "dataset": "x",
                                                     "samples": [{"prompt": "", "images": [{"file": "images/no.png"}]}]}))
    with pytest.raises(DatasetImportError, match="no.png"):
        import_workbench(store, folder)
    assert store.list_datasets() == []


@pytest.mark.parametrize("content", [pytest.param("{}", id="not-ours"), pytest.param("[1,", id="not-json")])
def test_not_an_export_is_refused(store, tmp_path, content):
    (tmp_path / "dataset.json").write_text(content)
    with pytest.raises(DatasetImportError):
        import_workbench(store, tmp_path)


def test_bad_coco_file_is_refused(store, tmp_path):
    (tmp_path / "annotations.json").write_text('{"images": "nope"}')
    with pytest.raises(DatasetImportError, match="not a COCO detection file"):
        import_coco(store, "x", tmp_path / "annotations.json", tmp_path)
    assert store.list_datasets() == []


def test_outputs_jsonl_reads_relative_paths_and_reports_bad_lines(tmp_path):
    good = {"images": ["a.png", "b.png"], "image_ids": ["left", "right"], "output": "[]", "prompt": "Find",
            "model": "m", "grid_thw": [[1, 2, 2], [1, 2, 2]]}
    path = tmp_path / "outputs.jsonl"
    path.write_text(json.dumps(good) + "\n\n")
    [output] = read_outputs_jsonl(path)
    assert output.images == [ImageSource(tmp_path / "a.png", "left"), ImageSource(tmp_path / "b.png", "right")]
    assert (output.prompt, output.model, output.grid_thw) == ("Find", "m", [[1, 2, 2], [1, 2, 2]])
    path.write_text(json.dumps(good) + "\n" + json.dumps({"images": [], "output": ""}) + "\n")
    with pytest.raises(DatasetImportError, match="line 2"):
        read_outputs_jsonl(path)


needs_parser = pytest.mark.skipif(not hasattr(grounding, "parse_grounding")
                                  and importlib.util.find_spec("grounding.parse") is None,
                                  reason="grounding.parse_grounding (parser branch) is not merged yet")


@needs_parser
def test_model_outputs_become_a_pre_annotated_item_in_original_pixels(store, tmp_path):
    # Qwen2.5-VL sees 640x480 as 644x476 (checkpoint limits): [322, 238, 644, 476] -> [320, 240, 640, 480]
    image = write_image(tmp_path, 640, 480)
    text = '```json\n[{"bbox_2d": [322, 238, 644, 476], "label": "cat"}]\n```'
    report = import_model_outputs(store, "runs", [ModelOutput([ImageSource(image, "cat1")], text, "Find the cat",
                                                              model="Qwen/Qwen2.5-VL-3B-Instruct")], "qwen2.5-vl")
    [item] = store.items("runs")
    [box] = item.images[0].annotations
    assert report.annotations == 1 and item.prompt == "Find the cat" and item.images[0].image_id == "cat1"
    assert item.status == "pre-annotated"
    assert box.coords == pytest.approx((320.0, 240.0, 640.0, 480.0))
    assert (box.provenance, box.model, box.label) == ("model", "Qwen/Qwen2.5-VL-3B-Instruct", "cat")
    assert box.settings["family"] == "qwen2.5-vl"
    run, proposals = store.proposals(item.id)
    assert run.model == "Qwen/Qwen2.5-VL-3B-Instruct" and [p.label for p in proposals[0]] == ["cat"]
    assert store.run_text(run.id, item.id)[0] == text


def _corpus_boxes(corpus):
    """Corpus cases whose expected result is a list of boxes in original pixels, with their limits."""
    for case in corpus:
        family = case["model"].split(" ")[0]
        expected = case.get("expected")
        if family not in ("qwen2-vl", "qwen2.5-vl", "qwen3-vl") or not case.get("original_wh") or not expected:
            continue
        if all("bbox_original" in e for e in expected) and case.get("min_pixels") and case.get("max_pixels"):
            yield case, family


@needs_parser
def test_corpus_outputs_import_to_the_expected_original_boxes(store, tmp_path, corpus):
    from PIL import Image

    checked = 0
    for case, family in _corpus_boxes(corpus):
        w, h = case["original_wh"]
        path = tmp_path / f"{w}x{h}.png"
        if not path.exists():
            Image.new("RGB", (w, h), (90, 120, 150)).save(path)
        limits = grounding.PixelLimits(case["min_pixels"], case["max_pixels"])
        report = import_model_outputs(store, "corpus", [ModelOutput([ImageSource(path, case["id"])],
                                                                    case["raw_output"])], family, limits)
        boxes = sorted(a.coords for a in store.item(report.items[0]).images[0].annotations)
        expected = sorted(tuple(float(v) for v in e["bbox_original"]) for e in case["expected"])
        assert len(boxes) == len(expected), case["id"]
        for got, want in zip(boxes, expected):
            assert got == pytest.approx(want, abs=1.0), case["id"]
        checked += 1
    assert checked >= 5

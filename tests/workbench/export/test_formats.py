"""Every format: it exports, its loader-style validator passes, and the zip and manifest are there.

The validators are then shown to catch what each framework's loader rejects (or silently
mistrains on), by breaking one thing in a good export.
"""

from __future__ import annotations

import json
import zipfile

import pytest

from workbench.export import FORMAT_NAMES, ExportSettings, export_dataset, get_format

FAMILIES = ["qwen2-vl", "qwen2.5-vl", "qwen3-vl"]
FAMILY_FORMATS = ["qwen_finetune", "llamafactory", "xcomposer2", "swift"]


def _export(store, tmp_path, fmt, family="qwen2.5-vl", **options):
    settings = ExportSettings.create(family, created_at="2026-01-01T00:00:00+00:00", **options)
    return export_dataset(store, "demo", fmt, settings, tmp_path / "out"), settings


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_every_format_exports_validates_and_zips(demo_store, tmp_path, fmt):
    result, settings = _export(demo_store, tmp_path, fmt)
    assert result.folder == tmp_path / "out" / f"demo-{fmt}" and result.folder.is_dir()
    assert get_format(fmt).validate(result.folder, settings) == []
    manifest = json.loads((result.folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest == result.manifest
    assert (manifest["format"], manifest["family"], manifest["created_at"]) == (fmt, "qwen2.5-vl",
                                                                                "2026-01-01T00:00:00+00:00")
    assert manifest["trainer_pixel_limits"] == {"min_pixels": 3136, "max_pixels": 12845056}
    assert manifest["counts"]["samples"] == 3 and manifest["counts"]["images"] == 4
    with zipfile.ZipFile(result.zip_path) as archive:
        names = archive.namelist()
        assert f"demo-{fmt}/manifest.json" in names
        assert archive.testzip() is None
    on_disk = {p.relative_to(result.folder.parent).as_posix() for p in result.folder.rglob("*") if p.is_file()}
    assert set(names) == on_disk
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]  # no staging left


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("fmt", FAMILY_FORMATS)
def test_family_formats_validate_for_every_family(demo_store, tmp_path, fmt, family):
    result, settings = _export(demo_store, tmp_path, fmt, family, min_pixels=784, max_pixels=50176)
    assert get_format(fmt).validate(result.folder, settings) == []
    assert result.manifest["family"] == family


def test_rejected_items_stay_out_and_clamping_is_reported(demo_store, tmp_path):
    result, _ = _export(demo_store, tmp_path, "swift")
    rows = [json.loads(line) for line in (result.folder / "swift.jsonl").read_text().splitlines()]
    refs = [ref for row in rows for ref in row["objects"]["ref"]]
    assert "ghost" not in refs and refs == ["bowl", "bowl", "car", "road", "chair"]
    assert rows[1]["objects"]["bbox"][2] == [0.0, 1400.0, 2000.0, 1500.0]
    assert "1 annotations reached beyond their image and were clamped to it" in result.warnings
    assert result.manifest["warnings"] == list(result.warnings)


def test_other_statuses_when_asked(demo_store, tmp_path):
    result, _ = _export(demo_store, tmp_path, "swift", statuses=("rejected",))
    rows = [json.loads(line) for line in (result.folder / "swift.jsonl").read_text().splitlines()]
    assert [ref for row in rows for ref in row["objects"]["ref"]] == ["ghost"]


def test_qwen_finetune_caveat_and_limits_warning(demo_store, tmp_path):
    result, _ = _export(demo_store, tmp_path, "qwen_finetune", min_pixels=784, max_pixels=50176)
    assert any("ignores --min_pixels/--max_pixels with transformers 5.x" in c for c in result.manifest["caveats"])
    assert any("differ from the checkpoint's" in w for w in result.warnings)
    old, _ = _export(demo_store, tmp_path / "v4", "qwen_finetune", min_pixels=784, max_pixels=50176,
                     transformers_version="4.51.3")
    assert not any("differ from the checkpoint's" in w for w in old.warnings)


def _break_json(folder, name, mutate):
    path = folder / name
    doc = json.loads(path.read_text(encoding="utf-8"))
    mutate(doc)
    path.write_text(json.dumps(doc), encoding="utf-8")


def _break_jsonl(folder, name, mutate):
    path = folder / name
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    mutate(rows)
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")


def _set_answer(turns_key, index, value_key, text):
    return lambda doc: doc[1][turns_key][index].__setitem__(value_key, text)


BREAKS = [
    pytest.param("qwen_finetune", lambda f: _break_json(f, "qwen_finetune.json", lambda d: d[1]["conversations"][0].__setitem__(
        "value", d[1]["conversations"][0]["value"].replace("<image>", "", 1))), "1 <image> placeholders for 2 images",
        id="qwen-missing-placeholder"),
    pytest.param("qwen_finetune", lambda f: _break_json(f, "qwen_finetune.json", _set_answer(
        "conversations", 1, "value", '```json\n[{"bbox_2d": [0, 0, 2000, 10], "label": "x", "image": 2}]\n```')),
        "fall outside", id="qwen-box-beyond-resized-image"),
    pytest.param("qwen_finetune", lambda f: _break_json(f, "qwen_finetune.json", _set_answer(
        "conversations", 1, "value", '```json\n[{"bbox_2d": [0, 0, 10, 10], "label": "x", "image": 3}]\n```')),
        "names picture 3", id="qwen-picture-out-of-range"),
    pytest.param("qwen_finetune", lambda f: (f / "images" / sorted(p.name for p in (f / "images").iterdir())[0]).unlink(),
                 "missing or unreadable", id="qwen-missing-image-file"),
    pytest.param("llamafactory", lambda f: _break_json(f, "llamafactory.json", lambda d: d[0]["images"].append(d[0]["images"][0])),
                 "does not match the number of <image> tokens", id="llamafactory-image-count"),
    pytest.param("llamafactory", lambda f: _break_json(f, "dataset_info.json", lambda d: d["grounding_workbench"].__setitem__(
        "formatting", "alpaca")), "no sharegpt entry", id="llamafactory-dataset-info"),
    pytest.param("swift", lambda f: _break_jsonl(f, "swift.jsonl", lambda rows: rows[0]["objects"]["ref"].append("extra")),
                 "must be lists of one length", id="swift-ref-bbox-mismatch"),
    pytest.param("swift", lambda f: _break_jsonl(f, "swift.jsonl", lambda rows: rows[0]["messages"][1].__setitem__(
        "content", rows[0]["messages"][1]["content"] + "<bbox>")), "2 <bbox> for 1", id="swift-extra-bbox-placeholder"),
    pytest.param("swift", lambda f: _break_jsonl(f, "swift.jsonl", lambda rows: rows[0]["objects"]["bbox"].__setitem__(
        0, [0, 0, 700, 10])), "fall outside", id="swift-box-beyond-original"),
    pytest.param("vlmr1", lambda f: _break_jsonl(f, "vlmr1_rec.jsonl", lambda rows: rows[0]["conversations"][1].__setitem__(
        "value", "<answer>[146.5,137,615,415]</answer>")), "integers", id="vlmr1-float-answer"),
    pytest.param("vlmr1", lambda f: _break_jsonl(f, "vlmr1_rec.jsonl", lambda rows: rows[0].__setitem__(
        "image", [rows[0]["image"], rows[0]["image"]])), "single-image", id="vlmr1-multi-image-entry"),
    pytest.param("xcomposer2", lambda f: (f / "data.txt").write_text("missing.json 1.0\n"), "not this export's",
                 id="xcomposer2-data-txt"),
    pytest.param("xcomposer2", lambda f: (f / "data.txt").write_text(f"{f / 'xcomposer2.json'} 1.0\n"),
                 "1.0 makes finetune.py draw 1000 samples of 3", id="xcomposer2-given-num"),
    pytest.param("xcomposer2", lambda f: _break_json(f, "xcomposer2.json", lambda d: d[1]["conversations"][0].__setitem__(
        "value", "<ImageHere> only one")), "1 <ImageHere> for 2 images", id="xcomposer2-placeholders"),
    pytest.param("labelstudio", lambda f: _break_json(f, "tasks.json", lambda d: d[0]["annotations"][0]["result"][0]["value"].__setitem__(
        "width", 95.0)), "not inside 0-100", id="labelstudio-box-beyond-image"),
    pytest.param("coco", lambda f: _break_json(f, "annotations.json", lambda d: d["annotations"][0].__setitem__(
        "bbox", [600, 400, 100, 100])), "fall outside", id="coco-box-beyond-image"),
    pytest.param("yolo", lambda f: (f / "data.yaml").unlink(), "cannot load", id="yolo-no-data-yaml"),
    pytest.param("workbench", lambda f: _break_json(f, "dataset.json", lambda d: d["samples"][0]["images"][0].__setitem__(
        "width", 1)), "the dataset says", id="workbench-wrong-size"),
]


@pytest.mark.parametrize(("fmt", "breaker", "message"), BREAKS)
def test_validators_catch_what_loaders_reject(demo_store, tmp_path, fmt, breaker, message):
    result, settings = _export(demo_store, tmp_path, fmt)
    breaker(result.folder)
    problems = get_format(fmt).validate(result.folder, settings)
    assert any(message in p for p in problems), problems

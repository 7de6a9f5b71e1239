"""``workbench export``, ``workbench dataset ...`` and ``workbench import ...`` through typer's CliRunner."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.cli_text import plain
from tests.workbench.store_data import build_demo
from workbench.cli import app
from workbench.export.saved import save_template
from workbench.store import DATA_DIR_ENV, DatasetStore


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    with DatasetStore.open(tmp_path / "data") as store:
        build_demo(store, tmp_path / "sources")
    return tmp_path / "data"


def _run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_export_writes_folder_zip_and_prints_a_summary(data_dir, tmp_path):
    result = _run("export", "--format", "llamafactory", "--family", "qwen2.5-vl", "--min-pixels", 784,
                  "--max-pixels", 50176, "--data-dir", data_dir, "demo", tmp_path / "out")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["folder"] == str(tmp_path / "out" / "demo-llamafactory")
    assert summary["counts"] == {"samples": 3, "entries": 3, "images": 4, "distinct_images": 3, "boxes": 5,
                                 "points": 1}
    manifest = json.loads((tmp_path / "out" / "demo-llamafactory" / "manifest.json").read_text())
    assert manifest["trainer_pixel_limits"] == {"min_pixels": 784, "max_pixels": 50176}
    assert manifest["paths"] == "relative"  # what this format writes, whatever --paths says (swift's and xcomposer2's)
    assert (tmp_path / "out" / "demo-llamafactory.zip").is_file()


def test_export_reads_the_data_dir_from_the_environment(data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_DIR_ENV, str(data_dir))
    result = _run("export", "--format", "COCO", "--family", "qwen3-vl", "demo", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "demo-coco" / "annotations.json").is_file()


@pytest.mark.parametrize(("args", "message"), [
    pytest.param(["nope"], "no dataset 'nope'", id="unknown-dataset"),
    pytest.param(["--min-pixels", "9000", "--max-pixels", "100", "demo"], "larger than max_pixels", id="bad-limits"),
])
def test_export_errors_exit_1_with_a_message(data_dir, tmp_path, args, message):
    result = _run("export", "--data-dir", data_dir, *args, tmp_path / "out")
    assert result.exit_code != 0
    assert message in plain(result.output)
    assert not (tmp_path / "out").exists()


def test_dataset_commands(data_dir):
    assert _run("dataset", "create", "second", "--data-dir", data_dir).exit_code == 0
    assert _run("dataset", "rename", "second", "third", "--data-dir", data_dir).exit_code == 0
    listed = _run("dataset", "list", "--data-dir", data_dir)
    assert [(d["name"], d["items"], d["status"]["accepted"]) for d in json.loads(listed.stdout)] == [
        ("demo", 4, 3), ("third", 0, 0)]
    duplicate = _run("dataset", "create", "demo", "--data-dir", data_dir)
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output
    assert _run("dataset", "delete", "third", "--yes", "--data-dir", data_dir).exit_code == 0
    assert [d["name"] for d in json.loads(_run("dataset", "list", "--data-dir", data_dir).stdout)] == ["demo"]


def test_import_own_export_and_coco(data_dir, tmp_path):
    assert _run("export", "--format", "workbench", "--data-dir", data_dir, "demo", tmp_path / "out").exit_code == 0
    assert _run("export", "--format", "coco", "--data-dir", data_dir, "demo", tmp_path / "out").exit_code == 0
    other = tmp_path / "other"
    own = _run("import", "workbench", tmp_path / "out" / "demo-workbench", "--name", "copy", "--data-dir", other)
    assert own.exit_code == 0, own.output
    assert json.loads(own.stdout) == {"dataset": "copy", "items": 3, "annotations": 6, "duplicates": 0, "skipped": 0,
                                      "warnings": []}
    coco = _run("import", "coco", "fromcoco", tmp_path / "out" / "demo-coco" / "annotations.json",
                tmp_path / "out" / "demo-coco" / "images", "--data-dir", other)
    assert coco.exit_code == 0, coco.output
    assert json.loads(coco.stdout)["items"] == 3  # 4 COCO images: the two pictures of one sample are one item again


def test_export_question_and_path_options(data_dir, tmp_path):
    result = _run("export", "--format", "swift", "--task", "referring", "--question-template",
                  "referring=Where is the {label}?", "--negatives", "--paths", "relative", "--data-dir", data_dir,
                  "demo", tmp_path / "out")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["usage"].startswith(f"QWENVL_BBOX_FORMAT=new ROOT_IMAGE_DIR={tmp_path / 'out' / 'demo-swift'} ")
    manifest = json.loads((tmp_path / "out" / "demo-swift" / "manifest.json").read_text())
    assert manifest["questions"]["templates"]["referring"] == "Where is the {label}?"
    assert (manifest["negatives"], manifest["paths"]) == (True, "relative")
    rows = [json.loads(line) for line in (tmp_path / "out" / "demo-swift" / "swift.jsonl").read_text().splitlines()]
    assert rows[0]["messages"][0]["content"] == "<image>\nWhere is the bowl?" and not rows[0]["images"][0].startswith("/")


def test_export_asks_the_question_the_dataset_keeps_unless_the_command_words_another(data_dir, tmp_path):
    with DatasetStore.open(data_dir) as store:  # what the Export page keeps when a person words the question
        save_template(store, "demo", "qwen2.5-vl", "referring", "Point me to the {label}.")
    kept = _run("export", "--format", "swift", "--task", "referring", "--data-dir", data_dir, "demo", tmp_path / "a")
    assert kept.exit_code == 0, kept.output
    rows = [json.loads(line) for line in (tmp_path / "a" / "demo-swift" / "swift.jsonl").read_text().splitlines()]
    assert rows[0]["messages"][0]["content"] == "<image>\nPoint me to the bowl."
    other = _run("export", "--format", "swift", "--task", "referring", "--question-template",
                 "referring=Find the {label}.", "--data-dir", data_dir, "demo", tmp_path / "b")
    assert other.exit_code == 0, other.output
    rows = [json.loads(line) for line in (tmp_path / "b" / "demo-swift" / "swift.jsonl").read_text().splitlines()]
    assert rows[0]["messages"][0]["content"] == "<image>\nFind the bowl."
    for_qwen3 = _run("export", "--format", "swift", "--family", "qwen3-vl", "--task", "referring", "--data-dir",
                     data_dir, "demo", tmp_path / "c")  # the wording was kept for Qwen2.5-VL only
    assert for_qwen3.exit_code == 0, for_qwen3.output
    assert "Point me" not in (tmp_path / "c" / "demo-swift" / "swift.jsonl").read_text()


@pytest.mark.parametrize(("args", "message"), [
    pytest.param(["--question-template", "objects"], "write TASK=TEMPLATE", id="no-equals"),
    pytest.param(["--question-template", "objects=Find {animals}"], "uses {animals}", id="unknown-placeholder"),
])
def test_bad_question_templates_exit_1(data_dir, tmp_path, args, message):
    result = _run("export", "--data-dir", data_dir, *args, "demo", tmp_path / "out")
    assert result.exit_code == 1 and message in plain(result.output)


@pytest.mark.parametrize(("family", "accepted"), [("qwen3-vl", False), ("qwen2.5-vl", True), ("qwen2-vl", True)])
def test_vlmr1_export_says_whether_vlmr1_trains_the_family(data_dir, tmp_path, family, accepted):
    result = _run("export", "--format", "vlmr1", "--family", family, "--data-dir", data_dir, "demo", tmp_path / "out")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    refused = [w for w in summary["warnings"] if w.startswith(f"VLM-R1 refuses {family} checkpoints today")]
    assert bool(refused) is not accepted
    manifest = json.loads((tmp_path / "out" / "demo-vlmr1" / "manifest.json").read_text())
    assert manifest["vlmr1_trainer"]["accepts_family"] is accepted
    assert ("refused by VLM-R1 today" in summary["usage"]) is not accepted
    if accepted:  # its get_model_class looks for this text in the model path
        assert f"path containing '{manifest['vlmr1_trainer']['model_path_must_contain']}'" in summary["usage"]

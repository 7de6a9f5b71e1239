"""Issue 20, item 11: CLI imports read inside the folder they were given, unless ``--allow-outside``.

A crafted source names a file elsewhere on the machine (an absolute path, ``../``, Label Studio's
``local-files?d=../``, a YOLO list file's line, an output line's image); the import refuses it in words and
stores nothing, and the same source imports with ``--allow-outside``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.factories import write_image
from workbench.cli import app
from workbench.store import DatasetStore


@pytest.fixture
def places(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    (tmp_path / "elsewhere").mkdir()
    secret = write_image(tmp_path / "elsewhere", 1234, 567, name="secret.png")
    write_image(source, 64, 48, name="inside.png")
    return source, secret


def run(data: Path, *args: str):
    return CliRunner().invoke(app, [*args, "--data-dir", str(data)])


def items(data: Path) -> list:
    if not (data / "workbench.sqlite3").exists():
        return []
    with DatasetStore.open(data) as store:
        return [i for d in store.list_datasets(owner=None) for i in store.items(d.id)]


def assert_refused_then_allowed(data: Path, args: list[str], secret: Path) -> None:
    refused = run(data, *args)
    assert refused.exit_code == 1
    assert "is outside the import's folder" in refused.output and "--allow-outside" in refused.output, refused.output
    assert items(data) == []
    allowed = run(data, *args, "--allow-outside")
    assert allowed.exit_code == 0, allowed.output
    sizes = [(image.width, image.height) for item in items(data) for image in item.images]
    assert (1234, 567) in sizes


def labelstudio_task(image: str) -> list[dict]:
    return [{"id": 1, "data": {"image": image}, "annotations": [{"result": [
        {"type": "rectanglelabels", "value": {"x": 10, "y": 10, "width": 20, "height": 20, "rectanglelabels": ["cat"]}}
    ]}]}]


@pytest.mark.parametrize("form", ["absolute", "dotdot", "local-files"])
def test_label_studio_images_stay_inside(tmp_path, places, form):
    source, secret = places
    relative = Path("..") / secret.parent.name / secret.name
    image = {"absolute": str(secret), "dotdot": str(relative), "local-files": f"/data/local-files/?d={relative}"}[form]
    tasks = source / "tasks.json"
    tasks.write_text(json.dumps(labelstudio_task(image)))
    assert_refused_then_allowed(tmp_path / "data", ["import", "labelstudio", "ds", str(tasks), "--images",
                                                    str(source)], secret)


def test_label_studio_images_inside_still_import(tmp_path, places):
    source, _ = places
    tasks = source / "tasks.json"
    tasks.write_text(json.dumps(labelstudio_task("inside.png")))
    done = run(tmp_path / "data", "import", "labelstudio", "ds", str(tasks))
    assert done.exit_code == 0, done.output
    assert len(items(tmp_path / "data")) == 1


@pytest.mark.parametrize("line", ["absolute", "dotdot"])
def test_a_yolo_list_file_stays_inside(tmp_path, places, line):
    source, secret = places
    (source / "data.yaml").write_text("names: [cat]\ntrain: train.txt\n")
    entry = str(secret) if line == "absolute" else f"../{secret.parent.name}/{secret.name}"
    (source / "train.txt").write_text(f"inside.png\n{entry}\n")
    assert_refused_then_allowed(tmp_path / "data", ["import", "yolo", "ds", str(source)], secret)


def test_a_yolo_data_yaml_path_stays_inside(tmp_path, places):
    source, secret = places
    (source / "data.yaml").write_text(f"path: {secret.parent}\nnames: [cat]\ntrain: .\n")
    assert_refused_then_allowed(tmp_path / "data", ["import", "yolo", "ds", str(source)], secret)


def test_model_outputs_stay_inside(tmp_path, places):
    source, secret = places
    lines = source / "outputs.jsonl"
    lines.write_text(json.dumps({"images": [f"../{secret.parent.name}/{secret.name}"], "output": "[]"}) + "\n")
    assert_refused_then_allowed(tmp_path / "data", ["import", "outputs", "ds", str(lines)], secret)


def test_a_link_out_of_the_folder_counts_as_outside(tmp_path, places):
    source, secret = places
    (source / "link.png").symlink_to(secret)
    lines = source / "outputs.jsonl"
    lines.write_text(json.dumps({"images": ["link.png"], "output": "[]"}) + "\n")
    assert_refused_then_allowed(tmp_path / "data", ["import", "outputs", "ds", str(lines)], secret)

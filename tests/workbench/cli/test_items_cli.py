"""``workbench import images`` (files, folders, globs, zips) and ``workbench items``: the CLI contract scripts rely on."""

from __future__ import annotations

import json
import zipfile

import pytest
from typer.testing import CliRunner

from tests.cli_text import plain
from tests.factories import write_image
from workbench.cli import app


def _run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    write_image(folder, 640, 480, fmt="JPEG", name="a.jpg")
    write_image(folder / "sub", 300, 500, fmt="PNG", seed=1, name="b.png")
    write_image(folder, 640, 480, fmt="JPEG", orientation=6, seed=2, name="phone.jpg")
    (folder / "readme.txt").write_text("not an image")
    return folder


def test_import_a_folder_then_list_items_as_json(photos, tmp_path):
    data = tmp_path / "data"
    result = _run("import", "images", "garden", photos, "--data-dir", data)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"dataset": "garden", "items": 3, "annotations": 0, "duplicates": 0,
                                         "skipped": 0, "warnings": []}
    listed = _run("items", "garden", "--json", "--data-dir", data)
    assert listed.exit_code == 0, listed.output
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(r["status"], r["images"][0]["file"], r["images"][0]["original"], r["boxes"], r["points"])
            for r in rows] == [("new", "a.jpg", [640, 480], 0, 0), ("new", "phone.jpg", [480, 640], 0, 0),
                               ("new", "b.png", [300, 500], 0, 0)]
    assert all(set(r) == {"id", "status", "split", "images", "boxes", "points"} for r in rows)


def test_the_same_image_twice_is_one_item_and_a_second_run_adds_only_new_files(photos, tmp_path):
    data = tmp_path / "data"
    (photos / "copy-of-a.jpg").write_bytes((photos / "a.jpg").read_bytes())
    first = json.loads(_run("import", "images", "g", photos, "--data-dir", data).stdout)
    assert (first["items"], first["duplicates"]) == (3, 1)
    write_image(photos, 20, 20, seed=7, name="new.png")
    second = json.loads(_run("import", "images", "g", photos, "--data-dir", data).stdout)
    assert (second["items"], second["duplicates"]) == (1, 4)


def test_globs_and_zips(photos, tmp_path):
    data = tmp_path / "data"
    archive = tmp_path / "more.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(photos / "a.jpg", "nested/a.jpg")
        zf.write(photos / "sub" / "b.png", "../../escape.png")  # a hostile member name lands inside the import
        zf.writestr("notes.txt", "skip me")
    result = _run("import", "images", "z", str(photos / "**" / "*.png"), archive, "--data-dir", data)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["items"], report["duplicates"]) == (2, 1)  # b.png by glob, a.jpg from the zip, b.png again
    files = [json.loads(line)["images"][0]["file"] for line in _run("items", "z", "--json", "--data-dir",
                                                                     data).stdout.splitlines()]
    assert files == ["b.png", "a.jpg"]
    assert not (tmp_path.parent / "escape.png").exists()


def test_unreadable_files_are_named_and_the_rest_come_in(tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 truncated")
    good = write_image(tmp_path, 32, 32, name="good.png")
    result = _run("import", "images", "d", broken, good, tmp_path / "missing.png", "--data-dir", tmp_path / "data")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["items"], report["skipped"]) == (1, 2)
    assert any("broken.jpg" in w for w in report["warnings"]) and any("missing.png" in w for w in report["warnings"])


def test_items_filters_by_status_and_prints_lines(photos, tmp_path):
    data = tmp_path / "data"
    _run("import", "images", "g", photos, "--data-dir", data)
    assert _run("items", "g", "--status", "accepted", "--data-dir", data).stdout == ""
    lines = _run("items", "g", "--status", "new", "--data-dir", data).stdout.splitlines()
    assert len(lines) == 3 and "a.jpg 640x480" in lines[0]
    bad = _run("items", "g", "--status", "done", "--data-dir", data)
    assert bad.exit_code == 1 and "item status must be one of" in plain(bad.output)


def test_export_takes_accepted_items_by_default(photos, tmp_path):
    data = tmp_path / "data"
    _run("import", "images", "g", photos, "--data-dir", data)
    result = _run("export", "g", tmp_path / "out", "--data-dir", data)
    assert result.exit_code == 1
    assert "has no accepted items to export (3 new)" in plain(result.output)
    ok = _run("export", "g", tmp_path / "out", "--status", "new", "--format", "workbench", "--data-dir", data)
    assert ok.exit_code == 0, ok.output

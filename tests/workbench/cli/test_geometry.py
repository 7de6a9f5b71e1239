"""``workbench geometry``: JSON per image, per-image errors, exit 1 only when every image failed."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from tests.factories import write_image
from workbench.cli import app

runner = CliRunner()


def _run(*args: str):
    result = runner.invoke(app, ["geometry", *args])
    return result, (json.loads(result.stdout) if result.stdout.strip() else None)


def test_geometry_prints_one_object_per_image(tmp_path):
    a = write_image(tmp_path, 640, 480, fmt="JPEG")
    b = write_image(tmp_path, 60, 40, fmt="JPEG", orientation=6)  # displayed as 40 x 60
    result, report = _run(str(a), str(b))
    assert result.exit_code == 0, result.output
    assert report == [
        {"file": str(a), "original": [640, 480], "resized": [644, 476], "grid_thw": [1, 34, 46], "tokens": 391},
        {"file": str(b), "original": [40, 60], "resized": [56, 84], "grid_thw": [1, 6, 4], "tokens": 6},
    ]


def test_family_and_pixel_limits(tmp_path):
    image = write_image(tmp_path, 1920, 1080, fmt="PNG")
    _, report = _run("--family", "qwen2.5-vl", "--max-pixels", str(1280 * 28 * 28), str(image))
    assert report[0]["resized"] == [1316, 728] and report[0]["tokens"] == 1222
    _, report = _run("--family", "QWEN3-VL", str(image))
    assert report[0]["resized"] == [1920, 1088] and report[0]["grid_thw"] == [1, 68, 120]


def test_bad_files_get_an_error_entry_and_do_not_fail_the_run(tmp_path):
    good = write_image(tmp_path, 100, 100)
    bad = tmp_path / "notes.txt"
    bad.write_text("not an image")
    thin = write_image(tmp_path, 2010, 10)
    result, report = _run(str(bad), str(good), str(tmp_path / "missing.png"), str(thin))
    assert result.exit_code == 0
    assert [sorted(entry) for entry in report] == [
        ["error", "file"], ["file", "grid_thw", "original", "resized", "tokens"], ["error", "file"], ["error", "file"],
    ]
    assert "not an image" in report[0]["error"]
    assert "no such file" in report[2]["error"]
    assert "aspect ratio 201.0" in report[3]["error"]


def test_exit_code_is_1_when_every_image_failed(tmp_path):
    result, report = _run(str(tmp_path / "a.png"), str(tmp_path / "b.png"))
    assert result.exit_code == 1
    assert len(report) == 2 and all("error" in entry for entry in report)


@pytest.mark.parametrize(
    "args",
    [pytest.param(["--min-pixels", "1000", "--max-pixels", "10"], id="min-above-max"),
     pytest.param(["--family", "llava"], id="unknown-family"), pytest.param(["--max-pixels", "0"], id="zero")],
)
def test_bad_options_are_usage_errors(tmp_path, args):
    image = write_image(tmp_path, 10, 10)
    result = runner.invoke(app, ["geometry", *args, str(image)])
    assert result.exit_code == 2


def test_python_dash_m_workbench(tmp_path):
    image = write_image(tmp_path, 50, 40)
    out = subprocess.run([sys.executable, "-m", "workbench", "geometry", str(image)],
                         capture_output=True, text=True, check=True).stdout
    assert json.loads(out)[0]["resized"] == [84, 56]

"""``workbench parse``: real command, real files and stdin, JSON out."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from workbench.cli import app

RUNNER = CliRunner()
OUTPUT = '```json\n[{"bbox_2d": [322, 238, 644, 476], "label": "猫"}]\n```'


def test_reads_a_file(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text(OUTPUT, encoding="utf-8")
    result = RUNNER.invoke(app, ["parse", "--family", "qwen2.5-vl", "--original", "640", "480", str(path)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["detections"][0] == {"kind": "box", "label": "猫", "image": 1, "model": [322.0, 238.0, 644.0, 476.0],
                                          "original": [320.0, 240.0, 640.0, 480.0], "outside": False, "attributes": {}}
    assert data["warnings"] == []


def test_reads_stdin_with_explicit_resized_size():
    result = RUNNER.invoke(app, ["parse", "-f", "qwen2.5-vl", "--original", "1280", "720", "--resized", "640", "640", "-"],
                           input=OUTPUT)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["detections"][0]["original"] == [644.0, 267.75, 1288.0, 535.5]


def test_pixel_limits_change_the_resized_size():
    # 1920x1080 with max 1280*28*28 is seen as 1316x728: x 658 -> 960
    text = '[{"point_2d": [658, 364], "label": "centre"}]'
    result = RUNNER.invoke(app, ["parse", "-f", "qwen2.5-vl", "--original", "1920", "1080",
                                 "--min-pixels", "3136", "--max-pixels", str(1280 * 28 * 28)], input=text)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["detections"][0]["original"] == [960.0, 540.0]


def test_model_text_never_fails_the_command():
    result = RUNNER.invoke(app, ["parse", "-f", "qwen3-vl", "--original", "640", "480"], input='[{"bbox_2d": [1, 2')
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["detections"] == [] and data["warnings"]


def test_bad_arguments_fail_clearly(tmp_path):
    missing = RUNNER.invoke(app, ["parse", "-f", "qwen3-vl", "--original", "640", "480", str(tmp_path / "nope.txt")])
    assert missing.exit_code == 1 and "cannot read" in missing.output
    zero = RUNNER.invoke(app, ["parse", "-f", "qwen3-vl", "--original", "0", "480"], input="[]")
    assert zero.exit_code != 0 and "zero size" in zero.output
    both = RUNNER.invoke(app, ["parse", "-f", "qwen2.5-vl", "--original", "640", "480", "--resized", "644", "476",
                               "--max-pixels", "50000"], input="[]")
    assert both.exit_code != 0 and "not both" in both.output
    no_size = RUNNER.invoke(app, ["parse", "-f", "qwen3-vl"], input="[]")
    assert no_size.exit_code != 0 and "--original" in no_size.output


def test_coord_key_names_the_prompts_own_keys():
    text = '{"result": [500, 250]}\n{"where": [100, 200, 300, 400], "label": "cat"}'
    plain = RUNNER.invoke(app, ["parse", "-f", "qwen3-vl", "--original", "640", "480"], input=text)
    assert json.loads(plain.stdout)["detections"] == []
    named = RUNNER.invoke(app, ["parse", "-f", "qwen3-vl", "--original", "640", "480", "--coord-key", "result",
                                "--coord-key", "where"], input=text)
    assert named.exit_code == 0, named.output
    found = json.loads(named.stdout)["detections"]
    assert [(d["kind"], d["original"]) for d in found] == [("point", [320.0, 120.0]), ("box", [64.0, 96.0, 192.0, 192.0])]
    assert found[0]["attributes"] == {"label_missing": True}


def test_an_empty_coord_key_is_a_bad_option():
    result = RUNNER.invoke(app, ["parse", "-f", "qwen3-vl", "--original", "640", "480", "--coord-key", " "], input="[]")
    assert result.exit_code == 2 and "coordinate_keys" in result.output


def test_a_convention_other_than_the_familys():
    """A probe's verdict: the numbers are y first, in original pixels, whatever the family says."""
    result = RUNNER.invoke(app, ["parse", "-f", "qwen3.5", "--original", "1000", "500", "--convention",
                                 "absolute-original-yx", "-"], input='[{"bbox_2d": [50, 100, 250, 300], "label": "cup"}]')
    assert result.exit_code == 0, result.output
    (detection,) = json.loads(result.output)["detections"]
    assert detection["original"] == [100.0, 50.0, 300.0, 250.0]

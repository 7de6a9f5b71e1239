"""``workbench items --order confidence`` and ``workbench calibrate``: the scripts' view of the confidence."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from tests.factories import write_image
from workbench.cli import app
from workbench.store import AnnotationDraft, DatasetStore


def _run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def _scored_dataset(tmp_path):
    data = tmp_path / "data"
    with DatasetStore.open(data) as store:
        dataset = store.create_dataset("cups")
        for n, scores in enumerate([(0.9, 0.95), (0.3, 0.99), (), (0.6,)]):
            item = store.add_item(dataset.id, [write_image(tmp_path, 200, 100, seed=n, name=f"{n}.png")])
            if scores:
                run = store.run(dataset.id, model="m", family="qwen2.5-vl", settings={})
                drafts = [AnnotationDraft.box((10 + 40 * k, 10, 40 + 40 * k, 50), "cup", provenance="model", score=s)
                          for k, s in enumerate(scores)]
                store.record_proposals(run.id, item.id, [drafts])
    return data


def test_items_weakest_first_with_each_boxs_confidence(tmp_path):
    data = _scored_dataset(tmp_path)
    result = _run("items", "cups", "--order", "confidence", "--json", "--data-dir", data)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["weakest"] for r in rows] == [0.3, 0.6, 0.9, None]
    assert [a["confidence"] for a in rows[0]["annotations"]] == [0.3, 0.99]
    assert "not calibrated yet" in result.stderr
    text = _run("items", "cups", "--order", "confidence", "--data-dir", data)
    assert text.exit_code == 0 and "weakest 0.300" in text.stdout.splitlines()[0]
    plain = _run("items", "cups", "--json", "--data-dir", data)
    assert "annotations" not in json.loads(plain.stdout.splitlines()[0])
    bad = _run("items", "cups", "--order", "sideways", "--data-dir", data)
    assert bad.exit_code == 1 and "--order" in bad.stderr


def test_calibrate_on_demand_says_how_far_from_calibrated(tmp_path):
    data = _scored_dataset(tmp_path)
    result = _run("calibrate", "cups", "--json", "--data-dir", data)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["calibrated"] is False and report["reviewed_items"] == 0 and report["calibration"] is None
    missing = _run("calibrate", "nope", "--data-dir", data)
    assert missing.exit_code == 1 and "error:" in missing.stderr

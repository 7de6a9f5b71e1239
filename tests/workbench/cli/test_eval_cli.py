"""``workbench eval`` and ``workbench eval compare`` against a fake server with known answers, and the commands
that prepare an evaluation: ``workbench split``, ``workbench items --split/--set-status/--set-split``,
``workbench import ... --status accepted``."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.cli_text import plain
from tests.fake_server import FakeServer
from tests.workbench.evaluate.known import NAME, build_known
from workbench.cli import app
from workbench.store import DatasetStore

SHIFTED = "Locate every {target} in the image, shifted, and output the bbox coordinates in JSON format."


def _run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture
def data(tmp_path):
    folder = tmp_path / "data"
    with DatasetStore.open(folder) as store:
        known = build_known(store, tmp_path / "images")
    return folder, known


@pytest.fixture
def server(data):
    with FakeServer(data[1].answer, models=["good"]) as server:
        yield server


def _eval(data_dir, server, *extra):
    return _run("eval", NAME, "--base-url", server.url, "--family", "qwen2.5-vl", "--data-dir", data_dir, *extra)


def test_eval_prints_one_json_object_per_cell_with_the_known_numbers(data, server):
    data_dir, _ = data
    result = _eval(data_dir, server, "--split", "val", "--model", "good", "--prompt", "Find {target}.",
                   "--prompt", SHIFTED, "--max-pixels", "200704", "--json")
    assert result.exit_code == 0, result.output
    cells = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(c["model"], c["prompt"], c["max_pixels"], c["items"], c["state"]) for c in cells] == [
        ("good", "Find {target}.", 200704, 6, "done"), ("good", SHIFTED, 200704, 6, "done")]
    exact, shifted = (c["metrics"] for c in cells)
    assert (exact["acc50"], exact["acc75"], shifted["acc50"], shifted["acc75"]) == (1.0, 1.0, 1.0, 0.0)
    assert shifted["map50_95"] == pytest.approx(0.4) and exact["map50_95"] == pytest.approx(1.0)
    keys = {"acc50", "acc75", "miou", "center_acc", "map50_95", "map50", "map75", "ar100", "precision", "recall",
            "f1", "parse_failures", "duplicates", "outside", "none_accuracy", "truncated", "output_tokens",
            "prompt_tokens", "seconds_per_item", "per_label", "ordering"}
    assert keys <= set(exact) and exact["ordering"] == "proposal order"
    with DatasetStore.open(data_dir) as store:
        run = store.run_record(cells[0]["run_id"])
        assert run.kind == "eval" and run.settings["max_pixels"] == 200704 and run.settings["prompt_template"] == \
            "Find {target}."
    assert all(r.limits.max_pixels == 200704 for r in server.requests)  # the budget reached the server


def test_eval_prints_a_table_and_compare_says_what_changed(data, server):
    data_dir, _ = data
    result = _eval(data_dir, server, "--split", "val", "--model", "good", "--prompt", SHIFTED, "--prompt",
                   "Find {target}.")
    assert result.exit_code == 0, result.output
    text = plain(result.stdout)
    assert "6 accepted item(s) of val" in text and "good · 'Find {target}.' · default pixels" in text
    with DatasetStore.open(data_dir) as store:
        runs = [cell.run_id for cell in store.evaluations(NAME)[0].cells]
    compared = _run("eval", "compare", runs[1], runs[0], "--resamples", "200", "--data-dir", data_dir)
    assert compared.exit_code == 0, compared.output
    assert "acc75 1.000 0.000 -1.000 [-1.000, -1.000]" in plain(compared.stdout)
    assert "5 item(s) got worse" in compared.stdout
    as_json = json.loads(_run("eval", "compare", runs[1], runs[0], "--resamples", "50", "--json",
                              "--data-dir", data_dir).stdout)
    assert as_json["metrics"]["acc50"]["difference"] == 0.0 and len(as_json["worse"]) == 5


def test_no_accepted_item_in_the_split_is_said_and_nothing_runs(data, server):
    data_dir, _ = data
    result = _eval(data_dir, server, "--split", "test", "--model", "good")
    assert result.exit_code == 1 and "no accepted item in the test split of 'shelf'" in plain(result.output)
    assert server.requests == []


def test_an_unreachable_model_fails_its_cell_and_the_exit_code_says_so(data, server):
    data_dir, _ = data
    result = _eval(data_dir, server, "--split", "val", "--model", "missing", "--model", "good", "--json")
    assert result.exit_code == 1, result.output
    failed, done = (json.loads(line) for line in result.stdout.splitlines())
    assert failed["state"] == "failed" and "`missing` does not exist" in failed["error"]
    assert done["state"] == "done" and done["metrics"]["acc50"] == 1.0


def test_items_lists_and_changes_splits_and_statuses(data):
    data_dir, known = data
    listed = _run("items", NAME, "--split", "val", "--status", "accepted", "--json", "--data-dir", data_dir)
    assert [json.loads(line)["id"] for line in listed.stdout.splitlines()] == known.val
    changed = _run("items", NAME, "--ids", ",".join(map(str, known.new)), "--set-status", "accepted",
                   "--set-split", "test", "--json", "--data-dir", data_dir)
    assert changed.exit_code == 0, changed.output
    assert [(r["status"], r["split"]) for r in map(json.loads, changed.stdout.splitlines())] == [("accepted", "test")]
    assert "1 item(s) set to accepted" in changed.stderr
    refused = _run("items", NAME, "--ids", "999", "--set-status", "accepted", "--data-dir", data_dir)
    assert refused.exit_code == 1 and "no item 999" in refused.output
    bad = _run("items", NAME, "--set-status", "done", "--data-dir", data_dir)
    assert bad.exit_code == 1 and "item status must be one of" in plain(bad.output)


def test_split_assigns_by_content_and_keeps_the_fractions(data):
    data_dir, _ = data
    _run("items", NAME, "--set-split", "none", "--data-dir", data_dir)
    result = _run("split", NAME, "--train", "0.5", "--val", "0.5", "--data-dir", data_dir)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["fractions"] == {"train": 0.5, "val": 0.5, "test": 0.0}
    assert sum(report["assigned"].values()) == 9 and report["items"]["none"] == 0
    again = json.loads(_run("split", NAME, "--reassign", "--data-dir", data_dir).stdout)
    assert again["items"] == report["items"]  # the same images, the same splits
    too_much = _run("split", NAME, "--train", "0.9", "--val", "0.2", "--data-dir", data_dir)
    assert too_much.exit_code == 1 and "add up to 1.1" in too_much.output


def test_imported_ground_truth_can_be_accepted_to_evaluate_on(tmp_path):
    from tests.factories import write_image

    folder = tmp_path / "yolo"
    (folder / "images").mkdir(parents=True)
    (folder / "labels").mkdir()
    (folder / "classes.txt").write_text("cat\n")
    write_image(folder / "images", 64, 48, name="a.png")
    write_image(folder / "images", 64, 48, seed=1, name="empty.png")  # a negative: an empty label file
    write_image(folder / "images", 64, 48, seed=2, name="unseen.png")  # no label file: nobody looked yet
    (folder / "labels" / "a.txt").write_text("0 0.5 0.5 0.5 0.5\n")
    (folder / "labels" / "empty.txt").write_text("")
    default = _run("import", "yolo", "as-is", folder, "--data-dir", tmp_path / "data")
    assert default.exit_code == 0, default.output
    accepted = _run("import", "yolo", "truth", folder, "--status", "accepted", "--data-dir", tmp_path / "data")
    assert accepted.exit_code == 0, accepted.output
    with DatasetStore.open(tmp_path / "data") as store:
        assert sorted(i.status for i in store.items("as-is")) == ["accepted", "accepted", "new"]
        assert [i.status for i in store.items("truth")] == ["accepted", "accepted", "accepted"]
    bad = _run("import", "yolo", "x", folder, "--status", "approved", "--data-dir", tmp_path / "data")
    assert bad.exit_code == 1 and "item status must be one of" in plain(bad.output)


@pytest.mark.slow
def test_eval_runs_on_the_ray_engine_with_the_same_numbers(data, server):
    data_dir, _ = data
    result = _eval(data_dir, server, "--split", "val", "--model", "good", "--prompt", SHIFTED, "--engine", "ray",
                   "--concurrency", "2", "--json")
    assert result.exit_code == 0, result.output
    (cell,) = (json.loads(line) for line in result.stdout.splitlines())
    assert cell["state"] == "done" and cell["metrics"]["acc50"] == 1.0
    assert cell["metrics"]["map50_95"] == pytest.approx(0.4)


def _answered(data_dir) -> int:
    with DatasetStore.open(data_dir) as store:
        found = store.evaluations(NAME)
        run = found[0].cells[0].run_id if found else None
        return len(store.run_answers(run)) if run else 0


@pytest.mark.slow
def test_ctrl_c_leaves_whole_answers_and_the_same_command_resumes(data):
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    data_dir, known = data
    repo = Path(__file__).resolve().parents[3]
    with FakeServer(known.answer, models=["good"], delay_s=0.4, serial=True) as slow:
        arguments = ["eval", NAME, "--split", "val", "--model", "good", "--base-url", slow.url, "--concurrency", "1",
                     "--no-geometry-check", "--data-dir", str(data_dir)]
        command = [sys.executable, "-c", "import runpy, signal, sys; signal.signal(signal.SIGINT, "
                   "signal.default_int_handler); sys.argv = ['workbench', *sys.argv[1:]]; "
                   "runpy.run_module('workbench', run_name='__main__')", *arguments]
        env = os.environ | {"PYTHONPATH": os.pathsep.join([str(repo), os.environ.get("PYTHONPATH", "")])}
        process = subprocess.Popen(command, cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
        deadline = time.monotonic() + 120
        while _answered(data_dir) < 2:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "no answer stored in 120 s"
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 130, stderr
        assert "interrupted: every answer stored so far is whole" in plain(stderr)
        answered = _answered(data_dir)
        assert 2 <= answered < 6
        with DatasetStore.open(data_dir) as store:
            (evaluation,) = store.evaluations(NAME)
            assert evaluation.cells[0].state == "interrupted"
        asked = len(slow.requests)
        resumed = _run(*arguments, "--json")
        assert resumed.exit_code == 0, resumed.output
        (cell,) = (json.loads(line) for line in resumed.stdout.splitlines())
        assert cell["evaluation"] == evaluation.id and cell["metrics"]["answered"] == 6
        assert len(slow.requests) - asked == 6 - answered  # only the items not answered before


@pytest.mark.slow
def test_eval_runs_a_local_model(data, tiny_qwen25):
    data_dir, _ = data
    result = _run("eval", NAME, "--split", "val", "--backend", "local", "--model", tiny_qwen25, "--family",
                  "qwen2.5-vl", "--max-new-tokens", "8", "--max-pixels", "200704", "--json", "--data-dir", data_dir)
    assert result.exit_code == 0, result.output
    (cell,) = (json.loads(line) for line in result.stdout.splitlines())
    # a tiny random model: whatever it wrote is measured (cut at 8 tokens), nothing fails
    assert cell["state"] == "done" and cell["metrics"]["answered"] == 6 and cell["metrics"]["truncated"] >= 1
    with DatasetStore.open(data_dir) as store:
        run = store.run_record(cell["run_id"])
        assert run.kind == "eval" and run.settings["max_pixels"] == 200704 and run.family == "qwen2.5-vl"

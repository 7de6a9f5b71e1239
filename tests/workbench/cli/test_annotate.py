"""``workbench annotate-files`` end to end through real ``transformers serve`` processes.

Kill and Ctrl-C are real signals to a real ``python -m workbench`` process; the output file is
read back line by line afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.cli_text import plain
from tests.workbench.batch.conftest import TEST_LIMITS, image_folder, limited_server  # noqa: F401 - fixtures
from workbench.cli import app

REPO = Path(__file__).resolve().parents[3]
GOOD = 29


def options(url: str, model: Path, *extra: str) -> list[str]:
    return ["--base-url", url, "--model", str(model), "--family", "qwen2.5-vl", "--limits-style", "none",
            "--min-pixels", str(TEST_LIMITS.min_pixels), "--max-pixels", str(TEST_LIMITS.max_pixels), *extra]


def invoke(folder: Path, out: Path, *args: str):
    return CliRunner().invoke(app, ["annotate-files", str(folder), "--out", str(out), *args])


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_prompt_or_labels_is_required(tmp_path):
    result = invoke(tmp_path, tmp_path / "out.jsonl", "--base-url", "http://127.0.0.1:1/v1", "--model", "qwen2.5-vl-3b")
    assert result.exit_code == 1
    assert "say what to find: give --labels a,b,c (the family's own request for them) or --prompt TEXT" in \
        plain(result.output)
    both = invoke(tmp_path, tmp_path / "out.jsonl", "--base-url", "http://127.0.0.1:1/v1", "--prompt", "Find cats.",
                  "--labels", "cat")
    assert both.exit_code == 1 and "give either --prompt TEXT or --labels a,b,c" in plain(both.output)


def test_no_server_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("WORKBENCH_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    result = invoke(tmp_path, tmp_path / "out.jsonl", "--labels", "cat", "--model", "qwen2.5-vl-3b")
    assert result.exit_code == 1 and "no server URL" in plain(result.output)


@pytest.mark.slow
def test_annotates_a_folder_then_resumes(limited_server, tiny_qwen25, image_folder, tmp_path):  # noqa: F811
    out = tmp_path / "out.jsonl"
    first = invoke(image_folder, out, "--labels", "cat,dog", *options(limited_server.url, tiny_qwen25, "--max-new-tokens", "8"))
    assert first.exit_code == 0, first.output
    text = plain(first.output)
    assert "3 probes agree" in text and f"{GOOD} annotated, 1 failed, 0 already done" in text
    assert "failed img99_broken.jpg:" in text
    lines = records(out)
    results = [r for r in lines if r["kind"] == "result"]
    assert len(results) == GOOD and {r["settings_key"] for r in results} == {results[0]["settings_key"]}
    assert results[0]["prompt"] == "Locate every cat, dog in the image and output the bbox coordinates in JSON format."
    assert results[0]["limits"] == {"min_pixels": 3136, "max_pixels": TEST_LIMITS.max_pixels}
    again = invoke(image_folder, out, "--labels", "cat,dog", *options(limited_server.url, tiny_qwen25, "--max-new-tokens", "8"))
    assert again.exit_code == 0, again.output
    assert f"0 annotated, 1 failed, {GOOD} already done" in plain(again.output)
    other = invoke(image_folder, out, "--labels", "cat", *options(limited_server.url, tiny_qwen25, "--max-new-tokens", "8"))
    assert f"{GOOD} annotated, 1 failed, 0 already done" in plain(other.output)


@pytest.mark.slow
def test_refuses_to_run_when_the_server_resizes_otherwise(serve_url, tiny_qwen25, image_folder, tmp_path):  # noqa: F811
    out = tmp_path / "out.jsonl"
    result = invoke(image_folder, out, "--labels", "cat", *options(serve_url, tiny_qwen25))
    assert result.exit_code == 1
    text = plain(result.output)
    assert "resizes images with other limits than the workbench" in text and "was not scaled down" in text
    assert not out.exists() or records(out) == []


def start(folder: Path, out: Path, url: str, model: Path) -> subprocess.Popen:
    arguments = ["annotate-files", str(folder), "--out", str(out), "--labels", "cat",
                 *options(url, model, "--concurrency", "1", "--max-new-tokens", "96")]
    # As from a terminal, where Ctrl-C reaches the program: a test run launched in the background inherits SIGINT
    # ignored, and Python then keeps it ignored in its children.
    command = [sys.executable, "-c", "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler);"
               " sys.argv = ['workbench', *sys.argv[1:]]; runpy.run_module('workbench', run_name='__main__')",
               *arguments]
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_lines(out: Path, count: int, process: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if out.exists() and out.read_bytes().count(b"\n") >= count:
            return
        if process.poll() is not None:
            raise AssertionError(f"the run ended early ({process.returncode}): {process.stderr.read()}")
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} lines in {timeout} s")


@pytest.mark.slow
def test_killed_mid_run_then_resumed_annotates_each_item_once(limited_server, tiny_qwen25, image_folder, tmp_path):  # noqa: F811
    out = tmp_path / "out.jsonl"
    process = start(image_folder, out, limited_server.url, tiny_qwen25)
    wait_for_lines(out, 4, process)
    process.kill()
    process.communicate(timeout=30)
    stored = records(out)  # every line whole: a kill cannot leave half an item
    assert 4 <= len(stored) < GOOD + 1, "the kill came mid-run"
    resumed = invoke(image_folder, out, "--labels", "cat", *options(limited_server.url, tiny_qwen25, "--concurrency", "1", "--max-new-tokens", "96"))
    assert resumed.exit_code == 0, resumed.output
    done_before = sum(1 for r in stored if r["kind"] == "result")
    assert f"{GOOD - done_before} annotated, 1 failed, {done_before} already done" in plain(resumed.output)
    counts = Counter(r["unit_key"] for r in records(out) if r["kind"] == "result")
    assert len(counts) == GOOD and set(counts.values()) == {1}


@pytest.mark.slow
@pytest.mark.parametrize("stop", [pytest.param(signal.SIGINT, id="ctrl-c"), pytest.param(signal.SIGTERM, id="sigterm")])
def test_interrupted_run_says_so_and_keeps_whole_records(limited_server, tiny_qwen25, image_folder, tmp_path, stop):  # noqa: F811
    out = tmp_path / "out.jsonl"
    process = start(image_folder, out, limited_server.url, tiny_qwen25)
    wait_for_lines(out, 2, process)
    process.send_signal(stop)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "interrupted: what was stored in" in plain(stderr)
    stored = records(out)
    assert 2 <= len(stored) <= GOOD + 1
    assert len({r["unit_key"] for r in stored}) == len(stored)


@pytest.mark.slow
def test_engine_ray_writes_the_same_file_records(limited_server, tiny_qwen25, image_folder, tmp_path):  # noqa: F811
    pytest.importorskip("ray.data.llm", reason="Ray Data is not installed (pip install '.[ray]')")
    out = tmp_path / "out.jsonl"
    result = invoke(image_folder, out, "--labels", "cat", "--engine", "ray",
                    *options(limited_server.url, tiny_qwen25, "--max-new-tokens", "4", "--concurrency", "2"))
    assert result.exit_code == 0, result.output
    assert f"{GOOD} annotated, 1 failed, 0 already done" in plain(result.output)
    lines = records(out)
    assert Counter(r["kind"] for r in lines) == {"result": GOOD, "failure": 1}
    assert all(r["images"][0]["tokens"] > 0 and r["prompt_tokens"] for r in lines if r["kind"] == "result")

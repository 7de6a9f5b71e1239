"""``workbench annotate DATASET``: a real ``transformers serve`` pre-annotates a dataset's items, kill and resume."""

from __future__ import annotations

import os
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
from workbench.store import AnnotationDraft, DatasetStore

REPO = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.slow


def _options(url: str, model: Path, *extra: str) -> list[str]:
    return ["--base-url", url, "--model", str(model), "--family", "qwen2.5-vl", "--limits-style", "none",
            "--min-pixels", str(TEST_LIMITS.min_pixels), "--max-pixels", str(TEST_LIMITS.max_pixels), *extra]


@pytest.fixture
def dataset(image_folder, tmp_path):  # noqa: F811
    """29 items, the first with a box a person drew."""
    data = tmp_path / "data"
    with DatasetStore.open(data) as store:
        record = store.create_dataset("photos")
        for path in sorted(image_folder.glob("*.png")):
            store.add_item(record, [path])
        first = store.item_ids(record)[0]
        store.set_annotations(first, 1, [AnnotationDraft.box((1, 1, 20, 20), "mine")])  # a person's work
    return data


def test_a_dataset_is_pre_annotated_then_resumed_and_human_work_is_kept(limited_server, tiny_qwen25, dataset):  # noqa: F811
    args = ["annotate", "photos", "--status", "new", "--labels", "cat,dog", "--data-dir", str(dataset),
            *_options(limited_server.url, tiny_qwen25, "--max-new-tokens", "8", "--concurrency", "4")]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "29 annotated, 0 failed, 0 already done" in plain(first.output)
    with DatasetStore.open(dataset) as store:
        items = store.items("photos")
        assert {i.status for i in items} == {"pre-annotated", "new"}
        mine = items[0]
        assert mine.status == "new" and [a.label for a in mine.annotations] == ["mine"]  # kept, proposals beside
        run, _proposals = store.proposals(mine.id)
        assert run is not None and run.settings["max_pixels"] == TEST_LIMITS.max_pixels
        assert all(store.run_done_with(i.id, "settings_key", run.settings["settings_key"]) for i in items)
    again = CliRunner().invoke(app, [*args, "--status", "pre-annotated"])  # the same items, now 28 pre-annotated
    assert again.exit_code == 0 and "0 annotated, 0 failed, 29 already done" in plain(again.output)


def test_killed_mid_run_then_resumed_annotates_each_item_once(limited_server, tiny_qwen25, dataset):  # noqa: F811
    command = [sys.executable, "-m", "workbench", "annotate", "photos", "--labels", "cat", "--data-dir", str(dataset),
               *_options(limited_server.url, tiny_qwen25, "--concurrency", "1", "--max-new-tokens", "96")]
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 180
    with DatasetStore.open(dataset) as store:
        while sum(i.status == "pre-annotated" for i in store.items("photos")) < 3:
            assert process.poll() is None, process.stderr.read()
            assert time.monotonic() < deadline, "no item was annotated in time"
            time.sleep(0.1)
    process.kill()
    process.communicate(timeout=30)
    resumed = CliRunner().invoke(app, command[3:])
    assert resumed.exit_code == 0, resumed.output
    with DatasetStore.open(dataset) as store:
        runs_per_item = Counter(row[0] for row in store.db.conn.execute("SELECT item_id FROM run_items WHERE error = ''"))
        history = Counter(row[0] for row in store.db.conn.execute("SELECT item_id FROM actions WHERE action = 'model run'"))
    assert len(runs_per_item) == 29 and set(runs_per_item.values()) == {1}  # every item, once
    assert set(history.values()) == {1}  # one history entry per item the run changed

"""A writer killed with SIGKILL in the middle of actions loses none it had committed, and no action is half done."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.factories import write_image
from workbench.store import DatasetStore

REPO = Path(__file__).resolve().parents[3]

WRITER = textwrap.dedent("""
    import sys
    from workbench.store import AnnotationDraft, DatasetStore
    store = DatasetStore(sys.argv[1])
    item_id = int(sys.argv[2])
    n = 0
    while True:
        n += 1
        boxes = [AnnotationDraft.box((k, k, k + 10 + n, k + 10), f"round{n}") for k in range(300)]
        item = store.set_annotations(item_id, 1, boxes)      # one user action: 300 boxes at once
        item = store.set_status(item_id, "accepted" if n % 2 else "pre-annotated")
        print(n, item.version, flush=True)   # printed only after both calls returned: committed
""")


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
@pytest.mark.parametrize("after", [3, 8, 15])
def test_sigkill_inside_an_action_leaves_it_all_or_nothing(tmp_path, after):
    db = tmp_path / "data" / "workbench.sqlite3"
    with DatasetStore(db) as store:
        item = store.add_item(store.create_dataset("d"), [write_image(tmp_path, 640, 480)])
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(db), str(item.id)], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    committed = []
    try:
        for line in writer.stdout:
            committed.append(tuple(map(int, line.split())))
            if len(committed) >= after:
                break
    finally:
        os.kill(writer.pid, signal.SIGKILL)  # the writer is busy inside its next transaction by now
        writer.wait(timeout=30)
    assert writer.returncode == -signal.SIGKILL, writer.stderr.read()
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with DatasetStore(db) as store:
        now = store.item(item.id)
        history = store.history(item.id)
        last_after = json.loads(store.db.conn.execute(
            "SELECT after FROM actions WHERE item_id = ? ORDER BY id DESC LIMIT 1", (item.id,)).fetchone()[0])
    rounds = {a.label for a in now.annotations}
    assert len(rounds) == 1 and len(now.annotations) == 300  # never a mix of two actions, never a partial one
    assert int(rounds.pop().removeprefix("round")) >= after  # everything printed is there
    assert now.version >= committed[-1][1] and len(history) == now.version - 1  # one entry per change, none lost
    assert [a["label"] for a in last_after["annotations"]] == [a.label for a in now.annotations]
    assert last_after["status"] == now.status  # the last entry describes exactly the state the item is in

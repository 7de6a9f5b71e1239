"""A writer killed with SIGKILL in the middle of a burst of edits loses none it had committed."""

from __future__ import annotations

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
    image_id = int(sys.argv[2])
    n = 0
    while True:
        n += 1
        a = store.add_annotation(image_id, AnnotationDraft.box((n, n, n + 10, n + 10), f"box{n}"))
        if n % 3 == 0:
            a = store.update_annotation(a.id, label=f"moved{n}", coords=(n, n, n + 20, n + 20))
        print(a.id, a.label, flush=True)   # printed only after the call returned: committed
""")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_mid_burst_keeps_every_committed_edit(tmp_path):
    db = tmp_path / "data" / "workbench.sqlite3"
    with DatasetStore(db) as store:
        sample = store.add_sample(store.create_dataset("d"), [write_image(tmp_path, 64, 48)])
    image_id = sample.images[0].id
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(db), str(image_id)], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    committed: dict[int, str] = {}
    try:
        for line in writer.stdout:
            annotation_id, label = line.split()
            committed[int(annotation_id)] = label
            if len(committed) >= 150:
                break
    finally:
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=30)
    assert writer.returncode == -signal.SIGKILL, writer.stderr.read()
    assert len(committed) == 150

    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with DatasetStore(db) as store:
        stored = {a.id: a.label for a in store.sample(sample.id).images[0].annotations}
        history = store.history(sample.id)
    assert {k: stored.get(k) for k in committed} == committed
    # the edit and its history entry commit together: every stored annotation has its "add" entry
    added = {e.annotation_id for e in history if e.action == "add_annotation"}
    assert set(stored) == added
    moved = {e.annotation_id for e in history if e.action == "update_annotation"}
    assert moved == {k for k, label in stored.items() if label.startswith("moved")}

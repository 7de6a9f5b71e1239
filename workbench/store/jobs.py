"""Background jobs (a batch started from the app): a row each with state, counts, a message and a cancel flag.

>>> import tempfile, pathlib
>>> from workbench.store.db import Database
>>> db = Database(pathlib.Path(tempfile.mkdtemp()) / "db.sqlite3")
>>> with db.write() as conn:
...     dataset = conn.execute("INSERT INTO datasets (owner, name, created_at) VALUES ('', 'pets', '')").lastrowid
>>> job = get(db, create(db, dataset, "annotate", {"model": "m"}, total=12))
>>> job.state, job.total, job.active
('queued', 12, True)

A job can be *claimed* instead: created only when no active job of the same dataset holds the same
claim (two Batch clicks, two tabs, two processes on one data folder); the check and the insert are one
transaction (``BEGIN IMMEDIATE``), so two starts at the same instant cannot both pass. The claim is a
key in the job's settings JSON (no schema change).

>>> first = claim(db, dataset, "annotate", {"model": "m"}, 3, key="k1")
>>> claim(db, dataset, "annotate", {"model": "m"}, 3, key="k1")
Traceback (most recent call last):
...
workbench.errors.StoreError: job 2 is already running on this dataset with the same settings; wait for it or cancel it first
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from workbench.errors import StoreError
from workbench.store.db import Database
from workbench.store.records import Job
from workbench.store.rows import dumps

__all__ = ["ACTIVE_STATES", "JOB_STATES", "cancel", "claim", "create", "get", "interrupt_running", "latest", "update"]

JOB_STATES = ("queued", "running", "done", "cancelled", "failed", "interrupted")
ACTIVE_STATES = ("queued", "running")
_COLUMNS = "id, dataset_id, kind, settings, state, total, done, failed, message, cancel, created_at, updated_at"


def create(db: Database, dataset_id: int, kind: str, settings: Mapping[str, object], total: int) -> int:
    now = db.clock()
    with db.write() as conn:
        return int(conn.execute(
            "INSERT INTO jobs (dataset_id, kind, settings, state, total, created_at, updated_at) "
            "VALUES (?, ?, ?, 'queued', ?, ?, ?)", (dataset_id, kind, dumps(dict(settings)), total, now, now)
        ).lastrowid or 0)


def claim(db: Database, dataset_id: int, kind: str, settings: Mapping[str, object], total: int, *,
          key: str) -> int:
    """:func:`create`, unless an active job of ``dataset_id`` holds the same claim ``key``; returns its id."""
    now = db.clock()
    with db.write() as conn:
        row = conn.execute(
            f"SELECT id FROM jobs WHERE dataset_id = ? AND state IN ({','.join('?' * len(ACTIVE_STATES))}) "
            "AND json_extract(settings, '$.claim') = ? ORDER BY id LIMIT 1",
            (dataset_id, *ACTIVE_STATES, key)).fetchone()
        if row is not None:
            raise StoreError(f"job {row[0]} is already running on this dataset with the same settings; wait for it "
                             "or cancel it first")
        return int(conn.execute(
            "INSERT INTO jobs (dataset_id, kind, settings, state, total, created_at, updated_at) "
            "VALUES (?, ?, ?, 'queued', ?, ?, ?)",
            (dataset_id, kind, dumps({**dict(settings), "claim": key}), total, now, now)).lastrowid or 0)


def update(db: Database, job_id: int, *, state: str | None = None, done: int | None = None,
           failed: int | None = None, message: str | None = None, total: int | None = None) -> None:
    if state is not None and state not in JOB_STATES:
        raise StoreError(f"job state must be one of {', '.join(JOB_STATES)}; got {state!r}")
    fields = {"state": state, "done": done, "failed": failed, "message": message, "total": total}
    changes = {k: v for k, v in fields.items() if v is not None}
    with db.write() as conn:
        sets = ", ".join(f"{k} = ?" for k in changes)
        conn.execute(f"UPDATE jobs SET {sets}{', ' if sets else ''}updated_at = ? WHERE id = ?",
                     (*changes.values(), db.clock(), job_id))


def cancel(db: Database, job_id: int) -> None:
    """Ask a running job to stop after the items in flight (it says so when it has)."""
    with db.write() as conn:
        conn.execute("UPDATE jobs SET cancel = 1, updated_at = ? WHERE id = ?", (db.clock(), job_id))


def get(db: Database, job_id: int) -> Job:
    rows = db.read(f"SELECT {_COLUMNS} FROM jobs WHERE id = ?", (job_id,))
    if not rows:
        raise StoreError(f"no job {job_id}")
    id_, dataset_id, kind, settings, state, total, done, failed, message, cancelled, created, updated = rows[0]
    return Job(id_, dataset_id, kind, json.loads(settings), state, total, done, failed, message, bool(cancelled),
               created, updated)


def latest(db: Database, dataset_id: int, *, limit: int = 5) -> list[Job]:
    """The dataset's latest jobs, newest first."""
    ids = db.read("SELECT id FROM jobs WHERE dataset_id = ? ORDER BY id DESC LIMIT ?", (dataset_id, limit))
    return [get(db, row[0]) for row in ids]


def interrupt_running(db: Database) -> int:
    """Mark jobs left running by a process that is gone as interrupted (they can be resumed)."""
    with db.write() as conn:
        return int(conn.execute("UPDATE jobs SET state = 'interrupted', message = 'the app stopped while it ran; "
                                "start it again to go on (items already done are skipped)', updated_at = ? "
                                "WHERE state IN ('queued', 'running')", (db.clock(),)).rowcount)

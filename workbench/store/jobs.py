"""Background jobs claimed one at a time: a job is only created when no other active job on the same dataset
would ask the model the same thing (two Batch clicks, two tabs, two processes on one data folder).

The claim is a key in the job's settings JSON (no schema change); the check and the insert are one
transaction (``BEGIN IMMEDIATE``), so two starts at the same instant cannot both pass.

>>> import sqlite3
>>> conn = sqlite3.connect(":memory:", isolation_level=None)
>>> _ = conn.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, dataset_id, kind, settings, state, total, "
...                  "created_at, updated_at)")
>>> claim_job(conn, 1, "annotate", {"model": "m"}, 3, "now", claim="k1")
1
>>> claim_job(conn, 1, "annotate", {"model": "m"}, 3, "now", claim="k1")
Traceback (most recent call last):
...
workbench.errors.StoreError: job 1 is already running on this dataset with the same settings; wait for it or cancel it first
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from workbench.errors import StoreError

__all__ = ["ACTIVE_STATES", "claim_job"]

ACTIVE_STATES = ("queued", "running")


def claim_job(conn: sqlite3.Connection, dataset_id: int, kind: str, settings: Mapping[str, Any], total: int,
              now: str, *, claim: str) -> int:
    """Insert a ``queued`` job unless an active one on ``dataset_id`` holds the same ``claim``; returns its id.

    Runs inside the caller's write transaction.
    """
    row = conn.execute(
        f"SELECT id FROM jobs WHERE dataset_id = ? AND state IN ({','.join('?' * len(ACTIVE_STATES))}) "
        "AND json_extract(settings, '$.claim') = ? ORDER BY id LIMIT 1", (dataset_id, *ACTIVE_STATES, claim)).fetchone()
    if row is not None:
        raise StoreError(f"job {row[0]} is already running on this dataset with the same settings; wait for it or "
                         "cancel it first")
    body = json.dumps({**dict(settings), "claim": claim}, ensure_ascii=False, sort_keys=True)
    cursor = conn.execute("INSERT INTO jobs (dataset_id, kind, settings, state, total, created_at, updated_at) "
                          "VALUES (?, ?, ?, 'queued', ?, ?, ?)", (dataset_id, kind, body, total, now, now))
    return int(cursor.lastrowid or 0)

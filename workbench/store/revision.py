"""How far a dataset has changed: a small value that differs after any change to its items or jobs.

A page that shows a dataset keeps the revision it showed and asks again now and then; a different one
means something changed meanwhile (a batch job stored an item, another window or the command line
edited one), so the page reads the store again. Every change to an item bumps its version, and every
job writes its counts to its row, so the revision is the items' count and version sum and the jobs'
progress.

>>> conn = sqlite3.connect(":memory:")
>>> _ = conn.executescript("CREATE TABLE items (dataset_id, version); CREATE TABLE jobs (id, dataset_id, state, done, "
...                        "failed); INSERT INTO items VALUES (1, 1), (1, 3), (2, 9)")
>>> dataset_revision(conn, 1)
(2, 4, 0, 0, '')
"""

from __future__ import annotations

import sqlite3

__all__ = ["dataset_revision"]


def dataset_revision(conn: sqlite3.Connection, dataset_id: int) -> tuple[int, int, int, int, str]:
    """(items, sum of their versions, last job id, its done + failed count, its state)."""
    items, versions = conn.execute("SELECT COUNT(*), COALESCE(SUM(version), 0) FROM items WHERE dataset_id = ?",
                                   (dataset_id,)).fetchone()
    job = conn.execute("SELECT id, done + failed, state FROM jobs WHERE dataset_id = ? ORDER BY id DESC LIMIT 1",
                       (dataset_id,)).fetchone()
    return (int(items), int(versions), *(job if job else (0, 0, "")))

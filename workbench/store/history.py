"""A sample's append-only edit history, and undo as a new entry that reverts the latest live edit.

Nothing in ``edits`` is ever updated or deleted (except with its sample): an undo is an entry
of its own whose ``undoes`` names the edit it reverted, so undo survives restarts and other
processes, and the full story of a sample stays readable.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from workbench.errors import StoreError
from workbench.store.records import Edit
from workbench.store.rows import annotation_from_state, dumps, insert_annotation, write_annotation

__all__ = ["read_history", "record_edit", "undo_latest"]


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def record_edit(conn: sqlite3.Connection, sample_id: int, at: str, action: str, annotation_id: int | None,
                before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, undoes: int | None = None) -> Edit:
    cursor = conn.execute(
        "INSERT INTO edits (sample_id, at, action, annotation_id, before, after, undoes) VALUES (?,?,?,?,?,?,?)",
        (sample_id, at, action, annotation_id, None if before is None else dumps(before),
         None if after is None else dumps(after), undoes),
    )
    return Edit(int(cursor.lastrowid), sample_id, at, action, annotation_id, before, after, undoes)


def read_history(conn: sqlite3.Connection, sample_id: int) -> list[Edit]:
    rows = conn.execute("SELECT id, sample_id, at, action, annotation_id, before, after, undoes FROM edits "
                        "WHERE sample_id = ? ORDER BY id", (sample_id,)).fetchall()
    return [Edit(id_, sid, at, action, aid, _loads(b), _loads(a), undoes)
            for id_, sid, at, action, aid, b, a, undoes in rows]


def undo_latest(conn: sqlite3.Connection, sample_id: int, at: str) -> Edit | None:
    """Revert the latest edit of the sample that is neither an undo nor undone; None when none is left."""
    row = conn.execute(
        "SELECT id, action, annotation_id, before, after FROM edits WHERE sample_id = ? AND undoes IS NULL "
        "AND id NOT IN (SELECT undoes FROM edits WHERE sample_id = ? AND undoes IS NOT NULL) "
        "ORDER BY id DESC LIMIT 1", (sample_id, sample_id)).fetchone()
    if row is None:
        return None
    edit_id, action, annotation_id, before_json, after_json = row
    before, after = _loads(before_json), _loads(after_json)
    if action == "set_prompt":
        conn.execute("UPDATE samples SET prompt = ? WHERE id = ?", (before["prompt"], sample_id))
    elif action == "add_annotation":
        conn.execute("DELETE FROM annotations WHERE id = ?", (annotation_id,))
    elif action == "delete_annotation":
        restored = annotation_from_state(before)
        insert_annotation(conn, restored.sample_image_id, restored, id_=restored.id)
    elif action == "update_annotation":
        write_annotation(conn, annotation_from_state(before))
    elif action == "reorder_images":
        from workbench.store.store import _write_positions

        _write_positions(conn, before["order"])
    elif action == "rename_image":
        conn.execute("UPDATE sample_images SET image_id = ? WHERE id = ?", (before["image_id"], before["sample_image_id"]))
    else:
        raise StoreError(f"edit {edit_id} ({action}) cannot be undone")
    return record_edit(conn, sample_id, at, "undo", annotation_id, after, before, undoes=edit_id)

"""An item's history: one row per user action, holding the item's whole state before and after.

Every action is undone and redone the same way — by writing back a snapshot — so there is one
mechanism for edits, accepts, renames and model runs alike, and a single undo always lands on
a state the item really had. Undo refuses when the item no longer is what the action left
(another window changed it since); a new action after undos drops the redo tail, as editors do.

A snapshot is small plain JSON: the status, the prompt, the images' order and IDs, and every
annotation with its id (ids are never reused, so an annotation comes back under its own id).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from workbench.store.records import Action
from workbench.store.rows import (
    ANNOTATION_COLUMNS,
    annotation_from_row,
    annotation_from_state,
    annotation_state,
    dumps,
    insert_annotation,
)

__all__ = ["comparable", "read_actions", "record_action", "restore", "snapshot"]


def snapshot(conn: sqlite3.Connection, item_id: int) -> dict[str, Any]:
    """The item's reviewable state as plain data."""
    status, prompt = conn.execute("SELECT status, prompt FROM items WHERE id = ?", (item_id,)).fetchone()
    images = [{"id": id_, "position": position, "image_id": image_id} for id_, position, image_id in conn.execute(
        "SELECT id, position, image_id FROM item_images WHERE item_id = ? ORDER BY position", (item_id,))]
    rows = conn.execute(
        f"SELECT {', '.join('a.' + c.strip() for c in ANNOTATION_COLUMNS.split(','))} FROM annotations a "
        "JOIN item_images ii ON ii.id = a.item_image_id WHERE ii.item_id = ? ORDER BY a.id", (item_id,)).fetchall()
    return {"status": status, "prompt": prompt, "images": images,
            "annotations": [annotation_state(annotation_from_row(row)) for row in rows]}


def comparable(state: dict[str, Any]) -> str:
    """A snapshot as compared by undo and redo: scores left out (derived data, rescored after each calibration
    without a history entry), so a rescored item can still be undone."""
    annotations = [{k: v for k, v in a.items() if k != "score"} for a in state.get("annotations", [])]
    return dumps({**state, "annotations": annotations})


def restore(conn: sqlite3.Connection, item_id: int, state: dict[str, Any]) -> None:
    """Write ``state`` back onto the item (its images must still be the same rows)."""
    conn.execute("UPDATE items SET status = ?, prompt = ? WHERE id = ?", (state["status"], state["prompt"], item_id))
    images = state["images"]
    for n, image in enumerate(images, start=1):  # step aside first: (item, position) and (item, ID) are unique
        conn.execute("UPDATE item_images SET position = ?, image_id = ? WHERE id = ?", (-n, f"\x00{n}", image["id"]))
    for image in images:
        conn.execute("UPDATE item_images SET position = ?, image_id = ? WHERE id = ?",
                     (image["position"], image["image_id"], image["id"]))
    conn.execute("DELETE FROM annotations WHERE item_image_id IN (SELECT id FROM item_images WHERE item_id = ?)",
                 (item_id,))
    for a in state["annotations"]:
        annotation = annotation_from_state(a)
        insert_annotation(conn, annotation.item_image_id, annotation, id_=annotation.id)


def record_action(conn: sqlite3.Connection, item_id: int, at: str, action: str, summary: str,
                  before: dict[str, Any], after: dict[str, Any]) -> int:
    """Append a done action; the redo tail (actions undone so far) can no longer be redone."""
    conn.execute("UPDATE actions SET state = 'dropped' WHERE item_id = ? AND state = 'undone'", (item_id,))
    cursor = conn.execute(
        "INSERT INTO actions (item_id, at, action, summary, before, after, state) VALUES (?,?,?,?,?,?, 'done')",
        (item_id, at, action, summary, dumps(before), dumps(after)))
    return int(cursor.lastrowid or 0)


def last_done(conn: sqlite3.Connection, item_id: int) -> tuple[int, str, dict, dict] | None:
    row = conn.execute("SELECT id, summary, before, after FROM actions WHERE item_id = ? AND state = 'done' "
                       "ORDER BY id DESC LIMIT 1", (item_id,)).fetchone()
    return None if row is None else (row[0], row[1], json.loads(row[2]), json.loads(row[3]))


def first_undone(conn: sqlite3.Connection, item_id: int) -> tuple[int, str, dict, dict] | None:
    row = conn.execute("SELECT id, summary, before, after FROM actions WHERE item_id = ? AND state = 'undone' "
                       "ORDER BY id ASC LIMIT 1", (item_id,)).fetchone()
    return None if row is None else (row[0], row[1], json.loads(row[2]), json.loads(row[3]))


def read_actions(conn: sqlite3.Connection, item_id: int) -> list[Action]:
    rows = conn.execute("SELECT id, item_id, at, action, summary, state FROM actions WHERE item_id = ? ORDER BY id",
                        (item_id,)).fetchall()
    return [Action(*row) for row in rows]

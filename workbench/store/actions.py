"""User actions on an item: each is one transaction, one version step and one history entry.

An action names the item version it saw; a stale one is refused with :class:`StaleItemError`,
which carries the item as it is now. Undo and redo write back the state an action recorded
(:mod:`workbench.store.history`), so one mechanism serves edits, accepts, renames and model runs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from workbench.errors import StoreError
from workbench.store import items, labels
from workbench.store.bounds import check_annotation_count
from workbench.store.db import Database
from workbench.store.history import comparable, first_undone, last_done, record_action, restore, snapshot
from workbench.store.records import AnnotationDraft, Item
from workbench.store.rows import ANNOTATION_COLUMNS, annotation_from_row, dumps, insert_annotation
from workbench.store.rules import check_image_id, check_status

__all__ = ["StaleItemError", "action", "can_redo", "can_undo", "rename_image", "reorder_images", "set_annotations",
           "set_prompt", "set_status", "step"]


class StaleItemError(StoreError):
    """The item changed since the caller saw it (another window, a batch run); ``item`` is its state now."""

    def __init__(self, message: str, item: Item) -> None:
        super().__init__(message)
        self.item = item


@contextmanager
def action(db: Database, images_root: Path, item_id: int, name: str,
           expected_version: int | None) -> Iterator[tuple[sqlite3.Connection, list[str]]]:
    """Open the transaction of one user action; the body mutates and may append a summary.

    The item's version is checked first, its state is taken before and after, and one history
    row records both; nothing is recorded when the body changed nothing.
    """
    with db.write() as conn:
        row = conn.execute("SELECT version FROM items WHERE id = ?", (item_id,)).fetchone()
        if row is None:
            raise StoreError(f"no item {item_id}")
        if expected_version is not None and row[0] != expected_version:
            raise StaleItemError(f"item {item_id} was changed elsewhere (another window or a batch run) since "
                                 "it was shown; here is how it is now — redo your change on it",
                                 items.get(db, images_root, item_id))
        before = snapshot(conn, item_id)
        summary: list[str] = []
        yield conn, summary
        after = snapshot(conn, item_id)
        if dumps(after) != dumps(before):
            conn.execute("UPDATE items SET version = version + 1, updated_at = ? WHERE id = ?", (db.clock(), item_id))
            record_action(conn, item_id, db.clock(), name, "; ".join(summary) or name, before, after)


def set_annotations(db: Database, images_root: Path, item_id: int, image: int, drafts: Sequence[AnnotationDraft], *,
                    expected_version: int | None = None, kinds: Sequence[str] = ("box",)) -> None:
    """Make image ``image`` (1-based) of the item carry exactly ``drafts`` (of the given kinds).

    Annotations already stored and equal to one of ``drafts`` keep their id and provenance, so
    an untouched model box stays a model box; the others are replaced.
    """
    with action(db, images_root, item_id, "edit", expected_version) as (conn, summary):
        image_row = conn.execute("SELECT id FROM item_images WHERE item_id = ? AND position = ?",
                                 (item_id, image)).fetchone()
        if image_row is None:
            raise StoreError(f"item {item_id} has no picture {image}")
        image_id = image_row[0]
        stored = [annotation_from_row(r) for r in conn.execute(
            f"SELECT {ANNOTATION_COLUMNS} FROM annotations WHERE item_image_id = ? ORDER BY id", (image_id,))]
        stored = [a for a in stored if a.kind in kinds]
        wanted = list(drafts)
        check_annotation_count([wanted], first=image)
        kept = 0
        for annotation in stored:
            match = next((n for n, d in enumerate(wanted) if d.same_place(annotation)), None)
            if match is None:
                conn.execute("DELETE FROM annotations WHERE id = ?", (annotation.id,))
            else:
                wanted.pop(match)
                kept += 1
        for draft in wanted:
            insert_annotation(conn, image_id, draft)
        labels.ensure(conn, items.dataset_of(conn, item_id), [d.label for d in wanted])
        summary.append(f"picture {image}: {kept + len(wanted)} annotation(s), {len(wanted)} new or changed, "
                       f"{len(stored) - kept} removed")


def set_status(db: Database, images_root: Path, item_id: int, status: str, *,
               expected_version: int | None = None) -> None:
    """Accept, reject or reopen an item."""
    status = check_status(status)
    with action(db, images_root, item_id, status.value, expected_version) as (conn, summary):
        conn.execute("UPDATE items SET status = ?, error = '' WHERE id = ?", (status.value, item_id))
        summary.append(f"status {status}")


def set_prompt(db: Database, images_root: Path, item_id: int, prompt: str, *,
               expected_version: int | None = None) -> None:
    with action(db, images_root, item_id, "prompt", expected_version) as (conn, summary):
        conn.execute("UPDATE items SET prompt = ? WHERE id = ?", (prompt, item_id))
        summary.append("prompt changed")


def rename_image(db: Database, images_root: Path, item_id: int, image: int, new_id: str, *,
                 expected_version: int | None = None) -> None:
    """Give picture ``image`` of the item another ID; IDs are unique within the item."""
    new_id = check_image_id(new_id)
    with action(db, images_root, item_id, "rename image", expected_version) as (conn, summary):
        row = conn.execute("SELECT id, image_id FROM item_images WHERE item_id = ? AND position = ?",
                           (item_id, image)).fetchone()
        if row is None:
            raise StoreError(f"item {item_id} has no picture {image}")
        if row[1] != new_id:
            if conn.execute("SELECT 1 FROM item_images WHERE item_id = ? AND image_id = ?",
                            (item_id, new_id)).fetchone():
                raise StoreError(f"another picture of this item is already called {new_id!r}")
            conn.execute("UPDATE item_images SET image_id = ? WHERE id = ?", (new_id, row[0]))
            summary.append(f"picture {image} renamed {row[1]} → {new_id}")


def reorder_images(db: Database, images_root: Path, item_id: int, order: Sequence[int], *,
                   expected_version: int | None = None) -> None:
    """Put the item's pictures in a new order: ``order`` lists current positions (1-based), each once."""
    with action(db, images_root, item_id, "reorder", expected_version) as (conn, summary):
        rows = conn.execute("SELECT id FROM item_images WHERE item_id = ? ORDER BY position", (item_id,)).fetchall()
        if sorted(order) != list(range(1, len(rows) + 1)):
            raise StoreError(f"the new order {list(order)} must list pictures 1 to {len(rows)} once each")
        ids = [rows[p - 1][0] for p in order]
        for n, image_id in enumerate(ids, start=1):
            conn.execute("UPDATE item_images SET position = ? WHERE id = ?", (-n, image_id))
        for n, image_id in enumerate(ids, start=1):
            conn.execute("UPDATE item_images SET position = ? WHERE id = ?", (n, image_id))
        summary.append(f"pictures reordered {list(order)}")


def can_undo(db: Database, item_id: int) -> bool:
    return bool(db.read("SELECT 1 FROM actions WHERE item_id = ? AND state = 'done' LIMIT 1", (item_id,)))


def can_redo(db: Database, item_id: int) -> bool:
    return bool(db.read("SELECT 1 FROM actions WHERE item_id = ? AND state = 'undone' LIMIT 1", (item_id,)))


def step(db: Database, images_root: Path, item_id: int, expected_version: int | None, *, undo: bool) -> None:
    """Undo the item's latest action (its state before it comes back), or redo the one undone last."""
    word = "undo" if undo else "redo"
    with db.write() as conn:
        row = conn.execute("SELECT version FROM items WHERE id = ?", (item_id,)).fetchone()
        if row is None:
            raise StoreError(f"no item {item_id}")
        found = (last_done if undo else first_undone)(conn, item_id)
        if found is None:
            raise StoreError(f"nothing to {word} on this item")
        action_id, _summary, before, after = found
        expected = after if undo else before
        if (expected_version is not None and row[0] != expected_version) or \
                comparable(snapshot(conn, item_id)) != comparable(expected):
            raise StaleItemError(f"cannot {word}: item {item_id} was changed elsewhere since; here is how it is "
                                 "now", items.get(db, images_root, item_id))
        restore(conn, item_id, before if undo else after)
        conn.execute("UPDATE actions SET state = ? WHERE id = ?", ("undone" if undo else "done", action_id))
        conn.execute("UPDATE items SET version = version + 1, updated_at = ? WHERE id = ?", (db.clock(), item_id))

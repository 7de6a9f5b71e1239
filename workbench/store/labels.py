"""A dataset's label set: names in the order added, a colour each, use counts; rename (or merge) everywhere.

>>> import tempfile, pathlib
>>> from workbench.store.db import Database
>>> db = Database(pathlib.Path(tempfile.mkdtemp()) / "db.sqlite3")
>>> with db.write() as conn:
...     dataset = conn.execute("INSERT INTO datasets (owner, name, created_at) VALUES ('', 'pets', '')").lastrowid
...     ensure(conn, dataset, ["cat", "dog", "cat"])
>>> [(label.name, label.color) for label in labels(db, dataset, counts=False)]
[('cat', '#e6194b'), ('dog', '#3cb44b')]
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from workbench.errors import StoreError
from workbench.store.db import Database
from workbench.store.palette import next_color
from workbench.store.records import Label
from workbench.store.rules import check_color, check_label

__all__ = ["add", "ensure", "labels", "rename"]


def ensure(conn: sqlite3.Connection, dataset_id: int, names: Sequence[str]) -> None:
    """Add labels the dataset has not seen yet, each with the next palette colour (inside a transaction)."""
    names = [n for n in dict.fromkeys(names) if n]
    if not names:
        return
    known = {r[0] for r in conn.execute("SELECT name FROM labels WHERE dataset_id = ?", (dataset_id,))}
    count = len(known)
    for name in names:
        if name not in known:
            conn.execute("INSERT INTO labels (dataset_id, name, color) VALUES (?,?,?)",
                         (dataset_id, name, next_color(count)))
            known.add(name)
            count += 1


def labels(db: Database, dataset_id: int, *, counts: bool = True) -> list[Label]:
    """The label set with colours (and use counts: a scan of the annotations), in the order added."""
    if not counts:
        return [Label(name, color) for name, color in db.read(
            "SELECT name, color FROM labels WHERE dataset_id = ? ORDER BY id", (dataset_id,))]
    rows = db.read(
        "SELECT l.name, l.color, (SELECT COUNT(*) FROM annotations a JOIN item_images ii ON ii.id = a.item_image_id "
        "JOIN items i ON i.id = ii.item_id WHERE i.dataset_id = l.dataset_id AND a.label = l.name) "
        "FROM labels l WHERE l.dataset_id = ? ORDER BY l.id", (dataset_id,))
    return [Label(*row) for row in rows]


def add(db: Database, dataset_id: int, name: str, color: str | None = None) -> Label:
    name = check_label(name)
    if not name:
        raise StoreError("a label needs a name")
    with db.write() as conn:
        ensure(conn, dataset_id, [name])
        if color:
            conn.execute("UPDATE labels SET color = ? WHERE dataset_id = ? AND name = ?",
                         (check_color(color), dataset_id, name))
    return next(label for label in labels(db, dataset_id) if label.name == name)


def rename(db: Database, dataset_id: int, old: str, new: str) -> int:
    """Rename a label everywhere in the dataset (merge into ``new`` when it exists); returns annotations changed."""
    new = check_label(new)
    if not new:
        raise StoreError("a label needs a name")
    with db.write() as conn:
        if not conn.execute("SELECT 1 FROM labels WHERE dataset_id = ? AND name = ?", (dataset_id, old)).fetchone():
            raise StoreError(f"dataset has no label {old!r}")
        changed = int(conn.execute(
            "UPDATE annotations SET label = ? WHERE label = ? AND item_image_id IN (SELECT ii.id FROM item_images ii "
            "JOIN items i ON i.id = ii.item_id WHERE i.dataset_id = ?)", (new, old, dataset_id)).rowcount)
        exists = conn.execute("SELECT 1 FROM labels WHERE dataset_id = ? AND name = ?", (dataset_id, new)).fetchone()
        if exists:
            conn.execute("DELETE FROM labels WHERE dataset_id = ? AND name = ?", (dataset_id, old))
        else:
            conn.execute("UPDATE labels SET name = ? WHERE dataset_id = ? AND name = ?", (new, dataset_id, old))
        conn.execute("UPDATE items SET version = version + 1, updated_at = ? WHERE id IN (SELECT ii.item_id "
                     "FROM annotations a JOIN item_images ii ON ii.id = a.item_image_id WHERE a.label = ?) "
                     "AND dataset_id = ?", (db.clock(), new, dataset_id))
    return changed

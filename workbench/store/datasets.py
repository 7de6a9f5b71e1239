"""Datasets: create, find (by id, name or record, within an owner), list with counts, rename, delete, settings.

>>> import tempfile, pathlib
>>> from workbench.store.db import Database
>>> db = Database(pathlib.Path(tempfile.mkdtemp()) / "db.sqlite3")
>>> pets = create(db, "pets")
>>> get(db, "pets").id == pets.id, update_settings(db, pets.id, {"family": "qwen3-vl"})
(True, {'family': 'qwen3-vl'})
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from workbench.errors import StoreError
from workbench.store.blobs import discard
from workbench.store.db import Database
from workbench.store.records import ITEM_STATUSES, Dataset
from workbench.store.rows import dumps
from workbench.store.rules import check_name

__all__ = ["DatasetRef", "create", "delete", "get", "id_of", "list_all", "prune_images", "rename", "row", "settings",
           "update_settings"]

DatasetRef = str | int | Dataset
"""A dataset by name, id or record."""

DatasetRow = tuple[int, str, str, str, str]


def row(db: Database, ref: DatasetRef, owner: str | None = None) -> DatasetRow:
    """(id, name, created_at, owner, settings) of a dataset by id, name or record.

    ``owner`` given: the dataset must belong to it (a name is looked up among its datasets only).
    """
    if isinstance(ref, Dataset):
        ref = ref.id
    if isinstance(ref, int):
        rows = db.read("SELECT id, name, created_at, owner, settings FROM datasets WHERE id = ?", (ref,))
    elif owner is None:
        rows = db.read("SELECT id, name, created_at, owner, settings FROM datasets WHERE name = ? "
                       "ORDER BY owner != '', id", (ref,))
    else:
        rows = db.read("SELECT id, name, created_at, owner, settings FROM datasets WHERE name = ? AND owner = ?",
                       (ref, owner))
    if not rows or (owner is not None and rows[0][3] != owner):
        raise StoreError(f"no dataset {ref!r}")
    id_, name, created_at, owner_, stored = rows[0]
    return int(id_), name, created_at, owner_, stored


def id_of(db: Database, ref: DatasetRef, owner: str | None = None) -> int:
    return row(db, ref, owner)[0]


def create(db: Database, name: str, *, owner: str = "") -> Dataset:
    name = check_name(name)
    try:
        with db.write() as conn:
            cursor = conn.execute("INSERT INTO datasets (owner, name, created_at) VALUES (?, ?, ?)",
                                  (owner, name, db.clock()))
    except sqlite3.IntegrityError:
        raise StoreError(f"a dataset named {name!r} already exists") from None
    return get(db, int(cursor.lastrowid or 0))


def get(db: Database, ref: DatasetRef, *, owner: str | None = None) -> Dataset:
    """A dataset with its item counts per status (one SQL query, whatever its size)."""
    id_, name, created_at, owner_, stored = row(db, ref, owner)
    counts = dict.fromkeys(ITEM_STATUSES, 0)
    counts.update(dict(db.read("SELECT status, COUNT(*) FROM items WHERE dataset_id = ? GROUP BY status", (id_,))))
    return Dataset(id_, name, created_at, sum(counts.values()), counts, owner_, json.loads(stored))


def list_all(db: Database, *, owner: str | None = "") -> list[Dataset]:
    """The datasets of ``owner`` ('' locally; None: everyone's), by name, with item counts."""
    where, params = ("", ()) if owner is None else ("WHERE d.owner = ?", (owner,))
    rows = db.read(f"SELECT d.id, d.name, d.created_at, d.owner, d.settings, COUNT(i.id) FROM datasets d "
                   f"LEFT JOIN items i ON i.dataset_id = d.id {where} GROUP BY d.id ORDER BY d.name, d.id", params)
    return [Dataset(id_, name, created, count, {}, owner_, json.loads(stored))
            for id_, name, created, owner_, stored, count in rows]


def rename(db: Database, ref: DatasetRef, new_name: str, *, owner: str | None = None) -> Dataset:
    id_ = id_of(db, ref, owner)
    new_name = check_name(new_name)
    try:
        with db.write() as conn:
            conn.execute("UPDATE datasets SET name = ? WHERE id = ?", (new_name, id_))
    except sqlite3.IntegrityError:
        raise StoreError(f"a dataset named {new_name!r} already exists") from None
    return get(db, id_)


def delete(db: Database, ref: DatasetRef, *, owner: str | None = None) -> None:
    """Delete a dataset with its items, annotations and history (image files stay; see :func:`prune_images`)."""
    id_ = id_of(db, ref, owner)
    with db.write() as conn:
        conn.execute("DELETE FROM datasets WHERE id = ?", (id_,))


def settings(db: Database, ref: DatasetRef) -> dict[str, Any]:
    return dict(json.loads(row(db, ref)[4]))


def update_settings(db: Database, ref: DatasetRef, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``changes`` into the dataset's settings (question templates, task...); None deletes a key."""
    id_ = id_of(db, ref)
    with db.write() as conn:
        stored = json.loads(conn.execute("SELECT settings FROM datasets WHERE id = ?", (id_,)).fetchone()[0])
        for key, value in changes.items():
            if value is None:
                stored.pop(key, None)
            else:
                stored[key] = value
        conn.execute("UPDATE datasets SET settings = ? WHERE id = ?", (dumps(stored), id_))
    return dict(stored)


def prune_images(db: Database, images_root: Path) -> int:
    """Delete image copies no item uses any more (with their upright copies); returns how many went."""
    with db.write() as conn:
        rows = conn.execute(
            "SELECT sha256, file FROM images WHERE sha256 NOT IN (SELECT sha256 FROM item_images)").fetchall()
        conn.executemany("DELETE FROM images WHERE sha256 = ?", [(sha,) for sha, _ in rows])
    for _, file in rows:
        discard(images_root / file)
    return len(rows)

"""Items: add one (images already content-hashed, optional starting annotations), load them whole, find an
image by content, delete, group single items into one multi-image item, split one back.

Loading reads items, images and annotations in three queries however many items match, and hands
out frozen records (:class:`~workbench.store.records.Item`) with the images' stored files resolved
under ``images_root``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workbench.errors import StoreError
from workbench.store import labels
from workbench.store.blobs import Blob
from workbench.store.bounds import bounded_file_name, check_annotation_count
from workbench.store.db import Database
from workbench.store.records import Annotation, AnnotationDraft, ImageSource, Item, ItemImage, ItemStatus
from workbench.store.rows import ANNOTATION_COLUMNS, annotation_from_row, insert_annotation
from workbench.store.rules import check_status, unique_ids

__all__ = ["add", "dataset_of", "delete", "find_image", "get", "group", "load", "of_dataset", "split"]


def dataset_of(conn: sqlite3.Connection, item_id: int) -> int:
    row = conn.execute("SELECT dataset_id FROM items WHERE id = ?", (item_id,)).fetchone()
    if row is None:
        raise StoreError(f"no item {item_id}")
    return int(row[0])


def add(db: Database, dataset_id: int, images: Sequence[tuple[ImageSource, Blob]], images_root: Path,
        prompt: str = "", annotations: Sequence[Sequence[AnnotationDraft]] = (), *,
        status: str | None = None) -> int:
    """Append an item whose images are already stored, with optional starting annotations per image; its id.

    One transaction; the annotations are the item's starting state (no history entry), as an
    import should be. ``status`` defaults to ``new`` (``pre-annotated`` when every given
    annotation came from a model).
    """
    ids = unique_ids([source.image_id or Path(source.path).stem for source, _ in images])
    drafts = [list(annotations[n]) if n < len(annotations) else [] for n in range(len(images))]
    flat = [d for per_image in drafts for d in per_image]
    check_annotation_count(drafts)
    if status is None:
        status = ItemStatus.PRE_ANNOTATED if flat and all(d.provenance == "model" for d in flat) else ItemStatus.NEW
    status = check_status(status)
    now = db.clock()
    with db.write() as conn:
        position = conn.execute("SELECT COALESCE(MAX(position), 0) + 1 FROM items WHERE dataset_id = ?",
                                (dataset_id,)).fetchone()[0]
        item_id = conn.execute(
            "INSERT INTO items (dataset_id, position, prompt, status, created_at, updated_at) VALUES (?,?,?,?,?,?)",
            (dataset_id, position, prompt, status.value, now, now)).lastrowid
        for index, ((source, blob), image_id) in enumerate(zip(images, ids), start=1):
            conn.execute("INSERT OR IGNORE INTO images (sha256, file, width, height, format) VALUES (?,?,?,?,?)",
                         (blob.sha256, blob.file.relative_to(images_root).as_posix(), blob.width, blob.height,
                          blob.format))
            item_image_id = conn.execute(
                "INSERT INTO item_images (item_id, position, image_id, sha256, original_name) VALUES (?,?,?,?,?)",
                (item_id, index, image_id, blob.sha256, bounded_file_name(Path(source.path).name))).lastrowid
            for draft in drafts[index - 1]:
                insert_annotation(conn, int(item_image_id or 0), draft)
        labels.ensure(conn, dataset_id, [d.label for d in flat])
    return int(item_id or 0)


def find_image(db: Database, dataset_id: int, sha256: str) -> int | None:
    """The item of the dataset that already holds this exact image (by content), if any."""
    rows = db.read("SELECT ii.item_id FROM item_images ii JOIN items i ON i.id = ii.item_id "
                   "WHERE i.dataset_id = ? AND ii.sha256 = ? LIMIT 1", (dataset_id, sha256))
    return rows[0][0] if rows else None


def load(db: Database, images_root: Path, where: str, params: Sequence[Any]) -> list[Item]:
    """Items matching ``where`` (SQL over ``items i``), in queue order, whole."""
    with db.lock:
        items = db.conn.execute(
            "SELECT i.id, i.dataset_id, i.position, i.prompt, i.status, i.version, i.error, i.updated_at, i.split "
            f"FROM items i WHERE {where} ORDER BY i.position", params).fetchall()
        images = db.conn.execute(
            "SELECT ii.id, ii.item_id, ii.position, ii.image_id, ii.sha256, im.file, im.width, im.height, "
            "ii.original_name FROM item_images ii JOIN images im ON im.sha256 = ii.sha256 "
            f"JOIN items i ON i.id = ii.item_id WHERE {where} ORDER BY ii.item_id, ii.position", params).fetchall()
        annotations = db.conn.execute(
            f"SELECT {', '.join('a.' + c.strip() for c in ANNOTATION_COLUMNS.split(','))} FROM annotations a "
            "JOIN item_images ii ON ii.id = a.item_image_id JOIN items i ON i.id = ii.item_id "
            f"WHERE {where} ORDER BY a.id", params).fetchall()
    by_image: dict[int, list[Annotation]] = {}
    for row in annotations:
        by_image.setdefault(row[1], []).append(annotation_from_row(row))
    by_item: dict[int, list[ItemImage]] = {}
    for id_, item_id, position, image_id, sha, file, width, height, name in images:
        by_item.setdefault(item_id, []).append(ItemImage(
            id_, item_id, position, image_id, sha, images_root / file, width, height, name,
            tuple(by_image.get(id_, ()))))
    return [Item(id_, dataset_id, position, prompt, tuple(by_item.get(id_, ())), ItemStatus(status), version, error,
                 updated, split)
            for id_, dataset_id, position, prompt, status, version, error, updated, split in items]


def get(db: Database, images_root: Path, item_id: int) -> Item:
    items = load(db, images_root, "i.id = ?", (item_id,))
    if not items:
        raise StoreError(f"no item {item_id}")
    return items[0]


def of_dataset(db: Database, images_root: Path, dataset_id: int, statuses: Sequence[str] | None = None) -> list[Item]:
    """Items of a dataset in order, with images and annotations (three queries in all)."""
    if statuses is None:
        return load(db, images_root, "i.dataset_id = ?", (dataset_id,))
    for status in statuses:
        check_status(status)
    marks = ",".join("?" * len(statuses))
    return load(db, images_root, f"i.dataset_id = ? AND i.status IN ({marks})", (dataset_id, *statuses))


def delete(db: Database, item_id: int) -> None:
    with db.write() as conn:
        if conn.execute("DELETE FROM items WHERE id = ?", (item_id,)).rowcount == 0:
            raise StoreError(f"no item {item_id}")


def group(db: Database, item_ids: Sequence[int]) -> int:
    """Join single items into one multi-image item (images in the given order, annotations kept); its id.

    The first item is kept and gets the others' images; the others are removed. A structural
    change: the undo history of the items involved ends here.
    """
    if len(item_ids) < 2 or len(set(item_ids)) != len(item_ids):
        raise StoreError("choose at least two different items to group")
    with db.write() as conn:
        datasets = {dataset_of(conn, i) for i in item_ids}
        if len(datasets) != 1:
            raise StoreError("items to group must belong to one dataset")
        first = item_ids[0]
        position = conn.execute("SELECT COALESCE(MAX(position), 0) FROM item_images WHERE item_id = ?",
                                (first,)).fetchone()[0]
        taken = {r[0] for r in conn.execute("SELECT image_id FROM item_images WHERE item_id = ?", (first,))}
        for other in item_ids[1:]:
            for image_row_id, image_id in conn.execute(
                    "SELECT id, image_id FROM item_images WHERE item_id = ? ORDER BY position", (other,)).fetchall():
                position += 1
                new_id = unique_ids([*taken, image_id])[-1]
                taken.add(new_id)
                conn.execute("UPDATE item_images SET item_id = ?, position = ?, image_id = ? WHERE id = ?",
                             (first, position, new_id, image_row_id))
            conn.execute("DELETE FROM items WHERE id = ?", (other,))
        conn.execute("UPDATE actions SET state = 'dropped' WHERE item_id = ? AND state != 'dropped'", (first,))
        conn.execute("UPDATE items SET version = version + 1, updated_at = ? WHERE id = ?", (db.clock(), first))
    return first


def split(db: Database, item_id: int) -> list[int]:
    """One item per image of a multi-image item (annotations and status go with the images); their ids."""
    with db.write() as conn:
        row = conn.execute("SELECT dataset_id, prompt, status FROM items WHERE id = ?", (item_id,)).fetchone()
        if row is None:
            raise StoreError(f"no item {item_id}")
        dataset_id, prompt, status = row
        images = conn.execute("SELECT id FROM item_images WHERE item_id = ? ORDER BY position", (item_id,)).fetchall()
        ids = [item_id]
        now = db.clock()
        for (image_row_id,) in images[1:]:
            position = conn.execute("SELECT COALESCE(MAX(position), 0) + 1 FROM items WHERE dataset_id = ?",
                                    (dataset_id,)).fetchone()[0]
            new = conn.execute("INSERT INTO items (dataset_id, position, prompt, status, created_at, updated_at) "
                               "VALUES (?,?,?,?,?,?)", (dataset_id, position, prompt, status, now, now)).lastrowid
            conn.execute("UPDATE item_images SET item_id = ?, position = 1 WHERE id = ?", (new, image_row_id))
            ids.append(int(new or 0))
        conn.execute("UPDATE actions SET state = 'dropped' WHERE item_id = ? AND state != 'dropped'", (item_id,))
        conn.execute("UPDATE items SET version = version + 1, updated_at = ? WHERE id = ?", (now, item_id))
    return ids

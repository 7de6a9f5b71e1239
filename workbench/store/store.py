"""``DatasetStore``: datasets of items (1..N images each), their annotations, proposals and history, in SQLite.

One user action is one call, one transaction and one history entry: an accept of five boxes,
a relabel, a model run landing on an item. Undo and redo walk that history per item, across
processes and restarts. Every call that changes an item may name the item version it saw; a
stale one is refused with :class:`StaleItemError` (which carries the fresh item).

>>> import tempfile
>>> from PIL import Image
>>> folder = Path(tempfile.mkdtemp()); Image.new("RGB", (640, 428)).save(folder / "bowl.jpg")
>>> store = DatasetStore(folder / "db.sqlite3")
>>> item = store.add_item(store.create_dataset("kitchen"), [folder / "bowl.jpg"])
>>> item = store.set_annotations(item.id, 1, [AnnotationDraft.box((146, 137, 615, 415), "bowl")])
>>> item = store.set_status(item.id, "accepted", expected_version=item.version)
>>> item.status, [a.label for a in item.annotations], store.undo(item.id).status
('accepted', ['bowl'], 'new')
>>> store.redo(item.id).status
'accepted'
>>> store.close()
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from workbench.errors import StoreError
from workbench.store.blobs import Blob, ImageBlobs
from workbench.store.datadir import DB_NAME, resolve_data_dir
from workbench.store.faults import write_failure
from workbench.store.history import (
    first_undone,
    last_done,
    read_actions,
    record_action,
    restore,
    snapshot,
)
from workbench.store.migrations import migrate
from workbench.store.records import (
    ITEM_STATUSES,
    Action,
    Annotation,
    AnnotationDraft,
    Dataset,
    ImageSource,
    Item,
    ItemFilter,
    ItemImage,
    ItemRow,
    Label,
    Proposal,
    QueuePage,
    Run,
    clean_label,
)
from workbench.store.revision import dataset_revision
from workbench.store.rows import (
    ANNOTATION_COLUMNS,
    annotation_from_row,
    dumps,
    insert_annotation,
)
from workbench.store.schema import PRAGMAS

__all__ = ["DatasetRef", "DatasetStore", "StaleItemError", "utc_now"]

DatasetRef = str | int | Dataset
ImageInput = ImageSource | str | os.PathLike

PALETTE = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45", "#fabed4",
           "#469990", "#dcbeff", "#9a6324", "#800000", "#aaffc3", "#808000", "#000075")
"""Colours given to new labels in turn (a label keeps its colour once it has one)."""


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


class StaleItemError(StoreError):
    """The item changed since the caller saw it (another window, a batch run); ``item`` is its state now."""

    def __init__(self, message: str, item: Item) -> None:
        super().__init__(message)
        self.item = item


class DatasetStore:
    """Datasets, items, images and annotations in ``db_path``; image copies in ``images_dir``.

    ``images_dir`` defaults to ``images/`` beside the database. ``durable=False`` trades the
    fsync per commit for WAL's ``NORMAL`` (safe if the process dies; the last commits may be
    lost on power loss). Use :meth:`open` to place both under a data dir. Safe to share between
    the threads of one process (one connection behind a lock); other processes may open the same
    file at the same time (WAL, ``busy_timeout``).
    """

    def __init__(self, db_path: str | os.PathLike, *, images_dir: str | os.PathLike | None = None,
                 busy_timeout_s: float = 10.0, durable: bool = True, clock: Callable[[], str] = utc_now) -> None:
        self.db_path = Path(db_path)
        self.blobs = ImageBlobs(Path(images_dir) if images_dir is not None else self.db_path.parent / "images")
        self._clock = clock
        self._lock = threading.RLock()
        try:
            self.db_path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.db_path, timeout=busy_timeout_s, isolation_level=None,
                                         check_same_thread=False)
            for pragma in PRAGMAS:
                self._conn.execute(pragma)
            if not durable:
                self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
            migrate(self._conn, self.db_path)
        except (sqlite3.DatabaseError, OSError) as exc:
            raise StoreError(f"{self.db_path}: cannot open the dataset store ({exc})") from None

    @classmethod
    def open(cls, data_dir: str | os.PathLike | None = None, **kwargs: Any) -> DatasetStore:
        """The store of a data dir (argument, else ``WORKBENCH_DATA_DIR``, else the user data folder)."""
        root = resolve_data_dir(data_dir)
        return cls(root / DB_NAME, images_dir=root / "images", **kwargs)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> DatasetStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transactions -------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction: committed when the block ends, rolled back when it raises.

        A failed write (disk full, read-only folder, I/O error) comes back as a :class:`StoreError`
        in words; SQLite may already have rolled the transaction back itself (it does on a full
        disk), so the rollback here is only attempted while a transaction is open.
        """
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise StoreError(f"the dataset store is busy or read-only ({exc})") from None
            try:
                yield self._conn
            except BaseException as exc:
                self._rollback()
                if isinstance(exc, (sqlite3.OperationalError, OSError)):  # disk full, read-only, I/O; not constraints
                    raise StoreError(f"nothing was saved: {write_failure(exc)}") from None
                raise
            try:
                self._conn.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                self._rollback()
                raise StoreError(f"could not commit to the dataset store, nothing was saved: {write_failure(exc)}") from None

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            with contextlib.suppress(sqlite3.DatabaseError):  # the connection may have undone it already
                self._conn.execute("ROLLBACK")

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    # -- datasets -----------------------------------------------------------------------------

    def _dataset_row(self, ref: DatasetRef, owner: str | None = None) -> tuple[int, str, str, str, str]:
        """(id, name, created_at, owner, settings) of a dataset by id, name or record.

        ``owner`` given: the dataset must belong to it (a name is looked up among its datasets only).
        """
        if isinstance(ref, Dataset):
            ref = ref.id
        if isinstance(ref, int):
            rows = self._read("SELECT id, name, created_at, owner, settings FROM datasets WHERE id = ?", (ref,))
        elif owner is None:
            rows = self._read("SELECT id, name, created_at, owner, settings FROM datasets WHERE name = ? "
                              "ORDER BY owner != '', id", (ref,))
        else:
            rows = self._read("SELECT id, name, created_at, owner, settings FROM datasets WHERE name = ? AND owner = ?",
                              (ref, owner))
        if not rows or (owner is not None and rows[0][3] != owner):
            raise StoreError(f"no dataset {ref!r}")
        return rows[0]

    def create_dataset(self, name: str, *, owner: str = "") -> Dataset:
        name = _check_name(name)
        try:
            with self._write() as conn:
                cursor = conn.execute("INSERT INTO datasets (owner, name, created_at) VALUES (?, ?, ?)",
                                      (owner, name, self._clock()))
        except sqlite3.IntegrityError:
            raise StoreError(f"a dataset named {name!r} already exists") from None
        return self.dataset(int(cursor.lastrowid))

    def dataset(self, ref: DatasetRef, *, owner: str | None = None) -> Dataset:
        """A dataset with its item counts per status (one SQL query, whatever its size)."""
        id_, name, created_at, owner_, settings = self._dataset_row(ref, owner)
        counts = dict.fromkeys(ITEM_STATUSES, 0)
        counts.update(dict(self._read("SELECT status, COUNT(*) FROM items WHERE dataset_id = ? GROUP BY status",
                                      (id_,))))
        return Dataset(id_, name, created_at, sum(counts.values()), counts, owner_, json.loads(settings))

    def list_datasets(self, *, owner: str | None = "") -> list[Dataset]:
        """The datasets of ``owner`` ('' locally; None: everyone's), by name, with item counts."""
        where, params = ("", ()) if owner is None else ("WHERE d.owner = ?", (owner,))
        rows = self._read(f"SELECT d.id, d.name, d.created_at, d.owner, d.settings, COUNT(i.id) FROM datasets d "
                          f"LEFT JOIN items i ON i.dataset_id = d.id {where} GROUP BY d.id ORDER BY d.name, d.id",
                          params)
        return [Dataset(id_, name, created, count, {}, owner_, json.loads(settings))
                for id_, name, created, owner_, settings, count in rows]

    def rename_dataset(self, ref: DatasetRef, new_name: str, *, owner: str | None = None) -> Dataset:
        id_, _, _, _, _ = self._dataset_row(ref, owner)
        new_name = _check_name(new_name)
        try:
            with self._write() as conn:
                conn.execute("UPDATE datasets SET name = ? WHERE id = ?", (new_name, id_))
        except sqlite3.IntegrityError:
            raise StoreError(f"a dataset named {new_name!r} already exists") from None
        return self.dataset(id_)

    def delete_dataset(self, ref: DatasetRef, *, owner: str | None = None) -> None:
        """Delete a dataset with its items, annotations and history (image files stay; see :meth:`prune_images`)."""
        id_ = self._dataset_row(ref, owner)[0]
        with self._write() as conn:
            conn.execute("DELETE FROM datasets WHERE id = ?", (id_,))

    def dataset_settings(self, ref: DatasetRef) -> dict[str, Any]:
        return json.loads(self._dataset_row(ref)[4])

    def update_dataset_settings(self, ref: DatasetRef, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Merge ``changes`` into the dataset's settings (question templates, task...); None deletes a key."""
        id_ = self._dataset_row(ref)[0]
        with self._write() as conn:
            settings = json.loads(conn.execute("SELECT settings FROM datasets WHERE id = ?", (id_,)).fetchone()[0])
            for key, value in changes.items():
                if value is None:
                    settings.pop(key, None)
                else:
                    settings[key] = value
            conn.execute("UPDATE datasets SET settings = ? WHERE id = ?", (dumps(settings), id_))
        return settings

    def prune_images(self) -> int:
        """Delete image copies no item uses any more; returns how many went."""
        with self._write() as conn:
            rows = conn.execute(
                "SELECT sha256, file FROM images WHERE sha256 NOT IN (SELECT sha256 FROM item_images)").fetchall()
            conn.executemany("DELETE FROM images WHERE sha256 = ?", [(sha,) for sha, _ in rows])
        for _, file in rows:
            (self.blobs.root / file).unlink(missing_ok=True)
        return len(rows)

    # -- labels -------------------------------------------------------------------------------

    def labels(self, dataset: DatasetRef, *, counts: bool = True) -> list[Label]:
        """The dataset's label set with colours (and use counts: a scan of its annotations), in the order added."""
        id_ = self._dataset_row(dataset)[0]
        if not counts:
            return [Label(name, color) for name, color in self._read(
                "SELECT name, color FROM labels WHERE dataset_id = ? ORDER BY id", (id_,))]
        rows = self._read(
            "SELECT l.name, l.color, (SELECT COUNT(*) FROM annotations a JOIN item_images ii ON ii.id = a.item_image_id "
            "JOIN items i ON i.id = ii.item_id WHERE i.dataset_id = l.dataset_id AND a.label = l.name) "
            "FROM labels l WHERE l.dataset_id = ? ORDER BY l.id", (id_,))
        return [Label(*row) for row in rows]

    def add_label(self, dataset: DatasetRef, name: str, color: str | None = None) -> Label:
        id_ = self._dataset_row(dataset)[0]
        name = clean_label(name)
        if not name:
            raise StoreError("a label needs a name")
        with self._write() as conn:
            _ensure_labels(conn, id_, [name])
            if color:
                conn.execute("UPDATE labels SET color = ? WHERE dataset_id = ? AND name = ?",
                             (_check_color(color), id_, name))
        return next(label for label in self.labels(id_) if label.name == name)

    def set_label_color(self, dataset: DatasetRef, name: str, color: str) -> Label:
        return self.add_label(dataset, name, color)

    def rename_label(self, dataset: DatasetRef, old: str, new: str) -> int:
        """Rename a label everywhere in the dataset (merge into ``new`` when it exists); returns annotations changed."""
        id_ = self._dataset_row(dataset)[0]
        new = clean_label(new)
        if not new:
            raise StoreError("a label needs a name")
        with self._write() as conn:
            if not conn.execute("SELECT 1 FROM labels WHERE dataset_id = ? AND name = ?", (id_, old)).fetchone():
                raise StoreError(f"dataset has no label {old!r}")
            changed = conn.execute(
                "UPDATE annotations SET label = ? WHERE label = ? AND item_image_id IN (SELECT ii.id FROM item_images ii "
                "JOIN items i ON i.id = ii.item_id WHERE i.dataset_id = ?)", (new, old, id_)).rowcount
            exists = conn.execute("SELECT 1 FROM labels WHERE dataset_id = ? AND name = ?", (id_, new)).fetchone()
            if exists:
                conn.execute("DELETE FROM labels WHERE dataset_id = ? AND name = ?", (id_, old))
            else:
                conn.execute("UPDATE labels SET name = ? WHERE dataset_id = ? AND name = ?", (new, id_, old))
            conn.execute("UPDATE items SET version = version + 1, updated_at = ? WHERE id IN (SELECT ii.item_id "
                         "FROM annotations a JOIN item_images ii ON ii.id = a.item_image_id WHERE a.label = ?) "
                         "AND dataset_id = ?", (self._clock(), new, id_))
        return changed

    # -- items: adding ------------------------------------------------------------------------

    def add_item(self, dataset: DatasetRef, images: Sequence[ImageInput], prompt: str = "") -> Item:
        """Copy the images into the data dir (content-hashed) and append one item of them to ``dataset``."""
        if not images:
            raise StoreError("an item needs at least one image")
        sources = [item if isinstance(item, ImageSource) else ImageSource(Path(item)) for item in images]
        blobs = [self.blobs.put_file(Path(source.path)) for source in sources]
        return self.add_item_blobs(dataset, list(zip(sources, blobs)), prompt)

    def add_item_blobs(self, dataset: DatasetRef, images: Sequence[tuple[ImageSource, Blob]], prompt: str = "",
                       annotations: Sequence[Sequence[AnnotationDraft]] = (), *, status: str | None = None) -> Item:
        """Append an item whose images are already stored, with optional starting annotations per image.

        One transaction; the annotations are the item's starting state (no history entry), as an
        import should be. ``status`` defaults to ``new`` (``pre-annotated`` when every given
        annotation came from a model).
        """
        dataset_id = self._dataset_row(dataset)[0]
        ids = _unique_ids([source.image_id or Path(source.path).stem for source, _ in images])
        drafts = [list(annotations[n]) if n < len(annotations) else [] for n in range(len(images))]
        flat = [d for per_image in drafts for d in per_image]
        if status is None:
            status = "pre-annotated" if flat and all(d.provenance == "model" for d in flat) else "new"
        _check_status(status)
        now = self._clock()
        with self._write() as conn:
            position = conn.execute("SELECT COALESCE(MAX(position), 0) + 1 FROM items WHERE dataset_id = ?",
                                    (dataset_id,)).fetchone()[0]
            item_id = conn.execute(
                "INSERT INTO items (dataset_id, position, prompt, status, created_at, updated_at) VALUES (?,?,?,?,?,?)",
                (dataset_id, position, prompt, status, now, now)).lastrowid
            for index, ((source, blob), image_id) in enumerate(zip(images, ids), start=1):
                conn.execute("INSERT OR IGNORE INTO images (sha256, file, width, height, format) VALUES (?,?,?,?,?)",
                             (blob.sha256, blob.file.relative_to(self.blobs.root).as_posix(), blob.width, blob.height,
                              blob.format))
                item_image_id = conn.execute(
                    "INSERT INTO item_images (item_id, position, image_id, sha256, original_name) VALUES (?,?,?,?,?)",
                    (item_id, index, image_id, blob.sha256, Path(source.path).name)).lastrowid
                for draft in drafts[index - 1]:
                    insert_annotation(conn, int(item_image_id), draft)
            _ensure_labels(conn, dataset_id, [d.label for d in flat])
        return self.item(int(item_id))

    def find_image(self, dataset: DatasetRef, sha256: str) -> int | None:
        """The item of ``dataset`` that already holds this exact image (by content), if any."""
        id_ = self._dataset_row(dataset)[0]
        rows = self._read("SELECT ii.item_id FROM item_images ii JOIN items i ON i.id = ii.item_id "
                          "WHERE i.dataset_id = ? AND ii.sha256 = ? LIMIT 1", (id_, sha256))
        return rows[0][0] if rows else None

    # -- items: reading -----------------------------------------------------------------------

    def item(self, item_id: int) -> Item:
        items = self._load_items("i.id = ?", (item_id,))
        if not items:
            raise StoreError(f"no item {item_id}")
        return items[0]

    def items(self, dataset: DatasetRef, *, statuses: Sequence[str] | None = None) -> list[Item]:
        """Items of a dataset in order, with images and annotations (three queries in all)."""
        dataset_id = self._dataset_row(dataset)[0]
        if statuses is None:
            return self._load_items("i.dataset_id = ?", (dataset_id,))
        for status in statuses:
            _check_status(status)
        marks = ",".join("?" * len(statuses))
        return self._load_items(f"i.dataset_id = ? AND i.status IN ({marks})", (dataset_id, *statuses))

    def item_ids(self, dataset: DatasetRef, filter: ItemFilter | None = None) -> list[int]:
        where, params = self._filter_sql(self._dataset_row(dataset)[0], filter or ItemFilter())
        return [row[0] for row in self._read(f"SELECT i.id FROM items i WHERE {where} ORDER BY i.position", params)]

    def _load_items(self, where: str, params: Sequence[Any]) -> list[Item]:
        with self._lock:
            items = self._conn.execute(
                "SELECT i.id, i.dataset_id, i.position, i.prompt, i.status, i.version, i.error, i.updated_at "
                f"FROM items i WHERE {where} ORDER BY i.position", params).fetchall()
            images = self._conn.execute(
                "SELECT ii.id, ii.item_id, ii.position, ii.image_id, ii.sha256, im.file, im.width, im.height, "
                "ii.original_name FROM item_images ii JOIN images im ON im.sha256 = ii.sha256 "
                f"JOIN items i ON i.id = ii.item_id WHERE {where} ORDER BY ii.item_id, ii.position", params).fetchall()
            annotations = self._conn.execute(
                f"SELECT {', '.join('a.' + c.strip() for c in ANNOTATION_COLUMNS.split(','))} FROM annotations a "
                "JOIN item_images ii ON ii.id = a.item_image_id JOIN items i ON i.id = ii.item_id "
                f"WHERE {where} ORDER BY a.id", params).fetchall()
        by_image: dict[int, list[Annotation]] = {}
        for row in annotations:
            by_image.setdefault(row[1], []).append(annotation_from_row(row))
        by_item: dict[int, list[ItemImage]] = {}
        for id_, item_id, position, image_id, sha, file, width, height, name in images:
            by_item.setdefault(item_id, []).append(ItemImage(
                id_, item_id, position, image_id, sha, self.blobs.root / file, width, height, name,
                tuple(by_image.get(id_, ()))))
        return [Item(id_, dataset_id, position, prompt, tuple(by_item.get(id_, ())), status, version, error, updated)
                for id_, dataset_id, position, prompt, status, version, error, updated in items]

    # -- the review queue ---------------------------------------------------------------------

    def _filter_sql(self, dataset_id: int, filter: ItemFilter) -> tuple[str, list[Any]]:
        where, params = ["i.dataset_id = ?"], [dataset_id]
        if filter.status:
            _check_status(filter.status)
            where.append("i.status = ?")
            params.append(filter.status)
        if filter.label:
            where.append("EXISTS (SELECT 1 FROM item_images ii JOIN annotations a ON a.item_image_id = ii.id "
                         "WHERE ii.item_id = i.id AND a.label = ?)")
            params.append(filter.label)
        if filter.provenance:
            if filter.provenance not in ("model", "human"):
                raise StoreError(f"provenance filter must be 'model' or 'human', got {filter.provenance!r}")
            where.append("EXISTS (SELECT 1 FROM item_images ii JOIN annotations a ON a.item_image_id = ii.id "
                         "WHERE ii.item_id = i.id AND a.provenance = ?)")
            params.append(filter.provenance)
        if filter.name:
            where.append("EXISTS (SELECT 1 FROM item_images ii WHERE ii.item_id = i.id AND "
                         "ii.original_name LIKE ? ESCAPE '\\')")
            params.append("%" + filter.name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
        return " AND ".join(where), params

    def queue(self, dataset: DatasetRef, filter: ItemFilter | None = None, *, page: int = 1,
              page_size: int = 48) -> QueuePage:
        """One page of the items that match ``filter``, with files, status and annotation counts."""
        dataset_id = self._dataset_row(dataset)[0]
        where, params = self._filter_sql(dataset_id, filter or ItemFilter())
        page_size = max(1, min(int(page_size), 500))
        with self._lock:
            total = self._conn.execute(f"SELECT COUNT(*) FROM items i WHERE {where}", params).fetchone()[0]
            pages = max(1, -(-total // page_size))
            page = min(max(1, int(page)), pages)
            rows = self._conn.execute(
                "SELECT i.id, i.position, i.status, i.error FROM items i "
                f"WHERE {where} ORDER BY i.position LIMIT ? OFFSET ?", (*params, page_size, (page - 1) * page_size)
            ).fetchall()
            ids = [row[0] for row in rows]
            marks = ",".join("?" * len(ids))
            files: dict[int, list[tuple[str, str, str, int, int]]] = {}
            for item_id, name, sha, file, width, height in self._conn.execute(
                    "SELECT ii.item_id, ii.original_name, ii.sha256, im.file, im.width, im.height FROM item_images ii "
                    f"JOIN images im ON im.sha256 = ii.sha256 WHERE ii.item_id IN ({marks}) "
                    "ORDER BY ii.item_id, ii.position", ids):
                files.setdefault(item_id, []).append((name, sha, file, width, height))
            counts: dict[int, list[Any]] = {}
            for item_id, kind, label in self._conn.execute(
                    "SELECT ii.item_id, a.kind, a.label FROM annotations a JOIN item_images ii ON ii.id = a.item_image_id "
                    f"WHERE ii.item_id IN ({marks}) ORDER BY a.id", ids):
                entry = counts.setdefault(item_id, [0, 0, {}])
                entry[0 if kind == "box" else 1] += 1
                entry[2][label] = None
        out = []
        for id_, position, status, error in rows:
            boxes, points, labels = counts.get(id_, [0, 0, {}])
            names = files.get(id_, [])
            first = names[0] if names else None
            out.append(ItemRow(id_, position, status, tuple(n[0] for n in names), tuple(n[1] for n in names), boxes,
                               points, tuple(labels), error, self.blobs.root / first[2] if first else None,
                               (first[3], first[4]) if first else (0, 0)))
        return QueuePage(tuple(out), total, page, page_size)

    def neighbour(self, dataset: DatasetRef, item_id: int | None, *, step: int = 1,
                  filter: ItemFilter | None = None, unreviewed: bool = False) -> int | None:
        """The item after (``step`` 1) or before (-1) ``item_id`` in queue order, within ``filter``.

        ``unreviewed`` looks for the next item still ``new`` or ``pre-annotated`` (wrapping to the
        start), as "accept and open the next" does. None when there is none.
        """
        dataset_id = self._dataset_row(dataset)[0]
        where, params = self._filter_sql(dataset_id, filter or ItemFilter())
        if unreviewed:
            where += " AND i.status IN ('new', 'pre-annotated')"
        position = None
        if item_id is not None:
            rows = self._read("SELECT position FROM items WHERE id = ?", (item_id,))
            position = rows[0][0] if rows else None
        if position is None:
            order = "ASC" if step > 0 else "DESC"
            rows = self._read(f"SELECT i.id FROM items i WHERE {where} ORDER BY i.position {order} LIMIT 1", params)
            return rows[0][0] if rows else None
        compare, order = (">", "ASC") if step > 0 else ("<", "DESC")
        rows = self._read(f"SELECT i.id FROM items i WHERE {where} AND i.position {compare} ? "
                          f"ORDER BY i.position {order} LIMIT 1", (*params, position))
        if rows:
            return rows[0][0]
        if unreviewed:  # wrap around: earlier items may still wait
            rows = self._read(f"SELECT i.id FROM items i WHERE {where} AND i.id != ? ORDER BY i.position {order} "
                              "LIMIT 1", (*params, item_id))
            return rows[0][0] if rows else None
        return None

    def index_of(self, dataset: DatasetRef, item_id: int, filter: ItemFilter | None = None) -> int | None:
        """1-based place of the item among those matching ``filter`` (None when it does not match)."""
        where, params = self._filter_sql(self._dataset_row(dataset)[0], filter or ItemFilter())
        rows = self._read(f"SELECT COUNT(*) FROM items i WHERE {where} AND i.position <= "
                          "(SELECT position FROM items WHERE id = ?)", (*params, item_id))
        matches = self._read(f"SELECT 1 FROM items i WHERE {where} AND i.id = ?", (*params, item_id))
        return rows[0][0] if matches else None

    # -- items: user actions (one transaction and one history entry each) ----------------------

    @contextmanager
    def _action(self, item_id: int, action: str, expected_version: int | None) -> Iterator[tuple[sqlite3.Connection, list[str]]]:
        """Open the transaction of one user action; the body mutates and may append a summary.

        The item's version is checked first, its state is taken before and after, and one history
        row records both; nothing is recorded when the body changed nothing.
        """
        with self._write() as conn:
            row = conn.execute("SELECT version FROM items WHERE id = ?", (item_id,)).fetchone()
            if row is None:
                raise StoreError(f"no item {item_id}")
            if expected_version is not None and row[0] != expected_version:
                raise StaleItemError(f"item {item_id} was changed elsewhere (another window or a batch run) since "
                                     "it was shown; here is how it is now — redo your change on it", self.item(item_id))
            before = snapshot(conn, item_id)
            summary: list[str] = []
            yield conn, summary
            after = snapshot(conn, item_id)
            if dumps(after) != dumps(before):
                conn.execute("UPDATE items SET version = version + 1, updated_at = ? WHERE id = ?",
                             (self._clock(), item_id))
                record_action(conn, item_id, self._clock(), action, "; ".join(summary) or action, before, after)

    def set_annotations(self, item_id: int, image: int, drafts: Sequence[AnnotationDraft], *,
                        expected_version: int | None = None, kinds: Sequence[str] = ("box",)) -> Item:
        """Make image ``image`` (1-based) of the item carry exactly ``drafts`` (of the given kinds).

        Annotations already stored and equal to one of ``drafts`` keep their id and provenance, so
        an untouched model box stays a model box; the others are replaced. One history entry.
        """
        with self._action(item_id, "edit", expected_version) as (conn, summary):
            image_row = conn.execute("SELECT id FROM item_images WHERE item_id = ? AND position = ?",
                                     (item_id, image)).fetchone()
            if image_row is None:
                raise StoreError(f"item {item_id} has no picture {image}")
            image_id = image_row[0]
            stored = [annotation_from_row(r) for r in conn.execute(
                f"SELECT {ANNOTATION_COLUMNS} FROM annotations WHERE item_image_id = ? ORDER BY id", (image_id,))]
            stored = [a for a in stored if a.kind in kinds]
            wanted = list(drafts)
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
            _ensure_labels(conn, _dataset_of(conn, item_id), [d.label for d in wanted])
            summary.append(f"picture {image}: {kept + len(wanted)} annotation(s), {len(wanted)} new or changed, "
                           f"{len(stored) - kept} removed")
        return self.item(item_id)

    def set_status(self, item_id: int, status: str, *, expected_version: int | None = None) -> Item:
        """Accept, reject or reopen an item."""
        _check_status(status)
        with self._action(item_id, status, expected_version) as (conn, summary):
            conn.execute("UPDATE items SET status = ?, error = '' WHERE id = ?", (status, item_id))
            summary.append(f"status {status}")
        return self.item(item_id)

    def set_prompt(self, item_id: int, prompt: str, *, expected_version: int | None = None) -> Item:
        with self._action(item_id, "prompt", expected_version) as (conn, summary):
            conn.execute("UPDATE items SET prompt = ? WHERE id = ?", (prompt, item_id))
            summary.append("prompt changed")
        return self.item(item_id)

    def rename_image(self, item_id: int, image: int, new_id: str, *, expected_version: int | None = None) -> Item:
        """Give picture ``image`` of the item another ID; IDs are unique within the item."""
        new_id = _check_image_id(new_id)
        with self._action(item_id, "rename image", expected_version) as (conn, summary):
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
        return self.item(item_id)

    def reorder_images(self, item_id: int, order: Sequence[int], *, expected_version: int | None = None) -> Item:
        """Put the item's pictures in a new order: ``order`` lists current positions (1-based), each once."""
        with self._action(item_id, "reorder", expected_version) as (conn, summary):
            rows = conn.execute("SELECT id FROM item_images WHERE item_id = ? ORDER BY position", (item_id,)).fetchall()
            if sorted(order) != list(range(1, len(rows) + 1)):
                raise StoreError(f"the new order {list(order)} must list pictures 1 to {len(rows)} once each")
            ids = [rows[p - 1][0] for p in order]
            for n, image_id in enumerate(ids, start=1):
                conn.execute("UPDATE item_images SET position = ? WHERE id = ?", (-n, image_id))
            for n, image_id in enumerate(ids, start=1):
                conn.execute("UPDATE item_images SET position = ? WHERE id = ?", (n, image_id))
            summary.append(f"pictures reordered {list(order)}")
        return self.item(item_id)

    def undo(self, item_id: int, *, expected_version: int | None = None) -> Item:
        """Take back the item's latest action (its state before that action comes back)."""
        return self._step(item_id, expected_version, undo=True)

    def redo(self, item_id: int, *, expected_version: int | None = None) -> Item:
        """Do again the action undone last."""
        return self._step(item_id, expected_version, undo=False)

    def can_undo(self, item_id: int) -> bool:
        return bool(self._read("SELECT 1 FROM actions WHERE item_id = ? AND state = 'done' LIMIT 1", (item_id,)))

    def can_redo(self, item_id: int) -> bool:
        return bool(self._read("SELECT 1 FROM actions WHERE item_id = ? AND state = 'undone' LIMIT 1", (item_id,)))

    def _step(self, item_id: int, expected_version: int | None, *, undo: bool) -> Item:
        word = "undo" if undo else "redo"
        with self._write() as conn:
            row = conn.execute("SELECT version FROM items WHERE id = ?", (item_id,)).fetchone()
            if row is None:
                raise StoreError(f"no item {item_id}")
            found = (last_done if undo else first_undone)(conn, item_id)
            if found is None:
                raise StoreError(f"nothing to {word} on this item")
            action_id, _summary, before, after = found
            expected = after if undo else before
            if (expected_version is not None and row[0] != expected_version) or \
                    dumps(snapshot(conn, item_id)) != dumps(expected):
                raise StaleItemError(f"cannot {word}: item {item_id} was changed elsewhere since; here is how it is "
                                     "now", self.item(item_id))
            restore(conn, item_id, before if undo else after)
            conn.execute("UPDATE actions SET state = ? WHERE id = ?", ("undone" if undo else "done", action_id))
            conn.execute("UPDATE items SET version = version + 1, updated_at = ? WHERE id = ?",
                         (self._clock(), item_id))
        return self.item(item_id)

    def history(self, item_id: int) -> list[Action]:
        """The item's actions, oldest first (undone and dropped ones included)."""
        with self._lock:
            return read_actions(self._conn, item_id)

    def delete_item(self, item_id: int) -> None:
        with self._write() as conn:
            if conn.execute("DELETE FROM items WHERE id = ?", (item_id,)).rowcount == 0:
                raise StoreError(f"no item {item_id}")

    def group_items(self, item_ids: Sequence[int]) -> Item:
        """Join single items into one multi-image item (images in the given order, annotations kept).

        The first item is kept and gets the others' images; the others are removed. A structural
        change: the undo history of the items involved ends here.
        """
        if len(item_ids) < 2 or len(set(item_ids)) != len(item_ids):
            raise StoreError("choose at least two different items to group")
        with self._write() as conn:
            datasets = {_dataset_of(conn, i) for i in item_ids}
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
                    new_id = _unique_ids([*taken, image_id])[-1]
                    taken.add(new_id)
                    conn.execute("UPDATE item_images SET item_id = ?, position = ?, image_id = ? WHERE id = ?",
                                 (first, position, new_id, image_row_id))
                conn.execute("DELETE FROM items WHERE id = ?", (other,))
            conn.execute("UPDATE actions SET state = 'dropped' WHERE item_id = ? AND state != 'dropped'", (first,))
            conn.execute("UPDATE items SET version = version + 1, updated_at = ? WHERE id = ?", (self._clock(), first))
        return self.item(first)

    def split_item(self, item_id: int) -> list[Item]:
        """One item per image of a multi-image item (annotations and status go with the images)."""
        with self._write() as conn:
            row = conn.execute("SELECT dataset_id, prompt, status FROM items WHERE id = ?", (item_id,)).fetchone()
            if row is None:
                raise StoreError(f"no item {item_id}")
            dataset_id, prompt, status = row
            images = conn.execute("SELECT id FROM item_images WHERE item_id = ? ORDER BY position", (item_id,)).fetchall()
            ids = [item_id]
            now = self._clock()
            for (image_row_id,) in images[1:]:
                position = conn.execute("SELECT COALESCE(MAX(position), 0) + 1 FROM items WHERE dataset_id = ?",
                                        (dataset_id,)).fetchone()[0]
                new = conn.execute("INSERT INTO items (dataset_id, position, prompt, status, created_at, updated_at) "
                                   "VALUES (?,?,?,?,?,?)", (dataset_id, position, prompt, status, now, now)).lastrowid
                conn.execute("UPDATE item_images SET item_id = ?, position = 1 WHERE id = ?", (new, image_row_id))
                ids.append(int(new))
            conn.execute("UPDATE actions SET state = 'dropped' WHERE item_id = ? AND state != 'dropped'", (item_id,))
            conn.execute("UPDATE items SET version = version + 1, updated_at = ? WHERE id = ?", (now, item_id))
        return [self.item(i) for i in ids]

    # -- model runs and their proposals -------------------------------------------------------

    def run(self, dataset: DatasetRef, *, model: str, family: str, settings: Mapping[str, Any]) -> Run:
        """The run record for these settings (created on first use): the same settings are the same run."""
        dataset_id = self._dataset_row(dataset)[0]
        key = dumps({"model": model, "family": family, **dict(settings)})
        with self._write() as conn:
            conn.execute("INSERT OR IGNORE INTO runs (dataset_id, key, created_at, model, family, settings) "
                         "VALUES (?,?,?,?,?,?)", (dataset_id, key, self._clock(), model, family, dumps(dict(settings))))
            row = conn.execute("SELECT id, dataset_id, key, created_at, model, family, settings FROM runs "
                               "WHERE dataset_id = ? AND key = ?", (dataset_id, key)).fetchone()
        return Run(*row[:6], json.loads(row[6]))

    def run_done(self, run_id: int, item_id: int) -> bool:
        """Whether this run already stored a result (not a failure) for the item (a resumed batch skips it)."""
        return bool(self._read("SELECT 1 FROM run_items WHERE run_id = ? AND item_id = ? AND error = ''",
                               (run_id, item_id)))

    def record_failure(self, run_id: int | None, item_id: int, error: str) -> None:
        """A run could not annotate the item: say so on the item (a later run retries it)."""
        with self._write() as conn:
            if run_id is not None:
                conn.execute("INSERT OR REPLACE INTO run_items (run_id, item_id, at, error) VALUES (?,?,?,?)",
                             (run_id, item_id, self._clock(), error or "failed"))
            if conn.execute("UPDATE items SET error = ? WHERE id = ?", (error or "failed", item_id)).rowcount == 0:
                raise StoreError(f"no item {item_id}")

    def record_proposals(self, run_id: int, item_id: int, per_image: Sequence[Sequence[AnnotationDraft]], *,
                         text: str = "", warnings: Sequence[str] = (), apply: str = "auto",
                         expected_version: int | None = None) -> tuple[Item, bool]:
        """Store what a run proposed for each image of the item; returns the item and whether they were applied.

        ``apply``: ``auto`` makes the proposals the item's annotations when no person has worked
        on it yet (status new or pre-annotated, no human annotation), and otherwise keeps the
        human version and only stores the proposals for the person to look at; ``always`` and
        ``never`` force either. One transaction; when applied, one history entry ("model run").
        """
        if apply not in ("auto", "always", "never"):
            raise StoreError(f"apply must be auto, always or never, got {apply!r}")
        run = self._read("SELECT model, family, settings FROM runs WHERE id = ?", (run_id,))
        if not run:
            raise StoreError(f"no run {run_id}")
        model, family, settings = run[0][0], run[0][1], json.loads(run[0][2])
        applied = False
        with self._action(item_id, "model run", expected_version) as (conn, summary):
            images = [r[0] for r in conn.execute("SELECT id FROM item_images WHERE item_id = ? ORDER BY position",
                                                 (item_id,))]
            if len(per_image) != len(images):
                raise StoreError(f"item {item_id} has {len(images)} images, the run answered for {len(per_image)}")
            conn.execute("DELETE FROM proposals WHERE run_id = ? AND item_image_id IN "
                         "(SELECT id FROM item_images WHERE item_id = ?)", (run_id, item_id))
            for image_id, drafts in zip(images, per_image):
                for d in drafts:
                    conn.execute("INSERT INTO proposals (run_id, item_image_id, kind, coords, label, attributes) "
                                 "VALUES (?,?,?,?,?,?)", (run_id, image_id, d.kind, json.dumps(list(d.coords)),
                                                          d.label, dumps(dict(d.attributes))))
            conn.execute("INSERT OR REPLACE INTO run_items (run_id, item_id, at, text, warnings, error) "
                         "VALUES (?,?,?,?,?, '')", (run_id, item_id, self._clock(), text, dumps(list(warnings))))
            status = conn.execute("SELECT status FROM items WHERE id = ?", (item_id,)).fetchone()[0]
            human = conn.execute("SELECT 1 FROM annotations a JOIN item_images ii ON ii.id = a.item_image_id "
                                 "WHERE ii.item_id = ? AND a.provenance = 'human' LIMIT 1", (item_id,)).fetchone()
            untouched = status in ("new", "pre-annotated") and not human
            applied = apply == "always" or (apply == "auto" and untouched)
            count = sum(len(d) for d in per_image)
            if applied:
                conn.execute("DELETE FROM annotations WHERE item_image_id IN "
                             "(SELECT id FROM item_images WHERE item_id = ?)", (item_id,))
                for image_id, drafts in zip(images, per_image):
                    for d in drafts:
                        insert_annotation(conn, image_id, AnnotationDraft(
                            d.kind, d.coords, d.label, "model", model, {"family": family, **settings, "run": run_id},
                            d.attributes))
                if status == "new":
                    conn.execute("UPDATE items SET status = 'pre-annotated' WHERE id = ?", (item_id,))
                _ensure_labels(conn, _dataset_of(conn, item_id), [d.label for ds in per_image for d in ds])
                summary.append(f"{model}: {count} annotation(s)")
            conn.execute("UPDATE items SET error = '' WHERE id = ?", (item_id,))
            if not applied:  # new proposals beside an unchanged item: still news for a window showing it
                conn.execute("UPDATE items SET version = version + 1, updated_at = ? WHERE id = ?",
                             (self._clock(), item_id))
        return self.item(item_id), applied

    def apply_proposals(self, item_id: int, run_id: int, *, mode: str = "replace",
                        expected_version: int | None = None) -> Item:
        """Take a run's proposals into the item: ``replace`` its annotations with them, or ``add`` those it lacks.

        One action (undoable); the proposals become model annotations with the run's provenance.
        """
        if mode not in ("replace", "add"):
            raise StoreError(f"mode must be 'replace' or 'add', got {mode!r}")
        run, proposals = self.proposals(item_id, run_id)
        with self._action(item_id, f"model boxes ({mode})", expected_version) as (conn, summary):
            images = [r[0] for r in conn.execute("SELECT id FROM item_images WHERE item_id = ? ORDER BY position",
                                                 (item_id,))]
            added = 0
            for image_id, per_image in zip(images, proposals):
                stored = [annotation_from_row(r) for r in conn.execute(
                    f"SELECT {ANNOTATION_COLUMNS} FROM annotations WHERE item_image_id = ?", (image_id,))]
                if mode == "replace":
                    conn.execute("DELETE FROM annotations WHERE item_image_id = ?", (image_id,))
                    stored = []
                for p in per_image:
                    draft = AnnotationDraft(p.kind, p.coords, p.label, "model", run.model,
                                            {"family": run.family, **dict(run.settings), "run": run.id}, p.attributes)
                    if any(a.same_place(draft) for a in stored):
                        continue
                    insert_annotation(conn, image_id, draft)
                    added += 1
            _ensure_labels(conn, _dataset_of(conn, item_id), [p.label for ps in proposals for p in ps])
            summary.append(f"{run.model}: {added} annotation(s) {'now' if mode == 'replace' else 'added'}")
        return self.item(item_id)

    def run_done_with(self, item_id: int, key: str, value: Any) -> bool:
        """Whether a run whose settings hold ``key: value`` stored a result (not a failure) for the item.

        A batch resumes with this: an item already annotated with the same settings is skipped.
        """
        return bool(self._read(
            "SELECT 1 FROM run_items ri JOIN runs r ON r.id = ri.run_id WHERE ri.item_id = ? AND ri.error = '' "
            f"AND json_extract(r.settings, '$.{key}') = ? LIMIT 1", (item_id, value)))

    # -- background jobs (a batch started from the UI) ----------------------------------------

    def create_job(self, dataset: DatasetRef, kind: str, settings: Mapping[str, Any], total: int) -> int:
        dataset_id = self._dataset_row(dataset)[0]
        now = self._clock()
        with self._write() as conn:
            return int(conn.execute(
                "INSERT INTO jobs (dataset_id, kind, settings, state, total, created_at, updated_at) "
                "VALUES (?, ?, ?, 'queued', ?, ?, ?)", (dataset_id, kind, dumps(dict(settings)), total, now, now)
            ).lastrowid)

    def update_job(self, job_id: int, *, state: str | None = None, done: int | None = None,
                   failed: int | None = None, message: str | None = None, total: int | None = None) -> None:
        fields = {"state": state, "done": done, "failed": failed, "message": message, "total": total}
        changes = {k: v for k, v in fields.items() if v is not None}
        with self._write() as conn:
            sets = ", ".join(f"{k} = ?" for k in changes)
            conn.execute(f"UPDATE jobs SET {sets}{', ' if sets else ''}updated_at = ? WHERE id = ?",
                         (*changes.values(), self._clock(), job_id))

    def cancel_job(self, job_id: int) -> None:
        """Ask a running job to stop after the items in flight (it says so when it has)."""
        with self._write() as conn:
            conn.execute("UPDATE jobs SET cancel = 1, updated_at = ? WHERE id = ?", (self._clock(), job_id))

    def job(self, job_id: int) -> dict[str, Any]:
        rows = self._read("SELECT id, dataset_id, kind, settings, state, total, done, failed, message, cancel, "
                          "created_at, updated_at FROM jobs WHERE id = ?", (job_id,))
        if not rows:
            raise StoreError(f"no job {job_id}")
        keys = ("id", "dataset_id", "kind", "settings", "state", "total", "done", "failed", "message", "cancel",
                "created_at", "updated_at")
        job = dict(zip(keys, rows[0]))
        job["settings"] = json.loads(job["settings"])
        return job

    def revision(self, dataset: DatasetRef) -> tuple[int, int, int, int, str]:
        """A value that changes whenever the dataset's items or jobs change (:mod:`workbench.store.revision`)."""
        dataset_id = self._dataset_row(dataset)[0]
        with self._lock:
            return dataset_revision(self._conn, dataset_id)

    def jobs(self, dataset: DatasetRef, *, limit: int = 5) -> list[dict[str, Any]]:
        """The dataset's latest jobs, newest first."""
        dataset_id = self._dataset_row(dataset)[0]
        ids = self._read("SELECT id FROM jobs WHERE dataset_id = ? ORDER BY id DESC LIMIT ?", (dataset_id, limit))
        return [self.job(row[0]) for row in ids]

    def interrupt_running_jobs(self) -> int:
        """Mark jobs left running by a process that is gone as interrupted (they can be resumed)."""
        with self._write() as conn:
            return conn.execute("UPDATE jobs SET state = 'interrupted', message = 'the app stopped while it ran; "
                                "start it again to go on (items already done are skipped)', updated_at = ? "
                                "WHERE state IN ('queued', 'running')", (self._clock(),)).rowcount

    def proposals(self, item_id: int, run_id: int | None = None) -> tuple[Run | None, list[list[Proposal]]]:
        """The proposals of the item's latest run (or of ``run_id``), per image in order."""
        if run_id is None:
            rows = self._read("SELECT run_id FROM run_items WHERE item_id = ? AND error = '' ORDER BY at DESC LIMIT 1",
                              (item_id,))
            if not rows:
                return None, [[] for _ in self.item(item_id).images]
            run_id = rows[0][0]
        run_row = self._read("SELECT id, dataset_id, key, created_at, model, family, settings FROM runs WHERE id = ?",
                             (run_id,))
        if not run_row:
            raise StoreError(f"no run {run_id}")
        run = Run(*run_row[0][:6], json.loads(run_row[0][6]))
        images = self._read("SELECT id FROM item_images WHERE item_id = ? ORDER BY position", (item_id,))
        out: list[list[Proposal]] = []
        for (image_id,) in images:
            rows = self._read("SELECT kind, coords, label, attributes FROM proposals WHERE run_id = ? AND "
                              "item_image_id = ? ORDER BY id", (run_id, image_id))
            out.append([Proposal(run_id, image_id, kind, tuple(json.loads(c)), label, json.loads(attrs))
                        for kind, c, label, attrs in rows])
        return run, out

    def run_text(self, run_id: int, item_id: int) -> tuple[str, list[str], str]:
        """(model text, warnings, error) a run stored for the item."""
        rows = self._read("SELECT text, warnings, error FROM run_items WHERE run_id = ? AND item_id = ?",
                          (run_id, item_id))
        if not rows:
            raise StoreError(f"run {run_id} has no result for item {item_id}")
        return rows[0][0], json.loads(rows[0][1]), rows[0][2]


def _dataset_of(conn: sqlite3.Connection, item_id: int) -> int:
    row = conn.execute("SELECT dataset_id FROM items WHERE id = ?", (item_id,)).fetchone()
    if row is None:
        raise StoreError(f"no item {item_id}")
    return int(row[0])


def _ensure_labels(conn: sqlite3.Connection, dataset_id: int, names: Sequence[str]) -> None:
    """Add labels the dataset has not seen yet, each with the next palette colour."""
    names = [n for n in dict.fromkeys(names) if n]
    if not names:
        return
    known = {r[0] for r in conn.execute("SELECT name FROM labels WHERE dataset_id = ?", (dataset_id,))}
    count = len(known)
    for name in names:
        if name not in known:
            conn.execute("INSERT INTO labels (dataset_id, name, color) VALUES (?,?,?)",
                         (dataset_id, name, PALETTE[count % len(PALETTE)]))
            known.add(name)
            count += 1


def _check_status(status: str) -> None:
    if status not in ITEM_STATUSES:
        raise StoreError(f"item status must be one of {', '.join(ITEM_STATUSES)}; got {status!r}")


def _check_color(color: str) -> str:
    text = color.strip().lower()
    if len(text) != 7 or text[0] != "#" or any(c not in "0123456789abcdef" for c in text[1:]):
        raise StoreError(f"a colour is written #rrggbb, got {color!r}")
    return text


def _check_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise StoreError("a dataset needs a name")
    if "/" in name or "\\" in name or name in {".", ".."}:
        raise StoreError(f"dataset name {name!r} may not contain / or \\ (it names export folders)")
    if len(name) > 100:
        raise StoreError("a dataset name may be at most 100 characters")
    return name


IMAGE_ID_RULE = "1-32 letters, digits, '_', '-' or '.', starting with a letter or digit"


def _check_image_id(image_id: str) -> str:
    import re

    image_id = (image_id or "").strip()
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}", image_id):
        raise StoreError(f"image ID {image_id!r} must be {IMAGE_ID_RULE}")
    return image_id


def _unique_ids(ids: Sequence[str]) -> list[str]:
    """Image IDs within an item, made unique by suffixing ``-2``, ``-3``…

    >>> _unique_ids(["a", "b", "a"])
    ['a', 'b', 'a-2']
    """
    seen: set[str] = set()
    out = []
    for image_id in ids:
        image_id = image_id.strip() or "image"
        candidate, n = image_id, 1
        while candidate in seen:
            n += 1
            candidate = f"{image_id}-{n}"
        seen.add(candidate)
        out.append(candidate)
    return out

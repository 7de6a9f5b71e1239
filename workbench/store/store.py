"""``DatasetStore``: datasets of multi-image samples and their annotations in one SQLite file.

Every edit is its own transaction, committed (and fsynced: ``synchronous=FULL``) before the
call returns, together with its entry in the sample's append-only history. Undo reads that
history from the database, so it works in a new process as well as in the one that edited.

>>> import tempfile, io
>>> from PIL import Image
>>> folder = Path(tempfile.mkdtemp()); Image.new("RGB", (640, 428)).save(folder / "bowl.jpg")
>>> store = DatasetStore(folder / "db.sqlite3")
>>> sample = store.add_sample(store.create_dataset("kitchen"), [folder / "bowl.jpg"], "Locate the bowl.")
>>> box = store.add_annotation(sample.images[0].id, AnnotationDraft.box((146, 137, 615, 415), "bowl"))
>>> store.update_annotation(box.id, label="soup bowl").label
'soup bowl'
>>> store.undo(sample.id).action, store.sample(sample.id).images[0].annotations[0].label
('undo', 'bowl')
>>> store.close()
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Union

from workbench.errors import StoreError
from workbench.store.blobs import Blob, ImageBlobs
from workbench.store.datadir import DB_NAME, resolve_data_dir
from workbench.store.faults import write_failure
from workbench.store.records import (
    STATUSES,
    Annotation,
    AnnotationDraft,
    Dataset,
    Edit,
    ImageSource,
    Sample,
    SampleImage,
)
from workbench.store.history import read_history, record_edit, undo_latest
from workbench.store.rows import (
    ANNOTATION_COLUMNS,
    annotation_from_row,
    annotation_state,
    insert_annotation,
    read_annotation,
    write_annotation,
)
from workbench.store.schema import PRAGMAS, SCHEMA, SCHEMA_VERSION

__all__ = ["DatasetRef", "DatasetStore", "utc_now"]

DatasetRef = Union[str, int, Dataset]
ImageInput = Union[ImageSource, str, os.PathLike]

def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


class DatasetStore:
    """Datasets, samples, images and annotations in ``db_path``; image copies in ``images_dir``.

    ``images_dir`` defaults to ``images/`` beside the database. ``durable=False`` trades the
    fsync per commit (``synchronous=FULL``) for WAL's ``NORMAL``: still safe if the process
    dies, but the last commits may be lost if the machine loses power. Use :meth:`open` to place both
    under a data dir chosen by argument or ``WORKBENCH_DATA_DIR``. Safe to share between the
    threads of one process (one connection behind a lock); other processes may open the same
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
            if not durable:  # bulk loads: survives a process crash, may lose the last commits on power loss
                self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
            with self._write() as conn:
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise StoreError(f"{self.db_path} was written by a newer workbench (schema {version})")
                conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
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
            try:
                self._conn.execute("ROLLBACK")
            except sqlite3.DatabaseError:
                pass  # the connection has already undone it

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def _record(self, conn: sqlite3.Connection, sample_id: int, action: str, annotation_id: int | None,
                before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> None:
        record_edit(conn, sample_id, self._clock(), action, annotation_id, before, after)

    # -- datasets -----------------------------------------------------------------------------

    def _dataset_row(self, ref: DatasetRef) -> tuple[int, str, str]:
        if isinstance(ref, Dataset):
            ref = ref.id
        column = "id" if isinstance(ref, int) else "name"
        rows = self._read(f"SELECT id, name, created_at FROM datasets WHERE {column} = ?", (ref,))
        if not rows:
            raise StoreError(f"no dataset {ref!r}")
        return rows[0]

    def create_dataset(self, name: str) -> Dataset:
        name = _check_name(name)
        try:
            with self._write() as conn:
                cursor = conn.execute("INSERT INTO datasets (name, created_at) VALUES (?, ?)", (name, self._clock()))
        except sqlite3.IntegrityError:
            raise StoreError(f"a dataset named {name!r} already exists") from None
        return self.dataset(int(cursor.lastrowid))

    def dataset(self, ref: DatasetRef) -> Dataset:
        id_, name, created_at = self._dataset_row(ref)
        count = self._read("SELECT COUNT(*) FROM samples WHERE dataset_id = ?", (id_,))[0][0]
        return Dataset(id_, name, created_at, count)

    def list_datasets(self) -> list[Dataset]:
        rows = self._read(
            "SELECT d.id, d.name, d.created_at, COUNT(s.id) FROM datasets d "
            "LEFT JOIN samples s ON s.dataset_id = d.id GROUP BY d.id ORDER BY d.name"
        )
        return [Dataset(*row) for row in rows]

    def rename_dataset(self, ref: DatasetRef, new_name: str) -> Dataset:
        id_ = self._dataset_row(ref)[0]
        new_name = _check_name(new_name)
        try:
            with self._write() as conn:
                conn.execute("UPDATE datasets SET name = ? WHERE id = ?", (new_name, id_))
        except sqlite3.IntegrityError:
            raise StoreError(f"a dataset named {new_name!r} already exists") from None
        return self.dataset(id_)

    def delete_dataset(self, ref: DatasetRef) -> None:
        """Delete a dataset with its samples, annotations and history (image files stay; see :meth:`prune_images`)."""
        id_ = self._dataset_row(ref)[0]
        with self._write() as conn:
            conn.execute("DELETE FROM datasets WHERE id = ?", (id_,))

    def prune_images(self) -> int:
        """Delete image copies no sample uses any more; returns how many went."""
        with self._write() as conn:
            rows = conn.execute(
                "SELECT sha256, file FROM images WHERE sha256 NOT IN (SELECT sha256 FROM sample_images)"
            ).fetchall()
            conn.executemany("DELETE FROM images WHERE sha256 = ?", [(sha,) for sha, _ in rows])
        for _, file in rows:
            (self.blobs.root / file).unlink(missing_ok=True)
        return len(rows)

    # -- samples ------------------------------------------------------------------------------

    def add_sample(self, dataset: DatasetRef, images: Sequence[ImageInput], prompt: str = "") -> Sample:
        """Copy the images into the data dir (content-hashed) and append a sample to ``dataset``."""
        if not images:
            raise StoreError("a sample needs at least one image")
        dataset_id = self._dataset_row(dataset)[0]
        sources = [item if isinstance(item, ImageSource) else ImageSource(Path(item)) for item in images]
        blobs = [self.blobs.put_file(Path(source.path)) for source in sources]
        return self.add_sample_blobs(dataset_id, list(zip(sources, blobs)), prompt)

    def add_sample_blobs(self, dataset: DatasetRef, images: Sequence[tuple[ImageSource, Blob]], prompt: str = "",
                         annotations: Sequence[Sequence[AnnotationDraft]] = ()) -> Sample:
        """Append a sample whose images are already stored, with optional annotations per image.

        Everything lands in one transaction; annotations given here are the sample's starting
        state (no history entries), as an import should be.
        """
        dataset_id = self._dataset_row(dataset)[0]
        ids = _unique_ids([source.image_id or Path(source.path).stem for source, _ in images])
        with self._write() as conn:
            position = conn.execute(
                "SELECT COALESCE(MAX(position), 0) + 1 FROM samples WHERE dataset_id = ?", (dataset_id,)
            ).fetchone()[0]
            sample_id = conn.execute(
                "INSERT INTO samples (dataset_id, position, prompt) VALUES (?, ?, ?)", (dataset_id, position, prompt)
            ).lastrowid
            for index, ((source, blob), image_id) in enumerate(zip(images, ids), start=1):
                conn.execute(
                    "INSERT OR IGNORE INTO images (sha256, file, width, height, format) VALUES (?, ?, ?, ?, ?)",
                    (blob.sha256, blob.file.relative_to(self.blobs.root).as_posix(), blob.width, blob.height,
                     blob.format),
                )
                sample_image_id = conn.execute(
                    "INSERT INTO sample_images (sample_id, position, image_id, sha256, original_name) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (sample_id, index, image_id, blob.sha256, Path(source.path).name),
                ).lastrowid
                drafts = annotations[index - 1] if index - 1 < len(annotations) else ()
                for draft in drafts:
                    insert_annotation(conn, int(sample_image_id), draft)
        return self.sample(int(sample_id))

    def sample_ids(self, dataset: DatasetRef) -> list[int]:
        dataset_id = self._dataset_row(dataset)[0]
        return [row[0] for row in self._read("SELECT id FROM samples WHERE dataset_id = ? ORDER BY position",
                                             (dataset_id,))]

    def sample(self, sample_id: int) -> Sample:
        samples = self._load_samples("s.id = ?", (sample_id,))
        if not samples:
            raise StoreError(f"no sample {sample_id}")
        return samples[0]

    def samples(self, dataset: DatasetRef) -> list[Sample]:
        """Every sample of a dataset in order, with images and annotations (three queries in all)."""
        dataset_id = self._dataset_row(dataset)[0]
        return self._load_samples("s.dataset_id = ?", (dataset_id,))

    def _load_samples(self, where: str, params: Sequence[Any]) -> list[Sample]:
        with self._lock:
            samples = self._conn.execute(
                f"SELECT s.id, s.dataset_id, s.position, s.prompt FROM samples s WHERE {where} ORDER BY s.position",
                params).fetchall()
            images = self._conn.execute(
                "SELECT si.id, si.sample_id, si.position, si.image_id, si.sha256, i.file, i.width, i.height, "
                f"si.original_name FROM sample_images si JOIN images i ON i.sha256 = si.sha256 "
                f"JOIN samples s ON s.id = si.sample_id WHERE {where} ORDER BY si.sample_id, si.position",
                params).fetchall()
            annotations = self._conn.execute(
                f"SELECT {', '.join('a.' + c.strip() for c in ANNOTATION_COLUMNS.split(','))} FROM annotations a "
                "JOIN sample_images si ON si.id = a.sample_image_id JOIN samples s ON s.id = si.sample_id "
                f"WHERE {where} ORDER BY a.id", params).fetchall()
        by_image: dict[int, list[Annotation]] = {}
        for row in annotations:
            by_image.setdefault(row[1], []).append(annotation_from_row(row))
        by_sample: dict[int, list[SampleImage]] = {}
        for id_, sample_id, position, image_id, sha, file, width, height, name in images:
            by_sample.setdefault(sample_id, []).append(SampleImage(
                id_, sample_id, position, image_id, sha, self.blobs.root / file, width, height, name,
                tuple(by_image.get(id_, ()))))
        return [Sample(id_, dataset_id, position, prompt, tuple(by_sample.get(id_, ())))
                for id_, dataset_id, position, prompt in samples]

    def delete_sample(self, sample_id: int) -> None:
        self._sample_of(sample_id)
        with self._write() as conn:
            conn.execute("DELETE FROM samples WHERE id = ?", (sample_id,))

    def set_prompt(self, sample_id: int, prompt: str) -> Sample:
        before = self._sample_of(sample_id)
        with self._write() as conn:
            conn.execute("UPDATE samples SET prompt = ? WHERE id = ?", (prompt, sample_id))
            self._record(conn, sample_id, "set_prompt", None, {"prompt": before}, {"prompt": prompt})
        return self.sample(sample_id)

    def rename_image(self, sample_image_id: int, new_id: str) -> Sample:
        """Give one image of a sample another ID (as the user renamed it); undoable like any edit."""
        new_id = (new_id or "").strip()
        if not new_id:
            raise StoreError("an image ID must not be empty")
        rows = self._read("SELECT sample_id, image_id FROM sample_images WHERE id = ?", (sample_image_id,))
        if not rows:
            raise StoreError(f"no sample image {sample_image_id}")
        sample_id, old_id = rows[0]
        if old_id == new_id:
            return self.sample(sample_id)
        try:
            with self._write() as conn:
                conn.execute("UPDATE sample_images SET image_id = ? WHERE id = ?", (new_id, sample_image_id))
                self._record(conn, sample_id, "rename_image", None,
                             {"sample_image_id": sample_image_id, "image_id": old_id},
                             {"sample_image_id": sample_image_id, "image_id": new_id})
        except sqlite3.IntegrityError:
            raise StoreError(f"sample {sample_id} already has an image {new_id!r}") from None
        return self.sample(sample_id)

    def reorder_images(self, sample_id: int, sample_image_ids: Sequence[int]) -> Sample:
        """Put a sample's images in a new order (its "Picture N" numbering); undoable like any edit."""
        current = [image.id for image in self.sample(sample_id).images]
        order = [int(i) for i in sample_image_ids]
        if sorted(order) != sorted(current):
            raise StoreError(f"new order {order} must list each image of sample {sample_id} once: {current}")
        if order == current:
            return self.sample(sample_id)
        with self._write() as conn:
            _write_positions(conn, order)
            self._record(conn, sample_id, "reorder_images", None, {"order": current}, {"order": order})
        return self.sample(sample_id)

    def _sample_of(self, sample_id: int) -> str:
        rows = self._read("SELECT prompt FROM samples WHERE id = ?", (sample_id,))
        if not rows:
            raise StoreError(f"no sample {sample_id}")
        return rows[0][0]

    # -- annotations --------------------------------------------------------------------------

    def _sample_of_image(self, conn: sqlite3.Connection, sample_image_id: int) -> int:
        row = conn.execute("SELECT sample_id FROM sample_images WHERE id = ?", (sample_image_id,)).fetchone()
        if row is None:
            raise StoreError(f"no sample image {sample_image_id}")
        return int(row[0])

    def annotation(self, annotation_id: int) -> Annotation:
        with self._lock:
            return read_annotation(self._conn, annotation_id)

    def add_annotation(self, sample_image_id: int, draft: AnnotationDraft) -> Annotation:
        """Add a box or point (original pixels) to one image of a sample; committed on return."""
        return self.add_annotations(sample_image_id, [draft])[0]

    def add_annotations(self, sample_image_id: int, drafts: Sequence[AnnotationDraft]) -> list[Annotation]:
        """Add several annotations in one transaction (one history entry each)."""
        with self._write() as conn:
            sample_id = self._sample_of_image(conn, sample_image_id)
            added = [insert_annotation(conn, sample_image_id, draft) for draft in drafts]
            for annotation in added:
                self._record(conn, sample_id, "add_annotation", annotation.id, None, annotation_state(annotation))
        return added

    def update_annotation(self, annotation_id: int, *, coords: Sequence[float] | None = None,
                          label: str | None = None, status: str | None = None) -> Annotation:
        """Change coordinates, label and/or review status. Moving or relabelling makes it a human annotation."""
        if status is not None and status not in STATUSES:
            raise StoreError(f"review status must be one of {STATUSES}, got {status!r}")
        with self._write() as conn:
            before = read_annotation(conn, annotation_id)
            try:
                after = replace(
                    before,
                    coords=tuple(coords) if coords is not None else before.coords,
                    label=label if label is not None else before.label,
                    status=status or before.status,
                    provenance="human" if (coords is not None or label is not None) else before.provenance,
                )
            except ValueError as exc:
                raise StoreError(f"annotation {annotation_id}: {exc}") from None
            write_annotation(conn, after)
            self._record(conn, self._sample_of_image(conn, before.sample_image_id), "update_annotation",
                         annotation_id, annotation_state(before), annotation_state(after))
        return after

    def delete_annotation(self, annotation_id: int) -> None:
        with self._write() as conn:
            before = read_annotation(conn, annotation_id)
            conn.execute("DELETE FROM annotations WHERE id = ?", (annotation_id,))
            self._record(conn, self._sample_of_image(conn, before.sample_image_id), "delete_annotation",
                         annotation_id, annotation_state(before), None)

    # -- history ------------------------------------------------------------------------------

    def history(self, sample_id: int) -> list[Edit]:
        """The sample's edits, oldest first, undos included."""
        with self._lock:
            return read_history(self._conn, sample_id)

    def undo(self, sample_id: int) -> Edit | None:
        """Revert the sample's latest edit not yet undone; returns the ``undo`` entry, or None if none is left."""
        with self._write() as conn:
            return undo_latest(conn, sample_id, self._clock())


def _write_positions(conn: sqlite3.Connection, order: Sequence[int]) -> None:
    """Positions 1..N in ``order`` (through negative ones, so the UNIQUE (sample, position) rule holds)."""
    for n, image_id in enumerate(order, start=1):
        conn.execute("UPDATE sample_images SET position = ? WHERE id = ?", (-n, image_id))
    for n, image_id in enumerate(order, start=1):
        conn.execute("UPDATE sample_images SET position = ? WHERE id = ?", (n, image_id))


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise StoreError("a dataset needs a name")
    if "/" in name or "\\" in name or name in {".", ".."}:
        raise StoreError(f"dataset name {name!r} may not contain / or \\ (it names export folders)")
    return name


def _unique_ids(ids: Sequence[str]) -> list[str]:
    """Image IDs within a sample, made unique by suffixing ``-2``, ``-3``…

    >>> _unique_ids(["a", "b", "a"])
    ['a', 'b', 'a-2']
    """
    seen: dict[str, int] = {}
    out = []
    for image_id in ids:
        image_id = image_id.strip() or "image"
        candidate, n = image_id, 1
        while candidate in seen:
            n += 1
            candidate = f"{image_id}-{n}"
        seen[candidate] = 1
        out.append(candidate)
    return out

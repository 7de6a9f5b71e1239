"""A store written by the first release (schema 1: samples with per-annotation statuses) opens with its data kept."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.factories import write_image
from workbench.store import AnnotationDraft, DatasetStore, ItemFilter
from workbench.store.blobs import ImageBlobs

# The first release's schema, as it shipped (workbench/store/schema.py, SCHEMA_VERSION = 1).
V1_SCHEMA = """
CREATE TABLE datasets (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL);
CREATE TABLE images (sha256 TEXT PRIMARY KEY, file TEXT NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL,
    format TEXT NOT NULL);
CREATE TABLE samples (id INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE, position INTEGER NOT NULL,
    prompt TEXT NOT NULL DEFAULT '');
CREATE INDEX samples_by_dataset ON samples(dataset_id, position);
CREATE TABLE sample_images (id INTEGER PRIMARY KEY AUTOINCREMENT,
    sample_id INTEGER NOT NULL REFERENCES samples(id) ON DELETE CASCADE, position INTEGER NOT NULL,
    image_id TEXT NOT NULL, sha256 TEXT NOT NULL REFERENCES images(sha256), original_name TEXT NOT NULL,
    UNIQUE (sample_id, position), UNIQUE (sample_id, image_id));
CREATE TABLE annotations (id INTEGER PRIMARY KEY AUTOINCREMENT,
    sample_image_id INTEGER NOT NULL REFERENCES sample_images(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('box', 'point')), coords TEXT NOT NULL, label TEXT NOT NULL,
    provenance TEXT NOT NULL CHECK (provenance IN ('model', 'human')), model TEXT,
    settings TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected')),
    attributes TEXT NOT NULL DEFAULT '{}');
CREATE INDEX annotations_by_image ON annotations(sample_image_id);
CREATE TABLE edits (id INTEGER PRIMARY KEY AUTOINCREMENT,
    sample_id INTEGER NOT NULL REFERENCES samples(id) ON DELETE CASCADE, at TEXT NOT NULL, action TEXT NOT NULL,
    annotation_id INTEGER, before TEXT, after TEXT, undoes INTEGER REFERENCES edits(id));
CREATE INDEX edits_by_sample ON edits(sample_id, id);
"""


@pytest.fixture
def v1_store(tmp_path):
    """A version-1 data folder: three samples (accepted, pending model boxes, one with a rejected box)."""
    root = tmp_path / "data"
    blobs = ImageBlobs(root / "images")
    photo = blobs.put_file(write_image(tmp_path, 640, 428, fmt="JPEG", name="bowl.jpg"))
    street = blobs.put_file(write_image(tmp_path, 200, 150, seed=1, name="street.png"))
    conn = sqlite3.connect(root / "workbench.sqlite3")
    conn.executescript(V1_SCHEMA)
    conn.execute("PRAGMA user_version=1")
    conn.execute("INSERT INTO datasets VALUES (1, 'kitchen', '2026-11-01T10:00:00+00:00')")
    for blob in (photo, street):
        conn.execute("INSERT INTO images VALUES (?,?,?,?,?)", (blob.sha256, blob.file.relative_to(root / "images")
                                                               .as_posix(), blob.width, blob.height, blob.format))
    conn.executemany("INSERT INTO samples VALUES (?,?,?,?)", [(1, 1, 1, "Locate the bowl."), (2, 1, 2, "Find cars."),
                                                              (3, 1, 3, "")])
    conn.executemany("INSERT INTO sample_images VALUES (?,?,?,?,?,?)", [
        (1, 1, 1, "img1", photo.sha256, "bowl.jpg"), (2, 2, 1, "kitchen", photo.sha256, "bowl.jpg"),
        (3, 2, 2, "street", street.sha256, "street.png"), (4, 3, 1, "img1", street.sha256, "street.png")])
    box = json.dumps([146.0, 137.0, 615.0, 415.0])
    conn.executemany("INSERT INTO annotations VALUES (?,?,?,?,?,?,?,?,?,?)", [
        (1, 1, "box", box, "bowl", "human", None, "{}", "accepted", "{}"),
        (2, 2, "box", box, "bowl", "model", "Qwen/Qwen2.5-VL-3B-Instruct", '{"family": "qwen2.5-vl"}', "pending", "{}"),
        (3, 3, "point", json.dumps([50.0, 60.0]), "car", "human", None, "{}", "accepted", "{}"),
        (4, 4, "box", json.dumps([5.0, 5.0, 50.0, 50.0]), "ghost", "human", None, "{}", "rejected", "{}")])
    conn.execute("INSERT INTO edits VALUES (1, 1, '2026-11-01T10:01:00+00:00', 'add_annotation', 1, NULL, '{}', NULL)")
    conn.commit()
    conn.close()
    return root


def test_a_version_1_store_upgrades_and_keeps_its_data(v1_store):
    with DatasetStore.open(v1_store) as store:
        dataset = store.dataset("kitchen")
        assert dataset.counts == {"new": 1, "pre-annotated": 1, "accepted": 1, "rejected": 0}
        bowl, cars, empty = store.items(dataset)
        assert (bowl.status, bowl.prompt, [(a.label, a.coords) for a in bowl.annotations]) == (
            "accepted", "Locate the bowl.", [("bowl", (146.0, 137.0, 615.0, 415.0))])
        assert cars.status == "pre-annotated" and [i.image_id for i in cars.images] == ["kitchen", "street"]
        assert [(a.kind, a.provenance, a.model) for a in cars.annotations] == [
            ("box", "model", "Qwen/Qwen2.5-VL-3B-Instruct"), ("point", "human", None)]
        assert empty.status == "new" and empty.annotations == ()
        run, proposals = store.proposals(empty.id)
        assert run.model == "rejected in version 1" and [p.label for p in proposals[0]] == ["ghost"]
        assert bowl.images[0].file.is_file() and bowl.images[0].wh == (640, 428)
        assert store.queue(dataset, ItemFilter(provenance="model")).total == 1
        assert [label.name for label in store.labels(dataset)] == ["bowl", "car", "ghost"]
        # the upgraded store works like a new one
        assert store.set_status(empty.id, "rejected").status == "rejected"
        assert store.db.conn.execute("SELECT COUNT(*) FROM legacy_edits").fetchone()[0] == 1
    assert (v1_store / "workbench.sqlite3.v1.bak").is_file()
    old = sqlite3.connect(v1_store / "workbench.sqlite3.v1.bak")
    assert old.execute("SELECT COUNT(*) FROM samples").fetchone()[0] == 3  # the backup is the old file, untouched
    assert sqlite3.connect(v1_store / "workbench.sqlite3").execute("PRAGMA foreign_key_check").fetchall() == []


def test_opening_twice_migrates_once(v1_store):
    DatasetStore.open(v1_store).close()
    with DatasetStore.open(v1_store) as store:
        assert store.dataset("kitchen").items == 3


def test_a_store_from_a_newer_workbench_is_refused(tmp_path):
    from workbench.errors import StoreError

    db = tmp_path / "workbench.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version=99")
    conn.close()
    with pytest.raises(StoreError, match="newer workbench"):
        DatasetStore(db)


def _shape(path):
    """Every table's columns (name, type, not null, default) and every index, as SQLite reports them."""
    conn = sqlite3.connect(path)
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    shape = {t: [tuple(c[1:5]) for c in conn.execute(f"PRAGMA table_info({t})")] for t in tables}
    shape["indexes"] = sorted(r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'"))
    conn.close()
    return shape


def test_a_version_2_store_gains_splits_scores_and_evaluations_and_keeps_its_data(tmp_path):
    from workbench.store.schema import SCHEMA_V2

    image = write_image(tmp_path, 64, 48, name="cat.png")
    with DatasetStore(tmp_path / "new" / "workbench.sqlite3") as fresh:
        item = fresh.add_item(fresh.create_dataset("pets"), [image])
        fresh.set_annotations(item.id, 1, [AnnotationDraft.box((1, 2, 30, 40), "cat")])
    root = tmp_path / "old"
    root.mkdir()
    conn = sqlite3.connect(root / "workbench.sqlite3")
    conn.executescript(SCHEMA_V2)
    conn.execute("PRAGMA user_version=2")
    conn.execute("ATTACH DATABASE ? AS fresh", (str(tmp_path / "new" / "workbench.sqlite3"),))
    for table in ("datasets", "labels", "images", "items", "item_images", "actions"):
        columns = ", ".join(r[1] for r in conn.execute(f"PRAGMA main.table_info({table})"))
        conn.execute(f"INSERT INTO main.{table} SELECT {columns} FROM fresh.{table}")
    conn.execute("INSERT INTO main.annotations SELECT id, item_image_id, kind, coords, label, provenance, model, "
                 "settings, attributes FROM fresh.annotations")
    conn.commit()
    conn.execute("DETACH DATABASE fresh")
    conn.close()
    with DatasetStore(root / "workbench.sqlite3", images_dir=tmp_path / "new" / "images") as store:
        (kept,) = store.items("pets")
        assert [(a.label, a.coords) for a in kept.annotations] == [("cat", (1.0, 2.0, 30.0, 40.0))]
        assert store.db.conn.execute("SELECT split FROM items").fetchall() == [("",)]
        assert store.history(kept.id)[0].action == "edit" and store.undo(kept.id).annotations == ()
    assert (root / "workbench.sqlite3.v2.bak").is_file()
    assert _shape(root / "workbench.sqlite3") == _shape(tmp_path / "new" / "workbench.sqlite3")

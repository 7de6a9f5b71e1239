"""The SQLite schema of the dataset store and the pragmas every connection gets.

WAL lets the UI read while an edit commits; ``synchronous=FULL`` makes a commit durable
before the call returns; ``busy_timeout`` waits for another writer instead of failing.

>>> "CREATE TABLE IF NOT EXISTS annotations" in SCHEMA
True
"""

from __future__ import annotations

__all__ = ["PRAGMAS", "SCHEMA", "SCHEMA_VERSION"]

SCHEMA_VERSION = 1

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS datasets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS images (
    sha256 TEXT PRIMARY KEY,
    file TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    format TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS samples (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    prompt TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS samples_by_dataset ON samples(dataset_id, position);
CREATE TABLE IF NOT EXISTS sample_images (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sample_id INTEGER NOT NULL REFERENCES samples(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    image_id TEXT NOT NULL,
    sha256 TEXT NOT NULL REFERENCES images(sha256),
    original_name TEXT NOT NULL,
    UNIQUE (sample_id, position),
    UNIQUE (sample_id, image_id)
);
CREATE TABLE IF NOT EXISTS annotations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sample_image_id INTEGER NOT NULL REFERENCES sample_images(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('box', 'point')),
    coords TEXT NOT NULL,
    label TEXT NOT NULL,
    provenance TEXT NOT NULL CHECK (provenance IN ('model', 'human')),
    model TEXT,
    settings TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected')),
    attributes TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS annotations_by_image ON annotations(sample_image_id);
CREATE TABLE IF NOT EXISTS edits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sample_id INTEGER NOT NULL REFERENCES samples(id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    annotation_id INTEGER,
    before TEXT,
    after TEXT,
    undoes INTEGER REFERENCES edits(id)
);
CREATE INDEX IF NOT EXISTS edits_by_sample ON edits(sample_id, id);
"""

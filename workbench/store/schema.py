"""The SQLite schema of the dataset store (version 3) and the pragmas every connection gets.

WAL lets the UI read while an edit commits; ``synchronous=FULL`` makes a commit durable
before the call returns; ``busy_timeout`` waits for another writer instead of failing.
Older files are brought to this version by :mod:`workbench.store.migrations`.

Shape (see ``docs/store-and-export.md``)::

    datasets ── labels (name, colour)
       ├── items (one training sample: status, split, version)
       │     ├── item_images (ordered 1..N, user ID, content-hashed file in images)
       │     ├── annotations (per item image: box | point, label, provenance model | human, score)
       │     ├── proposals   (per item image, per model run; never edited; score and its signals)
       │     └── actions     (one row per user action: the item's state before and after)
       ├── runs (a model configuration: annotate or eval) ── run_items (text, warnings, error, stats)
       ├── evaluations (a grid over a frozen list of items) ── evaluation_cells (one run each, metrics)
       └── jobs (batches started from the app)

Version 3 added the item's split, the run's kind, each run item's stats (tokens, seconds), a score
and its signals on proposals (and on the model annotations taken from them), and evaluations.

>>> "CREATE TABLE items" in SCHEMA_V2, sorted(SCHEMA_STEPS) == list(range(2, SCHEMA_VERSION))
(True, True)
"""

from __future__ import annotations

__all__ = ["ITEM_STATUSES", "PRAGMAS", "RUN_KINDS", "SCHEMA_STEPS", "SCHEMA_V2", "SCHEMA_V3", "SCHEMA_VERSION", "SPLITS"]

SCHEMA_VERSION = 3

SPLITS: tuple[str, ...] = ("train", "val", "test")
"""An item's split, or '' for none."""
RUN_KINDS: tuple[str, ...] = ("annotate", "eval")

ITEM_STATUSES: tuple[str, ...] = ("new", "pre-annotated", "accepted", "rejected")

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
)

SCHEMA_V2 = """
CREATE TABLE datasets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}',
    UNIQUE (owner, name)
);
CREATE TABLE labels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    color TEXT NOT NULL,
    UNIQUE (dataset_id, name)
);
CREATE TABLE images (
    sha256 TEXT PRIMARY KEY,
    file TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    format TEXT NOT NULL
);
CREATE TABLE items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    prompt TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'pre-annotated', 'accepted', 'rejected')),
    version INTEGER NOT NULL DEFAULT 1,
    error TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL DEFAULT ''
);
CREATE INDEX items_by_dataset ON items(dataset_id, position);
CREATE INDEX items_by_status ON items(dataset_id, status, position);
CREATE TABLE item_images (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    image_id TEXT NOT NULL,
    sha256 TEXT NOT NULL REFERENCES images(sha256),
    original_name TEXT NOT NULL,
    UNIQUE (item_id, position),
    UNIQUE (item_id, image_id)
);
CREATE INDEX item_images_by_sha ON item_images(sha256);
CREATE TABLE annotations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    item_image_id INTEGER NOT NULL REFERENCES item_images(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('box', 'point')),
    coords TEXT NOT NULL,
    label TEXT NOT NULL,
    provenance TEXT NOT NULL CHECK (provenance IN ('model', 'human')),
    model TEXT,
    settings TEXT NOT NULL DEFAULT '{}',
    attributes TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX annotations_by_image ON annotations(item_image_id);
CREATE INDEX annotations_by_label ON annotations(label);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    created_at TEXT NOT NULL,
    model TEXT NOT NULL,
    family TEXT NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}',
    UNIQUE (dataset_id, key)
);
CREATE TABLE run_items (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    text TEXT NOT NULL DEFAULT '',
    warnings TEXT NOT NULL DEFAULT '[]',
    error TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, item_id)
);
CREATE INDEX run_items_by_item ON run_items(item_id);
CREATE TABLE proposals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    item_image_id INTEGER NOT NULL REFERENCES item_images(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('box', 'point')),
    coords TEXT NOT NULL,
    label TEXT NOT NULL,
    attributes TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX proposals_by_image ON proposals(item_image_id, run_id);
CREATE TABLE actions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    before TEXT NOT NULL,
    after TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'done' CHECK (state IN ('done', 'undone', 'dropped'))
);
CREATE INDEX actions_by_item ON actions(item_id, id);
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}',
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'cancelled', 'failed', 'interrupted')),
    total INTEGER NOT NULL DEFAULT 0,
    done INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    message TEXT NOT NULL DEFAULT '',
    cancel INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""
"""The tables of version 2, as it shipped: a new file starts from them and takes every later step."""

SCHEMA_V3 = """
ALTER TABLE items ADD COLUMN split TEXT NOT NULL DEFAULT '' CHECK (split IN ('', 'train', 'val', 'test'));
ALTER TABLE annotations ADD COLUMN score REAL;
ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'annotate' CHECK (kind IN ('annotate', 'eval'));
ALTER TABLE run_items ADD COLUMN stats TEXT NOT NULL DEFAULT '{}';
ALTER TABLE proposals ADD COLUMN score REAL;
ALTER TABLE proposals ADD COLUMN signals TEXT NOT NULL DEFAULT '{}';
CREATE INDEX items_by_split ON items(dataset_id, split, position);
CREATE TABLE evaluations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    split TEXT NOT NULL DEFAULT '',
    settings TEXT NOT NULL DEFAULT '{}',
    items TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE evaluation_cells (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    evaluation_id INTEGER NOT NULL REFERENCES evaluations(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
    settings TEXT NOT NULL DEFAULT '{}',
    state TEXT NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled', 'interrupted')),
    metrics TEXT NOT NULL DEFAULT '{}',
    error TEXT NOT NULL DEFAULT '',
    UNIQUE (evaluation_id, position)
);
"""
"""Version 3: the item's split, scores and their signals, the run's kind and its items' stats, evaluations."""

SCHEMA_STEPS: dict[int, str] = {2: SCHEMA_V3}
"""``SCHEMA_STEPS[n]`` brings a version-``n`` schema to ``n + 1`` by adding only (no data to move)."""

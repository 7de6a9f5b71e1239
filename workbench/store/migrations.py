"""Versioned schema migrations: a store written by any earlier workbench opens with its data kept.

``PRAGMA user_version`` records the schema version. A new file gets version 2's tables and every
later step in one transaction (so a new file and an upgraded one are the same schema); an older one is first copied beside itself (``workbench.sqlite3.v1.bak``) with SQLite's online
backup, then brought forward one version at a time, each step in one transaction.

Version 1 (the first release) kept *samples* whose annotations each had a review status
(pending / accepted / rejected) and a per-annotation edit log. Version 2 keeps *items* with one
status each. The step maps: every sample becomes an item with its images and prompt; its status is
``accepted`` when it had annotations and all were accepted, ``pre-annotated`` when a model
annotation was still pending, else ``new``; rejected annotations become proposals of a
"rejected in version 1" run (kept, out of the training data); the old edit log stays readable in
``legacy_edits`` (it cannot be undone: it described single annotations, not user actions).
Versions after 2 only add columns and tables (:data:`~workbench.store.schema.SCHEMA_STEPS`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from workbench.errors import StoreError
from workbench.store.palette import next_color
from workbench.store.schema import SCHEMA_STEPS, SCHEMA_V2, SCHEMA_VERSION

__all__ = ["migrate"]


def _statements(script: str) -> list[str]:
    return [s for s in script.split(";") if s.strip()]


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _v1_to_v2(conn: sqlite3.Connection) -> None:
    for old in ("datasets", "samples", "sample_images", "annotations", "edits"):
        conn.execute(f"ALTER TABLE {old} RENAME TO v1_{old}")
    for index in [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")]:
        conn.execute(f"DROP INDEX {index}")
    images = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'images'").fetchone()
    for statement in _statements(SCHEMA_V2):
        if images and statement.strip().startswith("CREATE TABLE images"):
            continue  # the content-hashed image table is unchanged
        conn.execute(statement)
    conn.execute("INSERT INTO datasets (id, owner, name, created_at) SELECT id, '', name, created_at FROM v1_datasets")
    conn.execute(
        "INSERT INTO items (id, dataset_id, position, prompt, status, version, created_at, updated_at) "
        "SELECT s.id, s.dataset_id, s.position, s.prompt, "
        "  CASE WHEN NOT EXISTS (SELECT 1 FROM v1_annotations a JOIN v1_sample_images si ON si.id = a.sample_image_id "
        "                        WHERE si.sample_id = s.id AND a.status != 'rejected') THEN 'new' "
        "       WHEN NOT EXISTS (SELECT 1 FROM v1_annotations a JOIN v1_sample_images si ON si.id = a.sample_image_id "
        "                        WHERE si.sample_id = s.id AND a.status = 'pending') THEN 'accepted' "
        "       WHEN EXISTS (SELECT 1 FROM v1_annotations a JOIN v1_sample_images si ON si.id = a.sample_image_id "
        "                    WHERE si.sample_id = s.id AND a.status = 'pending' AND a.provenance = 'model') "
        "            THEN 'pre-annotated' ELSE 'new' END, "
        "  1, d.created_at, d.created_at FROM v1_samples s JOIN v1_datasets d ON d.id = s.dataset_id")
    conn.execute("INSERT INTO item_images (id, item_id, position, image_id, sha256, original_name) "
                 "SELECT id, sample_id, position, image_id, sha256, original_name FROM v1_sample_images")
    conn.execute("INSERT INTO annotations (id, item_image_id, kind, coords, label, provenance, model, settings, "
                 "attributes) SELECT id, sample_image_id, kind, coords, label, provenance, model, settings, attributes "
                 "FROM v1_annotations WHERE status != 'rejected'")
    rejected = conn.execute("SELECT DISTINCT s.dataset_id FROM v1_annotations a "
                            "JOIN v1_sample_images si ON si.id = a.sample_image_id "
                            "JOIN v1_samples s ON s.id = si.sample_id WHERE a.status = 'rejected'").fetchall()
    for (dataset_id,) in rejected:
        run_id = conn.execute("INSERT INTO runs (dataset_id, key, created_at, model, family) "
                              "VALUES (?, 'v1-rejected', datetime('now'), 'rejected in version 1', '')",
                              (dataset_id,)).lastrowid
        conn.execute("INSERT INTO proposals (run_id, item_image_id, kind, coords, label, attributes) "
                     "SELECT ?, a.sample_image_id, a.kind, a.coords, a.label, a.attributes FROM v1_annotations a "
                     "JOIN v1_sample_images si ON si.id = a.sample_image_id JOIN v1_samples s ON s.id = si.sample_id "
                     "WHERE a.status = 'rejected' AND s.dataset_id = ?", (run_id, dataset_id))
        conn.execute("INSERT INTO run_items (run_id, item_id, at) SELECT DISTINCT ?, si.sample_id, datetime('now') "
                     "FROM v1_annotations a JOIN v1_sample_images si ON si.id = a.sample_image_id "
                     "JOIN v1_samples s ON s.id = si.sample_id WHERE a.status = 'rejected' AND s.dataset_id = ?",
                     (run_id, dataset_id))
    # the label set: every label in use, coloured in first-seen order
    for dataset_id, label in conn.execute(
            "SELECT s.dataset_id, a.label FROM v1_annotations a JOIN v1_sample_images si ON si.id = a.sample_image_id "
            "JOIN v1_samples s ON s.id = si.sample_id GROUP BY s.dataset_id, a.label ORDER BY MIN(a.id)").fetchall():
        count = conn.execute("SELECT COUNT(*) FROM labels WHERE dataset_id = ?", (dataset_id,)).fetchone()[0]
        conn.execute("INSERT INTO labels (dataset_id, name, color) VALUES (?,?,?)",
                     (dataset_id, label, next_color(count)))
    conn.execute("CREATE TABLE legacy_edits AS SELECT * FROM v1_edits")
    for old in ("edits", "annotations", "sample_images", "samples", "datasets"):
        conn.execute(f"DROP TABLE v1_{old}")


def _adding(version: int) -> Callable[[sqlite3.Connection], None]:
    def step(conn: sqlite3.Connection) -> None:
        for statement in _statements(SCHEMA_STEPS[version]):
            conn.execute(statement)

    step.__doc__ = f"Version {version} to {version + 1}: columns and tables added (schema.SCHEMA_STEPS[{version}])."
    return step


MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _v1_to_v2, **{v: _adding(v) for v in SCHEMA_STEPS}}
"""``MIGRATIONS[n]`` brings a version-``n`` file to version ``n + 1``."""


def migrate(conn: sqlite3.Connection, db_path: Path) -> int:
    """Create or upgrade the schema on ``conn`` (autocommit mode); returns the version found."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StoreError(f"{db_path} was written by a newer workbench (schema {version}); upgrade the workbench")
    tables = _tables(conn)
    if version == 0 and "samples" in tables:
        version = 1  # the first release did not always stamp its version
    if version == 0 and not tables:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(SCHEMA_V2):
                conn.execute(statement)
            for step in range(2, SCHEMA_VERSION):
                MIGRATIONS[step](conn)
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return 0
    if version == SCHEMA_VERSION:
        return version
    backup = db_path.with_name(f"{db_path.name}.v{version}.bak")
    if not backup.exists():
        with sqlite3.connect(backup) as copy:
            conn.backup(copy)
        copy.close()
    conn.execute("PRAGMA foreign_keys=OFF")  # tables are rebuilt; keys are checked once at the end
    try:
        for step in range(version, SCHEMA_VERSION):
            conn.execute("BEGIN IMMEDIATE")
            try:
                MIGRATIONS[step](conn)
                problems = conn.execute("PRAGMA foreign_key_check").fetchall()
                if problems:
                    raise StoreError(f"{db_path}: upgrade to schema {step + 1} broke references ({problems[:3]})")
                conn.execute(f"PRAGMA user_version={step + 1}")
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
    finally:
        conn.execute("PRAGMA foreign_keys=ON")
    return version

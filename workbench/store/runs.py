"""Model runs and what they proposed: a run is one configuration (model, family, settings) on a dataset;
per item it stores the answer's text and warnings (or the failure) and, per image, its proposals — kept
apart from the annotations a person owns until they are applied.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from workbench.errors import StoreError
from workbench.store import items, labels
from workbench.store.actions import action
from workbench.store.bounds import check_annotation_count
from workbench.store.db import Database
from workbench.store.records import AnnotationDraft, ItemStatus, Proposal, Run
from workbench.store.rows import ANNOTATION_COLUMNS, annotation_from_row, dumps, insert_annotation
from workbench.store.schema import RUN_KINDS

__all__ = ["APPLY_MODES", "apply", "done", "done_with", "get", "proposals", "record", "record_failure", "text",
           "upsert"]

APPLY_MODES = ("auto", "always", "never")
_RUN_COLUMNS = "id, dataset_id, key, created_at, model, family, settings, kind"


def _run(row: Sequence[Any]) -> Run:
    return Run(row[0], row[1], row[2], row[3], row[4], row[5], json.loads(row[6]), row[7])


def upsert(db: Database, dataset_id: int, *, model: str, family: str, settings: Mapping[str, Any],
           kind: str = "annotate") -> Run:
    """The run record for these settings (created on first use): the same settings are the same run.

    ``kind`` is ``annotate`` (answers may become annotations) or ``eval`` (measured, never applied); an
    eval run and an annotate run with the same settings are two runs.
    """
    if kind not in RUN_KINDS:
        raise StoreError(f"a run's kind is one of {', '.join(RUN_KINDS)}; got {kind!r}")
    key = dumps({"model": model, "family": family, **dict(settings), **({"kind": kind} if kind != "annotate" else {})})
    with db.write() as conn:
        conn.execute("INSERT OR IGNORE INTO runs (dataset_id, key, created_at, model, family, settings, kind) "
                     "VALUES (?,?,?,?,?,?,?)", (dataset_id, key, db.clock(), model, family, dumps(dict(settings)),
                                                kind))
        row = conn.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE dataset_id = ? AND key = ?",
                           (dataset_id, key)).fetchone()
    return _run(row)


def get(db: Database, run_id: int) -> Run:
    rows = db.read(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,))
    if not rows:
        raise StoreError(f"no run {run_id}")
    return _run(rows[0])


def done(db: Database, run_id: int, item_id: int) -> bool:
    """Whether this run already stored a result (not a failure) for the item (a resumed batch skips it)."""
    return bool(db.read("SELECT 1 FROM run_items WHERE run_id = ? AND item_id = ? AND error = ''", (run_id, item_id)))


def done_with(db: Database, item_id: int, key: str, value: Any) -> bool:
    """Whether a run whose settings hold ``key: value`` stored a result (not a failure) for the item.

    A batch resumes with this: an item already annotated with the same settings is skipped.
    """
    return bool(db.read(
        "SELECT 1 FROM run_items ri JOIN runs r ON r.id = ri.run_id WHERE ri.item_id = ? AND ri.error = '' "
        f"AND json_extract(r.settings, '$.{key}') = ? LIMIT 1", (item_id, value)))


def record_failure(db: Database, run_id: int | None, item_id: int, error: str) -> None:
    """A run could not annotate the item: say so on the item (a later run retries it)."""
    with db.write() as conn:
        if run_id is not None:
            conn.execute("INSERT OR REPLACE INTO run_items (run_id, item_id, at, error) VALUES (?,?,?,?)",
                         (run_id, item_id, db.clock(), error or "failed"))
        if conn.execute("UPDATE items SET error = ? WHERE id = ?", (error or "failed", item_id)).rowcount == 0:
            raise StoreError(f"no item {item_id}")


def record(db: Database, images_root: Path, run_id: int, item_id: int,
           per_image: Sequence[Sequence[AnnotationDraft]], *, text: str = "", warnings: Sequence[str] = (),
           apply: str = "auto", expected_version: int | None = None,
           signals: Sequence[Sequence[Mapping[str, Any]]] | None = None) -> bool:
    """Store what a run proposed for each image of the item; whether the proposals became its annotations.

    ``apply``: ``auto`` makes the proposals the item's annotations when no person has worked
    on it yet (status new or pre-annotated, no human annotation), and otherwise keeps the
    human version and only stores the proposals for the person to look at; ``always`` and
    ``never`` force either. One transaction; when applied, one history entry ("model run").
    """
    if apply not in APPLY_MODES:
        raise StoreError(f"apply must be auto, always or never, got {apply!r}")
    run = get(db, run_id)
    if run.kind != "annotate":
        raise StoreError(f"run {run_id} is an evaluation run: its answers are measured, never put on items")
    applied = False
    with action(db, images_root, item_id, "model run", expected_version) as (conn, summary):
        images = [r[0] for r in conn.execute("SELECT id FROM item_images WHERE item_id = ? ORDER BY position",
                                             (item_id,))]
        if len(per_image) != len(images):
            raise StoreError(f"item {item_id} has {len(images)} images, the run answered for {len(per_image)}")
        check_annotation_count(per_image)
        conn.execute("DELETE FROM proposals WHERE run_id = ? AND item_image_id IN "
                     "(SELECT id FROM item_images WHERE item_id = ?)", (run_id, item_id))
        for n, (image_id, drafts) in enumerate(zip(images, per_image)):
            found = list(signals[n]) if signals is not None and n < len(signals) else []
            for k, d in enumerate(drafts):
                conn.execute("INSERT INTO proposals (run_id, item_image_id, kind, coords, label, attributes, score, "
                             "signals) VALUES (?,?,?,?,?,?,?,?)",
                             (run_id, image_id, d.kind, json.dumps(list(d.coords)), d.label, dumps(dict(d.attributes)),
                              d.score, dumps(dict(found[k])) if k < len(found) else "{}"))
        conn.execute("INSERT OR REPLACE INTO run_items (run_id, item_id, at, text, warnings, error) "
                     "VALUES (?,?,?,?,?, '')", (run_id, item_id, db.clock(), text, dumps(list(warnings))))
        status = conn.execute("SELECT status FROM items WHERE id = ?", (item_id,)).fetchone()[0]
        human = conn.execute("SELECT 1 FROM annotations a JOIN item_images ii ON ii.id = a.item_image_id "
                             "WHERE ii.item_id = ? AND a.provenance = 'human' LIMIT 1", (item_id,)).fetchone()
        untouched = status in (ItemStatus.NEW, ItemStatus.PRE_ANNOTATED) and not human
        applied = apply == "always" or (apply == "auto" and untouched)
        count = sum(len(d) for d in per_image)
        if applied:
            conn.execute("DELETE FROM annotations WHERE item_image_id IN "
                         "(SELECT id FROM item_images WHERE item_id = ?)", (item_id,))
            provenance = {"family": run.family, **run.settings, "run": run_id}
            for image_id, drafts in zip(images, per_image):
                for d in drafts:
                    insert_annotation(conn, image_id, AnnotationDraft(
                        d.kind, d.coords, d.label, "model", run.model, provenance, d.attributes, d.score))
            if status == ItemStatus.NEW:
                conn.execute("UPDATE items SET status = ? WHERE id = ?", (ItemStatus.PRE_ANNOTATED.value, item_id))
            labels.ensure(conn, items.dataset_of(conn, item_id), [d.label for ds in per_image for d in ds])
            summary.append(f"{run.model}: {count} annotation(s)")
        conn.execute("UPDATE items SET error = '' WHERE id = ?", (item_id,))
        if not applied:  # new proposals beside an unchanged item: still news for a window showing it
            conn.execute("UPDATE items SET version = version + 1, updated_at = ? WHERE id = ?", (db.clock(), item_id))
    return applied


def apply(db: Database, images_root: Path, item_id: int, run_id: int, *, mode: str = "replace",
          expected_version: int | None = None) -> None:
    """Take a run's proposals into the item: ``replace`` its annotations with them, or ``add`` those it lacks.

    One action (undoable); the proposals become model annotations with the run's provenance.
    """
    if mode not in ("replace", "add"):
        raise StoreError(f"mode must be 'replace' or 'add', got {mode!r}")
    run, found = proposals(db, item_id, run_id)
    assert run is not None  # a run id was given
    with action(db, images_root, item_id, f"model boxes ({mode})", expected_version) as (conn, summary):
        images = [r[0] for r in conn.execute("SELECT id FROM item_images WHERE item_id = ? ORDER BY position",
                                             (item_id,))]
        added = 0
        for image_id, per_image in zip(images, found):
            stored = [annotation_from_row(r) for r in conn.execute(
                f"SELECT {ANNOTATION_COLUMNS} FROM annotations WHERE item_image_id = ?", (image_id,))]
            if mode == "replace":
                conn.execute("DELETE FROM annotations WHERE item_image_id = ?", (image_id,))
                stored = []
            for p in per_image:
                draft = AnnotationDraft(p.kind, p.coords, p.label, "model", run.model,
                                        {"family": run.family, **dict(run.settings), "run": run.id}, p.attributes,
                                        p.score)
                if any(a.same_place(draft) for a in stored):
                    continue
                insert_annotation(conn, image_id, draft)
                added += 1
        labels.ensure(conn, items.dataset_of(conn, item_id), [p.label for ps in found for p in ps])
        summary.append(f"{run.model}: {added} annotation(s) {'now' if mode == 'replace' else 'added'}")


def proposals(db: Database, item_id: int, run_id: int | None = None) -> tuple[Run | None, list[list[Proposal]]]:
    """The proposals of the item's latest annotate run (or of ``run_id``, of any kind), per image in order."""
    images = db.read("SELECT id FROM item_images WHERE item_id = ? ORDER BY position", (item_id,))
    if run_id is None:
        rows = db.read("SELECT ri.run_id FROM run_items ri JOIN runs r ON r.id = ri.run_id WHERE ri.item_id = ? "
                       "AND ri.error = '' AND r.kind = 'annotate' ORDER BY ri.at DESC LIMIT 1", (item_id,))
        if not rows:
            if not db.read("SELECT 1 FROM items WHERE id = ?", (item_id,)):
                raise StoreError(f"no item {item_id}")
            return None, [[] for _ in images]
        run_id = int(rows[0][0])
    run = get(db, run_id)
    out: list[list[Proposal]] = []
    for (image_id,) in images:
        rows = db.read("SELECT kind, coords, label, attributes, score, signals FROM proposals WHERE run_id = ? AND "
                       "item_image_id = ? ORDER BY id", (run_id, image_id))
        out.append([Proposal(run_id, image_id, kind, tuple(json.loads(c)), label, json.loads(attrs), score,
                             json.loads(signals)) for kind, c, label, attrs, score, signals in rows])
    return run, out


def text(db: Database, run_id: int, item_id: int) -> tuple[str, list[str], str]:
    """(model text, warnings, error) a run stored for the item."""
    rows = db.read("SELECT text, warnings, error FROM run_items WHERE run_id = ? AND item_id = ?", (run_id, item_id))
    if not rows:
        raise StoreError(f"run {run_id} has no result for item {item_id}")
    return rows[0][0], json.loads(rows[0][1]), rows[0][2]

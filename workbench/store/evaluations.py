"""Evaluations: a grid of model setups measured on a frozen list of items, one eval run per cell.

An evaluation row keeps the split and grid it was asked for and the ids of the items it measures,
fixed when it was created; each cell keeps its run, its state and, once measured, its metrics.
An eval run's answers are stored as that run's proposals and run items (with their stats) — never
as annotations, never changing an item's status or version: measuring touches nothing a person owns.

>>> import tempfile, pathlib
>>> from workbench.store.db import Database
>>> db = Database(pathlib.Path(tempfile.mkdtemp()) / "db.sqlite3")
>>> with db.write() as conn:
...     dataset = conn.execute("INSERT INTO datasets (owner, name, created_at) VALUES ('', 'pets', '')").lastrowid
>>> found = get(db, create(db, dataset, "val", {"models": ["m"]}, [3, 1, 2], [{"model": "m"}]))
>>> found.items, found.split, [c.state for c in found.cells], found.state
((3, 1, 2), 'val', ['queued'], 'queued')
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from workbench.errors import StoreError
from workbench.store.bounds import check_annotation_count
from workbench.store.db import Database
from workbench.store.records import AnnotationDraft, Evaluation, EvaluationCell, Proposal, RunAnswer
from workbench.store.rows import dumps
from workbench.store.runs import get as get_run

__all__ = ["CELL_STATES", "answers", "cell", "create", "get", "interrupt_running", "latest", "record_answer",
           "record_error", "unfinished", "update_cell"]

CELL_STATES = ("queued", "running", "done", "failed", "cancelled", "interrupted")
_CELL_COLUMNS = "id, evaluation_id, position, run_id, settings, state, metrics, error"


def _cell(row: Sequence[Any]) -> EvaluationCell:
    id_, evaluation_id, position, run_id, settings, state, metrics, error = row
    return EvaluationCell(id_, evaluation_id, position, run_id, json.loads(settings), state, json.loads(metrics),
                          error)


def create(db: Database, dataset_id: int, split: str, settings: Mapping[str, Any], item_ids: Sequence[int],
           cells: Sequence[Mapping[str, Any]]) -> int:
    """A new evaluation of ``item_ids`` (kept as given) with one queued cell per setup; one transaction."""
    if not item_ids:
        raise StoreError("an evaluation needs at least one item")
    if not cells:
        raise StoreError("an evaluation needs at least one setup")
    with db.write() as conn:
        evaluation_id = int(conn.execute(
            "INSERT INTO evaluations (dataset_id, created_at, split, settings, items) VALUES (?,?,?,?,?)",
            (dataset_id, db.clock(), split, dumps(dict(settings)), json.dumps([int(i) for i in item_ids]))
        ).lastrowid or 0)
        conn.executemany("INSERT INTO evaluation_cells (evaluation_id, position, settings) VALUES (?,?,?)",
                         [(evaluation_id, n, dumps(dict(c))) for n, c in enumerate(cells, start=1)])
    return evaluation_id


def get(db: Database, evaluation_id: int) -> Evaluation:
    rows = db.read("SELECT id, dataset_id, created_at, split, settings, items FROM evaluations WHERE id = ?",
                   (evaluation_id,))
    if not rows:
        raise StoreError(f"no evaluation {evaluation_id}")
    id_, dataset_id, created_at, split, settings, items = rows[0]
    cells = tuple(_cell(r) for r in db.read(f"SELECT {_CELL_COLUMNS} FROM evaluation_cells WHERE evaluation_id = ? "
                                            "ORDER BY position", (id_,)))
    return Evaluation(id_, dataset_id, created_at, split, json.loads(settings), tuple(json.loads(items)), cells)


def latest(db: Database, dataset_id: int, *, limit: int = 10) -> list[Evaluation]:
    """The dataset's latest evaluations, newest first."""
    ids = db.read("SELECT id FROM evaluations WHERE dataset_id = ? ORDER BY id DESC LIMIT ?", (dataset_id, limit))
    return [get(db, row[0]) for row in ids]


def unfinished(db: Database, dataset_id: int, split: str, settings: Mapping[str, Any]) -> Evaluation | None:
    """The latest evaluation of the same split and grid with a cell not done yet (to resume), if any."""
    rows = db.read("SELECT e.id FROM evaluations e WHERE e.dataset_id = ? AND e.split = ? AND e.settings = ? "
                   "AND EXISTS (SELECT 1 FROM evaluation_cells c WHERE c.evaluation_id = e.id AND c.state != 'done') "
                   "ORDER BY e.id DESC LIMIT 1", (dataset_id, split, dumps(dict(settings))))
    return get(db, rows[0][0]) if rows else None


def cell(db: Database, cell_id: int) -> EvaluationCell:
    rows = db.read(f"SELECT {_CELL_COLUMNS} FROM evaluation_cells WHERE id = ?", (cell_id,))
    if not rows:
        raise StoreError(f"no evaluation cell {cell_id}")
    return _cell(rows[0])


def update_cell(db: Database, cell_id: int, *, state: str | None = None, run_id: int | None = None,
                metrics: Mapping[str, Any] | None = None, error: str | None = None) -> None:
    if state is not None and state not in CELL_STATES:
        raise StoreError(f"a cell's state is one of {', '.join(CELL_STATES)}; got {state!r}")
    fields = {"state": state, "run_id": run_id, "metrics": None if metrics is None else dumps(dict(metrics)),
              "error": error}
    changes = {k: v for k, v in fields.items() if v is not None}
    if not changes:
        return
    with db.write() as conn:
        conn.execute(f"UPDATE evaluation_cells SET {', '.join(f'{k} = ?' for k in changes)} WHERE id = ?",
                     (*changes.values(), cell_id))


def interrupt_running(db: Database) -> int:
    """Cells left running by a process that is gone are interrupted (running the evaluation again resumes them)."""
    with db.write() as conn:
        return int(conn.execute("UPDATE evaluation_cells SET state = 'interrupted' WHERE state = 'running'").rowcount)


def _eval_run(db: Database, run_id: int) -> None:
    if get_run(db, run_id).kind != "eval":
        raise StoreError(f"run {run_id} is not an evaluation run")


def record_answer(db: Database, run_id: int, item_id: int, per_image: Sequence[Sequence[AnnotationDraft]], *,
                  text: str = "", warnings: Sequence[str] = (), stats: Mapping[str, Any] | None = None) -> None:
    """Store an eval run's answer for one item (its proposals per image, text, warnings, stats) in one
    transaction; the item itself — annotations, status, version, history — is not touched."""
    _eval_run(db, run_id)
    with db.write() as conn:
        images = [r[0] for r in conn.execute("SELECT id FROM item_images WHERE item_id = ? ORDER BY position",
                                             (item_id,))]
        if not images:
            raise StoreError(f"no item {item_id}")
        if len(per_image) != len(images):
            raise StoreError(f"item {item_id} has {len(images)} images, the run answered for {len(per_image)}")
        check_annotation_count(per_image)
        marks = ",".join("?" * len(images))
        conn.execute(f"DELETE FROM proposals WHERE run_id = ? AND item_image_id IN ({marks})", (run_id, *images))
        conn.executemany(
            "INSERT INTO proposals (run_id, item_image_id, kind, coords, label, attributes, score) VALUES (?,?,?,?,?,?,?)",
            [(run_id, image_id, d.kind, json.dumps(list(d.coords)), d.label, dumps(dict(d.attributes)), d.score)
             for image_id, drafts in zip(images, per_image) for d in drafts])
        conn.execute("INSERT OR REPLACE INTO run_items (run_id, item_id, at, text, warnings, error, stats) "
                     "VALUES (?,?,?,?,?, '', ?)", (run_id, item_id, db.clock(), text, dumps(list(warnings)),
                                                  dumps(dict(stats or {}))))


def record_error(db: Database, run_id: int, item_id: int, error: str, stats: Mapping[str, Any] | None = None) -> None:
    """An eval run got no answer for the item: say why on the run (the item is not touched; a resumed run retries)."""
    _eval_run(db, run_id)
    with db.write() as conn:
        conn.execute("INSERT OR REPLACE INTO run_items (run_id, item_id, at, error, stats) VALUES (?,?,?,?,?)",
                     (run_id, item_id, db.clock(), error or "failed", dumps(dict(stats or {}))))


def answers(db: Database, run_id: int, item_ids: Sequence[int] | None = None) -> dict[int, RunAnswer]:
    """What the run stored per item (all its items, or those of ``item_ids``), read in three queries."""
    wanted = None if item_ids is None else {int(i) for i in item_ids}
    rows = db.read("SELECT item_id, text, warnings, error, stats FROM run_items WHERE run_id = ?", (run_id,))
    images: dict[int, int] = dict(db.read(
        "SELECT ii.item_id, COUNT(*) FROM item_images ii JOIN run_items ri ON ri.item_id = ii.item_id "
        "WHERE ri.run_id = ? GROUP BY ii.item_id", (run_id,)))
    found: dict[int, list[list[Proposal]]] = {}
    for item_id, position, image_row, kind, coords, label, attributes, score, signals in db.read(
            "SELECT ii.item_id, ii.position, p.item_image_id, p.kind, p.coords, p.label, p.attributes, p.score, "
            "p.signals FROM proposals p JOIN item_images ii ON ii.id = p.item_image_id WHERE p.run_id = ? "
            "ORDER BY p.id", (run_id,)):
        per_image = found.setdefault(item_id, [[] for _ in range(images.get(item_id, position))])
        while len(per_image) < position:
            per_image.append([])
        per_image[position - 1].append(Proposal(run_id, image_row, kind, tuple(json.loads(coords)), label,
                                                json.loads(attributes), score, json.loads(signals)))
    out = {}
    for item_id, text, warnings, error, stats in rows:
        if wanted is not None and item_id not in wanted:
            continue
        per_image = found.get(item_id) or [[] for _ in range(images.get(item_id, 0))]
        out[item_id] = RunAnswer(item_id, text, tuple(json.loads(warnings)), error, json.loads(stats),
                                 tuple(tuple(p) for p in per_image))
    return out

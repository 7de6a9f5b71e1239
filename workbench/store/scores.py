"""Scores and their signals in the store: what reviews taught (per proposal, kept or not), rescoring a dataset
after a fit, the queue ordered by the weakest box, and accepting every item whose boxes are all above a threshold.

A proposal's ``signals`` (JSON) say what its score was made from; ``score`` is the probability that the
box survives review once the dataset is calibrated, else the raw signal mapped into 0-1 (the dataset's
settings say which: ``confidence``). A model annotation carries the score of the proposal it came from.
Scores are derived data: rescoring never writes history, and undo/redo ignore them when checking that
an item is as its action left it (:func:`workbench.store.history.comparable`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from grounding.box_match import iou_matrix
from workbench.errors import StoreError
from workbench.store.db import Database
from workbench.store.history import record_action, snapshot
from workbench.store.records import ItemStatus

__all__ = ["BULK_ACCEPT", "ORDERS", "accept_confident", "confident_items", "order_sql", "rescore", "reviewed_boxes",
           "weakest"]

BULK_ACCEPT = "accepted above threshold"
"""The history name of an accept made by the threshold, not by a person: such items teach calibration nothing."""

ORDERS: dict[str, str] = {
    "confidence": "weakest box first",
    "edits": "most expected edits first",
}
"""Queue orders besides the file order (``ItemFilter.order``)."""

_WEAKEST = ("(SELECT MIN(a.score) FROM item_images ii JOIN annotations a ON a.item_image_id = ii.id "
            "WHERE ii.item_id = i.id)")
_EDITS = ("(SELECT SUM(1 - a.score) FROM item_images ii JOIN annotations a ON a.item_image_id = ii.id "
          "WHERE ii.item_id = i.id)")


def order_sql(order: str | None) -> str:
    """The ``ORDER BY`` terms over ``items i`` for a queue order (None: file order); unscored items come last."""
    if not order:
        return "i.position"
    if order == "confidence":
        return f"{_WEAKEST} ASC NULLS LAST, i.position"
    if order == "edits":
        return f"{_EDITS} DESC NULLS LAST, i.position"
    raise StoreError(f"unknown queue order {order!r}; expected one of {', '.join(ORDERS)} (or none: file order)")


def weakest(db: Database, item_ids: Sequence[int]) -> dict[int, float]:
    """The lowest annotation score of each item (items without a scored annotation are left out)."""
    if not item_ids:
        return {}
    marks = ",".join("?" * len(item_ids))
    rows = db.read("SELECT ii.item_id, MIN(a.score) FROM item_images ii JOIN annotations a ON a.item_image_id = ii.id "
                   f"WHERE ii.item_id IN ({marks}) AND a.score IS NOT NULL GROUP BY ii.item_id", list(item_ids))
    return {int(item): float(score) for item, score in rows}


def _reviewed_items(db: Database, dataset_id: int) -> set[int]:
    """Accepted items whose latest accept was a person's (not the threshold's)."""
    rows = db.read(
        "SELECT i.id, (SELECT a.action FROM actions a WHERE a.item_id = i.id AND a.state = 'done' AND a.action IN "
        "(?, ?) ORDER BY a.id DESC LIMIT 1) FROM items i WHERE i.dataset_id = ? AND i.status = ?",
        (ItemStatus.ACCEPTED.value, BULK_ACCEPT, dataset_id, ItemStatus.ACCEPTED.value))
    return {int(item) for item, how in rows if how != BULK_ACCEPT}


def reviewed_boxes(db: Database, dataset_id: int, survival_iou: float = 0.9) -> list[tuple[int, dict[str, Any], bool]]:
    """``(item id, signals, survived)`` for each box a model proposed on an item a person accepted.

    The proposals are those of the item's latest annotating run before it was accepted; a box
    survived when the accepted item holds a box of the same label on the same picture with IoU >=
    ``survival_iou``. Proposals without signals (runs older than the signals) are left out.
    """
    reviewed = _reviewed_items(db, dataset_id)
    if not reviewed:
        return []
    accepted_at = dict(db.read(
        "SELECT a.item_id, MAX(a.at) FROM actions a JOIN items i ON i.id = a.item_id WHERE i.dataset_id = ? AND "
        "a.action = ? AND a.state = 'done' GROUP BY a.item_id", (dataset_id, ItemStatus.ACCEPTED.value)))
    latest: dict[int, tuple[str, int]] = {}
    for item, run, at in db.read(
            "SELECT ri.item_id, ri.run_id, ri.at FROM run_items ri JOIN runs r ON r.id = ri.run_id JOIN items i "
            "ON i.id = ri.item_id WHERE i.dataset_id = ? AND ri.error = '' AND r.kind = 'annotate'", (dataset_id,)):
        if item not in reviewed or (item in accepted_at and at > accepted_at[item]):
            continue
        if item not in latest or (at, run) > latest[item]:
            latest[item] = (at, run)
    proposals: dict[tuple[int, int], list[tuple[tuple[float, ...], str, dict[str, Any]]]] = {}
    for item, run, image, coords, label, signals in db.read(
            "SELECT ii.item_id, p.run_id, p.item_image_id, p.coords, p.label, p.signals FROM proposals p "
            "JOIN item_images ii ON ii.id = p.item_image_id JOIN items i ON i.id = ii.item_id "
            "WHERE i.dataset_id = ? AND i.status = ? AND p.kind = 'box' AND p.signals != '{}' ORDER BY p.id",
            (dataset_id, ItemStatus.ACCEPTED.value)):
        if item in latest and latest[item][1] == run:
            proposals.setdefault((item, image), []).append((tuple(json.loads(coords)), label, json.loads(signals)))
    kept: dict[int, list[tuple[tuple[float, ...], str]]] = {}
    for image, coords, label in db.read(
            "SELECT a.item_image_id, a.coords, a.label FROM annotations a JOIN item_images ii ON ii.id = "
            "a.item_image_id JOIN items i ON i.id = ii.item_id WHERE i.dataset_id = ? AND i.status = ? AND "
            "a.kind = 'box'", (dataset_id, ItemStatus.ACCEPTED.value)):
        kept.setdefault(image, []).append((tuple(json.loads(coords)), label))
    out: list[tuple[int, dict[str, Any], bool]] = []
    for (item, image), boxes in proposals.items():
        final = kept.get(image, [])
        ious = iou_matrix([b[0] for b in boxes], [f[0] for f in final])
        for row, (_, label, signals) in enumerate(boxes):
            survived = any(final[col][1] == label and ious[row, col] >= survival_iou for col in range(len(final)))
            out.append((item, signals, survived))
    return out


def rescore(db: Database, dataset_id: int, score: Callable[[Mapping[str, Any]], float]) -> int:
    """Score every proposal of the dataset that has signals with ``score(signals)``, and give each model
    annotation the score of the proposal it came from; one transaction, no history. Returns proposals scored."""
    rows = db.read("SELECT p.id, p.signals FROM proposals p JOIN item_images ii ON ii.id = p.item_image_id "
                   "JOIN items i ON i.id = ii.item_id WHERE i.dataset_id = ? AND p.signals != '{}'", (dataset_id,))
    updates = [(score(json.loads(signals)), pid) for pid, signals in rows]
    source = ("SELECT p.score FROM proposals p WHERE p.item_image_id = annotations.item_image_id AND p.run_id = "
              "json_extract(annotations.settings, '$.run') AND p.kind = annotations.kind AND p.label = "
              "annotations.label AND p.coords = annotations.coords AND p.signals != '{}' ORDER BY p.id LIMIT 1")
    with db.write() as conn:
        conn.executemany("UPDATE proposals SET score = ? WHERE id = ?", updates)
        conn.execute(f"UPDATE annotations SET score = ({source}) WHERE provenance = 'model' AND item_image_id IN "
                     "(SELECT ii.id FROM item_images ii JOIN items i ON i.id = ii.item_id WHERE i.dataset_id = ?) "
                     f"AND EXISTS ({source})", (dataset_id,))
    return len(updates)


_CONFIDENT = (
    "SELECT i.id, COUNT(a.id), SUM(1 - a.score) FROM items i JOIN item_images ii ON ii.item_id = i.id "
    "JOIN annotations a ON a.item_image_id = ii.id WHERE i.dataset_id = ? AND i.status = ? GROUP BY i.id "
    "HAVING SUM(a.provenance = 'human') = 0 AND SUM(a.score IS NULL) = 0 AND MIN(a.score) >= ? ORDER BY i.position")


def confident_items(db: Database, dataset_id: int, threshold: float) -> list[tuple[int, int, float]]:
    """``(item id, boxes, expected wrong boxes)`` of each pre-annotated item whose every box is a model's with a
    score of at least ``threshold`` (expected wrong: the sum of 1 - score, meaningful once calibrated)."""
    return [(int(i), int(n), float(e)) for i, n, e in db.read(
        _CONFIDENT, (dataset_id, ItemStatus.PRE_ANNOTATED.value, float(threshold)))]


def accept_confident(db: Database, images_root: Path, dataset_id: int, threshold: float) -> list[int]:
    """Accept every item :func:`confident_items` lists, in one transaction with one history entry per item
    (each undoable on its own); the items it took, in queue order."""
    if not 0.0 <= threshold <= 1.0:
        raise StoreError(f"the threshold is a probability between 0 and 1, got {threshold}")
    taken: list[int] = []
    with db.write() as conn:
        rows = conn.execute(_CONFIDENT, (dataset_id, ItemStatus.PRE_ANNOTATED.value, float(threshold))).fetchall()
        for item_id, boxes, _ in rows:
            before = snapshot(conn, item_id)
            conn.execute("UPDATE items SET status = ?, error = '', version = version + 1, updated_at = ? WHERE id = ?",
                         (ItemStatus.ACCEPTED.value, db.clock(), item_id))
            record_action(conn, item_id, db.clock(), BULK_ACCEPT,
                          f"status accepted: its {boxes} box(es) all scored at least {threshold:g}", before,
                          snapshot(conn, item_id))
            taken.append(int(item_id))
    return taken

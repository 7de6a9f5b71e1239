"""The review queue: which items match a filter, one page of them with counts, neighbours and places.

Every query here is one SQL statement over the items of one dataset (a page of 48 out of 100,000
items reads 48 rows), so the queue stays fast however large the dataset grows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workbench.errors import StoreError
from workbench.store.db import Database
from workbench.store.records import ItemFilter, ItemRow, ItemStatus, QueuePage
from workbench.store.rules import check_status
from workbench.store.scores import order_sql
from workbench.store.splits import check_split

__all__ = ["filter_sql", "ids", "index_of", "neighbour", "page"]


def filter_sql(dataset_id: int, filter: ItemFilter) -> tuple[str, list[Any]]:
    """SQL over ``items i`` (and its parameters) for the items of the dataset that match ``filter``."""
    where: list[str] = ["i.dataset_id = ?"]
    params: list[Any] = [dataset_id]
    if filter.status:
        check_status(filter.status)
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
    if filter.split:
        where.append("i.split = ?")
        params.append(check_split(filter.split))
    if filter.name:
        where.append("EXISTS (SELECT 1 FROM item_images ii WHERE ii.item_id = i.id AND "
                     "ii.original_name LIKE ? ESCAPE '\\')")
        params.append("%" + filter.name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
    return " AND ".join(where), params


def ids(db: Database, dataset_id: int, filter: ItemFilter | None = None) -> list[int]:
    flt = filter or ItemFilter()
    where, params = filter_sql(dataset_id, flt)
    return [row[0] for row in db.read(f"SELECT i.id FROM items i WHERE {where} ORDER BY {order_sql(flt.order)}",
                                      params)]


def page(db: Database, images_root: Path, dataset_id: int, filter: ItemFilter | None = None, *, page: int = 1,
         page_size: int = 48) -> QueuePage:
    """One page of the items that match ``filter``, with files, status and annotation counts."""
    flt = filter or ItemFilter()
    where, params = filter_sql(dataset_id, flt)
    page_size = max(1, min(int(page_size), 500))
    with db.lock:
        total = db.conn.execute(f"SELECT COUNT(*) FROM items i WHERE {where}", params).fetchone()[0]
        pages = max(1, -(-total // page_size))
        page = min(max(1, int(page)), pages)
        rows = db.conn.execute(
            "SELECT i.id, i.position, i.status, i.error, i.split FROM items i "
            f"WHERE {where} ORDER BY {order_sql(flt.order)} LIMIT ? OFFSET ?",
            (*params, page_size, (page - 1) * page_size)
        ).fetchall()
        item_ids = [row[0] for row in rows]
        marks = ",".join("?" * len(item_ids))
        files: dict[int, list[tuple[str, str, str, int, int]]] = {}
        for item_id, name, sha, file, width, height in db.conn.execute(
                "SELECT ii.item_id, ii.original_name, ii.sha256, im.file, im.width, im.height FROM item_images ii "
                f"JOIN images im ON im.sha256 = ii.sha256 WHERE ii.item_id IN ({marks}) "
                "ORDER BY ii.item_id, ii.position", item_ids):
            files.setdefault(item_id, []).append((name, sha, file, width, height))
        counts: dict[int, tuple[list[int], dict[str, None]]] = {}
        for item_id, kind, label in db.conn.execute(
                "SELECT ii.item_id, a.kind, a.label FROM annotations a JOIN item_images ii ON ii.id = a.item_image_id "
                f"WHERE ii.item_id IN ({marks}) ORDER BY a.id", item_ids):
            numbers, seen = counts.setdefault(item_id, ([0, 0], {}))
            numbers[0 if kind == "box" else 1] += 1
            seen[label] = None
    out = []
    for id_, position, status, error, split in rows:
        (boxes, points), seen = counts.get(id_, ([0, 0], {}))
        names = files.get(id_, [])
        first = names[0] if names else None
        out.append(ItemRow(id_, position, ItemStatus(status), tuple(n[0] for n in names), tuple(n[1] for n in names),
                           boxes, points, tuple(seen), error, images_root / first[2] if first else None,
                           (first[3], first[4]) if first else (0, 0), split))
    return QueuePage(tuple(out), total, page, page_size)


def neighbour(db: Database, dataset_id: int, item_id: int | None, *, step: int = 1,
              filter: ItemFilter | None = None, unreviewed: bool = False) -> int | None:
    """The item after (``step`` 1) or before (-1) ``item_id`` in queue order, within ``filter``.

    ``unreviewed`` looks for the next item still ``new`` or ``pre-annotated`` (wrapping to the
    start), as "accept and open the next" does. None when there is none.
    """
    flt = filter or ItemFilter()
    where, params = filter_sql(dataset_id, flt)
    if unreviewed:
        where += " AND i.status IN ('new', 'pre-annotated')"
    if flt.order:
        return _neighbour_in_order(db, where, params, flt.order, item_id, step, unreviewed)
    position = None
    if item_id is not None:
        rows = db.read("SELECT position FROM items WHERE id = ?", (item_id,))
        position = rows[0][0] if rows else None
    if position is None:
        order = "ASC" if step > 0 else "DESC"
        rows = db.read(f"SELECT i.id FROM items i WHERE {where} ORDER BY i.position {order} LIMIT 1", params)
        return rows[0][0] if rows else None
    compare, order = (">", "ASC") if step > 0 else ("<", "DESC")
    rows = db.read(f"SELECT i.id FROM items i WHERE {where} AND i.position {compare} ? "
                   f"ORDER BY i.position {order} LIMIT 1", (*params, position))
    if rows:
        return rows[0][0]
    if unreviewed:  # wrap around: earlier items may still wait
        rows = db.read(f"SELECT i.id FROM items i WHERE {where} AND i.id != ? ORDER BY i.position {order} "
                       "LIMIT 1", (*params, item_id))
        return rows[0][0] if rows else None
    return None


def _neighbour_in_order(db: Database, where: str, params: list[Any], order: str, item_id: int | None, step: int,
                        wrap: bool) -> int | None:
    """:func:`neighbour` in a score order: the ordered ids, read whole (sorting by score reads every item anyway)."""
    ordered = [row[0] for row in db.read(f"SELECT i.id FROM items i WHERE {where} ORDER BY {order_sql(order)}", params)]
    if not ordered:
        return None
    if item_id is None or item_id not in ordered:  # from outside the order (just accepted, filtered out): its start
        return ordered[0] if step > 0 else ordered[-1]
    at = ordered.index(item_id) + (1 if step > 0 else -1)
    if 0 <= at < len(ordered):
        return ordered[at]
    if wrap and len(ordered) > 1:
        return ordered[0] if step > 0 else ordered[-1]
    return None


def index_of(db: Database, dataset_id: int, item_id: int, filter: ItemFilter | None = None) -> int | None:
    """1-based place of the item among those matching ``filter`` (None when it does not match)."""
    flt = filter or ItemFilter()
    if flt.order:
        ordered = ids(db, dataset_id, flt)
        return ordered.index(item_id) + 1 if item_id in ordered else None
    where, params = filter_sql(dataset_id, flt)
    rows = db.read(f"SELECT COUNT(*) FROM items i WHERE {where} AND i.position <= "
                   "(SELECT position FROM items WHERE id = ?)", (*params, item_id))
    matches = db.read(f"SELECT 1 FROM items i WHERE {where} AND i.id = ?", (*params, item_id))
    return rows[0][0] if matches else None

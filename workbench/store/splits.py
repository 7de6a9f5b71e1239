"""Splits: each item is in ``train``, ``val``, ``test`` or none, set by hand or from its images' content.

The content rule makes a split reproducible anywhere: an item's images' SHA-256 digests (sorted, so the
order of a multi-image item's pictures does not matter) are hashed once more, the first 64 bits read as
a number in [0, 1), and that number falls into the dataset's fractions taken in the order train, val,
test. The same images land in the same split on any machine, whatever else the dataset holds, and a
multi-image item moves whole. Fractions are kept per dataset (setting ``split_fractions``); they may sum
to less than 1, leaving the rest in no split.

>>> round(fraction_of(["ab" * 32]), 4)
0.1527
>>> content_split(["ab" * 32], {"train": 0.8, "val": 0.1, "test": 0.1}), content_split(["ab" * 32], {"val": 0.1})
('train', '')
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from workbench.errors import StoreError
from workbench.store.db import Database
from workbench.store.schema import SPLITS

__all__ = ["DEFAULT_FRACTIONS", "SETTINGS_KEY", "assign", "check_fractions", "check_split", "content_split",
           "counts", "fraction_of", "set_split"]

SETTINGS_KEY = "split_fractions"
DEFAULT_FRACTIONS: dict[str, float] = {"train": 0.8, "val": 0.1, "test": 0.1}
NONE = "none"
"""How a filter or a command names "in no split" ('' in the store)."""


def check_split(split: str | None) -> str:
    """A split as stored: ``train``, ``val``, ``test`` or '' (``none`` and None are '')."""
    value = (split or "").strip().lower()
    if value in ("", NONE):
        return ""
    if value not in SPLITS:
        raise StoreError(f"a split is one of {', '.join(SPLITS)} or {NONE}; got {split!r}")
    return value


def check_fractions(fractions: Mapping[str, Any]) -> dict[str, float]:
    """Fractions per split, each in [0, 1], together at most 1 (the rest stays in no split).

    >>> check_fractions({"train": 0.7, "val": "0.3"})
    {'train': 0.7, 'val': 0.3, 'test': 0.0}
    """
    unknown = set(fractions) - set(SPLITS)
    if unknown:
        raise StoreError(f"fractions are given for {', '.join(SPLITS)}; not for {', '.join(sorted(unknown))}")
    out: dict[str, float] = {}
    for split in SPLITS:
        try:
            value = float(fractions.get(split) or 0.0)
        except (TypeError, ValueError):
            raise StoreError(f"the {split} fraction must be a number, got {fractions.get(split)!r}") from None
        if not 0.0 <= value <= 1.0:
            raise StoreError(f"the {split} fraction must be between 0 and 1, got {value}")
        out[split] = value
    if sum(out.values()) > 1.0 + 1e-9:
        raise StoreError(f"the fractions add up to {sum(out.values()):g}; they may add up to 1 at most")
    return out


def fraction_of(sha256s: Sequence[str]) -> float:
    """Where an item's images fall in [0, 1): a hash of their sorted digests."""
    digest = hashlib.sha256("\n".join(sorted(sha256s)).encode("ascii")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def content_split(sha256s: Sequence[str], fractions: Mapping[str, float]) -> str:
    """The split of an item with these images under ``fractions`` ('' when it falls past their sum)."""
    point, edge = fraction_of(sha256s), 0.0
    for split in SPLITS:
        edge += float(fractions.get(split) or 0.0)
        if point < edge:
            return split
    return ""


def _item_digests(db: Database, dataset_id: int, only_unassigned: bool) -> dict[int, list[str]]:
    where = " AND i.split = ''" if only_unassigned else ""
    found: dict[int, list[str]] = {}
    for item_id, sha in db.read("SELECT ii.item_id, ii.sha256 FROM item_images ii JOIN items i ON i.id = ii.item_id "
                                f"WHERE i.dataset_id = ?{where}", (dataset_id,)):
        found.setdefault(item_id, []).append(sha)
    return found


def assign(db: Database, dataset_id: int, fractions: Mapping[str, float], *, overwrite: bool = False) -> dict[str, int]:
    """Give items their content split (only those in no split, or every item with ``overwrite``);
    one transaction; how many items each split received."""
    fractions = check_fractions(fractions)
    chosen: dict[str, list[int]] = {}
    for item_id, digests in _item_digests(db, dataset_id, not overwrite).items():
        chosen.setdefault(content_split(digests, fractions), []).append(item_id)
    with db.write() as conn:
        for split, ids in chosen.items():
            conn.executemany("UPDATE items SET split = ? WHERE id = ?", [(split, i) for i in ids])
    return {split: len(chosen.get(split, ())) for split in (*SPLITS, "")}


def set_split(db: Database, dataset_id: int, item_ids: Sequence[int], split: str) -> int:
    """Put the items (all of the dataset) into ``split`` by hand, in one transaction; how many changed."""
    value = check_split(split)
    ids = list(dict.fromkeys(int(i) for i in item_ids))
    with db.write() as conn:
        marks = ",".join("?" * len(ids))
        found = conn.execute(f"SELECT id FROM items WHERE dataset_id = ? AND id IN ({marks})",
                             (dataset_id, *ids)).fetchall() if ids else []
        missing = sorted(set(ids) - {row[0] for row in found})
        if missing:
            raise StoreError(f"no item {', '.join(map(str, missing[:5]))} in this dataset; nothing was changed")
        return sum(conn.execute("UPDATE items SET split = ? WHERE id = ? AND split != ?",
                                (value, i, value)).rowcount for i in ids)


def counts(db: Database, dataset_id: int, status: str | None = None) -> dict[str, int]:
    """Items per split ('' for none), every split present; of one status when given."""
    where, params = ("AND status = ?", (dataset_id, status)) if status else ("", (dataset_id,))
    found = dict(db.read(f"SELECT split, COUNT(*) FROM items WHERE dataset_id = ? {where} GROUP BY split", params))
    return {split: int(found.get(split, 0)) for split in (*SPLITS, "")}

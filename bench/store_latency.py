"""Per-edit write latency of the dataset store, against raw sqlite3 measured in the same run.

Each store edit is one committed transaction holding the change and its history entry. Peers:
the same edits with ``durable=False`` (WAL ``synchronous=NORMAL``, no fsync per commit), and a
bare ``INSERT`` + ``COMMIT`` on a plain sqlite3 connection with the store's pragmas (the floor
for one durable commit on this disk).

    python -m bench.store_latency [--edits 500] [--json out.json]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # also runnable as a plain script

from bench._common import environment, random_box, save, write_images
from bench._record import Row
from workbench.store import AnnotationDraft, DatasetStore


def timings(action: Callable[[int], object], count: int) -> list[float]:
    out = []
    for n in range(count):
        start = time.perf_counter()
        action(n)
        out.append((time.perf_counter() - start) * 1000)
    return out


def summary(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)
    return {"median_ms": round(statistics.median(ordered), 3), "p95_ms": round(ordered[int(len(ordered) * 0.95)], 3),
            "max_ms": round(ordered[-1], 3)}


def store_edits(root: Path, durable: bool, count: int, image: Path) -> dict[str, dict[str, float]]:
    rng = random.Random(3)
    with DatasetStore(root / f"store-{durable}" / "workbench.sqlite3", durable=durable) as store:
        item = store.add_item(store.create_dataset("bench"), [image])
        wh = item.images[0].wh
        boxes: list[AnnotationDraft] = []

        def add(n: int) -> None:  # the editor's commit after drawing one more box: the whole image's boxes
            boxes.append(AnnotationDraft.box(random_box(rng, wh), "cat"))
            store.set_annotations(item.id, 1, boxes[-10:])

        def move(n: int) -> None:
            boxes[-1] = AnnotationDraft.box(random_box(rng, wh), "cat")
            store.set_annotations(item.id, 1, boxes[-10:])

        added = timings(add, count)
        moved = timings(move, count)
        review = timings(lambda n: store.set_status(item.id, "accepted" if n % 2 else "pre-annotated"), count)
        undo = timings(lambda n: store.undo(item.id), count)
    return {"edit_add_box": summary(added), "edit_move_box": summary(moved), "set_status": summary(review),
            "undo": summary(undo)}


def raw_sqlite(root: Path, count: int) -> dict[str, float]:
    conn = sqlite3.connect(root / "raw.sqlite3", isolation_level=None)
    for pragma in ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL"):
        conn.execute(pragma)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")

    def insert(n: int) -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (v) VALUES (?)", (f"[{n}, {n}, {n + 1}, {n + 1}]",))
        conn.execute("COMMIT")

    result = summary(timings(insert, count))
    conn.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=500)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-store-"))
    try:
        image = write_images(root / "src", 1, seed=1)[0]
        durable = store_edits(root, True, args.edits, image)
        relaxed = store_edits(root, False, args.edits, image)
        floor = raw_sqlite(root, args.edits)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    ratios = {edit: {"vs_raw_commit": round(durable[edit]["median_ms"] / floor["median_ms"], 1),
                     "vs_not_durable": round(durable[edit]["median_ms"] / relaxed[edit]["median_ms"], 1)}
              for edit in durable}
    rows = (Row("store edit, durable (median: add a box to an image's boxes)", ours=durable["edit_add_box"]["median_ms"],
                peer=floor["median_ms"], units="ms",
                notes=f"peer: bare durable SQLite insert + commit; {args.edits} edits; "
                      f"move a box {durable['edit_move_box']['median_ms']:.2f} ms, "
                      f"set status {durable['set_status']['median_ms']:.2f} ms, undo {durable['undo']['median_ms']:.2f} ms"),)
    save(args.json, {"bench": "store_latency", "edits": args.edits, "durable_store": durable,
                     "store_durable_false": relaxed, "raw_sqlite_insert_commit_full": floor,
                     "median_ratios": ratios, "environment": environment()}, rows)


if __name__ == "__main__":
    main()

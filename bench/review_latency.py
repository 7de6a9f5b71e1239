"""Review at scale: a dataset of 100,000 items, in the browser against the same store reads done in-process.

Three goals (issue "dataset-first"): a queue page shown in ≤ 100 ms, the next item ready in the editor in
≤ 150 ms, Accept to the next item shown in ≤ 250 ms — each measured in Chromium (from the click or key to
the page showing the result) and compared with the same work done in-process in the same run (the store
reads and the editor payload, no HTTP, no browser).

The dataset is written with SQL in one transaction (building 100,000 items through the API would time the
build, not the review); its images are 40 distinct real JPEGs shared by the items, as a dataset of many
similar photos would be.

    python bench/review_latency.py [--items 100000] [--repeats 15]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._record import Goal, Row, write_record
from tests.factories import write_image


def build(root: Path, items: int) -> tuple[Path, int]:
    """A data folder with one dataset of ``items`` items (40 distinct images, half of them with boxes)."""
    from workbench.store import DatasetStore

    rng = random.Random(7)
    store = DatasetStore(root / "workbench.sqlite3", images_dir=root / "images", durable=False)
    sources = root / "sources"
    sources.mkdir()
    blobs = [store.blobs.put_file(write_image(sources, 1600, 1200, fmt="JPEG", seed=n, name=f"p{n}.jpg"))
             for n in range(40)]
    dataset = store.create_dataset("big")
    for label in ("cat", "dog", "car", "person"):
        store.add_label(dataset, label)
    conn = store.db.conn
    conn.execute("BEGIN")
    for blob in blobs:
        conn.execute("INSERT OR IGNORE INTO images (sha256, file, width, height, format) VALUES (?,?,?,?,?)",
                     (blob.sha256, blob.file.relative_to(store.blobs.root).as_posix(), blob.width, blob.height,
                      blob.format))
    statuses = ["new", "pre-annotated", "accepted"]
    for n in range(1, items + 1):
        status = statuses[n % 3] if n > items // 2 else "new"
        item_id = conn.execute("INSERT INTO items (dataset_id, position, status, created_at, updated_at) "
                               "VALUES (?, ?, ?, '', '')", (dataset.id, n, status)).lastrowid
        blob = blobs[n % len(blobs)]
        image_id = conn.execute("INSERT INTO item_images (item_id, position, image_id, sha256, original_name) "
                                "VALUES (?, 1, ?, ?, ?)", (item_id, f"img{n}", blob.sha256, f"photo_{n:06d}.jpg")
                                ).lastrowid
        if status != "new":
            for _ in range(rng.randint(1, 4)):
                x, y = rng.uniform(0, 1200), rng.uniform(0, 900)
                conn.execute("INSERT INTO annotations (item_image_id, kind, coords, label, provenance) "
                             "VALUES (?, 'box', ?, ?, ?)", (image_id, json.dumps([x, y, x + 200, y + 150]),
                                                            rng.choice(["cat", "dog", "car", "person"]),
                                                            "model" if status == "pre-annotated" else "human"))
    conn.execute("COMMIT")
    store.close()
    return root, dataset.id


def in_process(data: Path, dataset: int, repeats: int) -> dict[str, list[float]]:
    """The same store reads and payloads the app does, without HTTP or a browser."""
    from ui.views import editor_for, open_view, queue_view
    from workbench.review import Cursor
    from workbench.services import Services

    services = Services.create(data, public=False)
    store = services.store()
    cursor = Cursor(dataset=dataset)
    times: dict[str, list[float]] = {"queue page": [], "next item": [], "accept and next": []}
    pages = store.queue(dataset).pages
    item = store.item(store.neighbour(dataset, None))
    for n in range(repeats):
        start = time.perf_counter()
        queue_view(services, Cursor(dataset=dataset, page=1 + (n * 97) % pages))
        times["queue page"].append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        next_id = store.neighbour(dataset, item.id)
        item = store.item(next_id)
        editor_for(services, open_view(services, cursor.at(item)))
        times["next item"].append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        accepted = store.set_status(item.id, "accepted", expected_version=item.version)
        next_id = store.neighbour(dataset, accepted.id, unreviewed=True)
        item = store.item(next_id)
        editor_for(services, open_view(services, cursor.at(item)))
        times["accept and next"].append((time.perf_counter() - start) * 1000)
    return times


_TIMED = """async ([selector, action, expect]) => {
  const el = () => document.querySelector(selector);
  const before = el() ? el().innerText : "";
  const t0 = performance.now();
  if (action.startsWith("key:")) {
    document.dispatchEvent(new KeyboardEvent("keydown", {key: action.slice(4), bubbles: true}));
  } else { document.querySelector(action).click(); }
  while (performance.now() - t0 < 20000) {
    const now = el() ? el().innerText : "";
    if (now !== before && (!expect || now.includes(expect))) return performance.now() - t0;
    await new Promise(r => requestAnimationFrame(r));
  }
  return -1;
}"""


def in_browser(data: Path, dataset: int, repeats: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    from tests.ui.conftest import (
        CHROMIUM,
        CHROMIUM_ARGS,
        free_port,
        open_item,
        open_page,
    )
    from ui import create_app
    from workbench.services import Services

    demo = create_app(Services.create(data, public=False))
    port = free_port()
    demo.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    times: dict[str, list[float]] = {"queue page": [], "next item": [], "accept and next": []}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            context, page = open_page(browser, f"http://127.0.0.1:{port}/")
            page.wait_for_selector("#queue-gallery .thumbnail-item")
            for _ in range(repeats):
                times["queue page"].append(page.evaluate(_TIMED, ["#pager", "#page-next", "Page"]))
            open_item(page, 0)
            page.wait_for_function("() => { const i = document.querySelector('#editor .wb-stage img');"
                                   " return i && i.complete; }")
            for _ in range(repeats):  # next item: the status line names it and the editor holds its picture
                times["next item"].append(page.evaluate(_TIMED, ["#item-status", "key:ArrowRight", "Item "]))
            for _ in range(repeats):
                times["accept and next"].append(page.evaluate(_TIMED, ["#item-status", "key:a", "Item "]))
            context.close()
            browser.close()
    finally:
        demo.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-review-"))
    try:
        start = time.perf_counter()
        data, dataset = build(root, args.items)
        built = time.perf_counter() - start
        ours = in_browser(data, dataset, args.repeats)
        peer = in_process(data, dataset, args.repeats)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    goals = {"queue page": 100, "next item": 150, "accept and next": 250}
    rows = []
    for name, goal in goals.items():
        valid = [t for t in ours[name] if t >= 0]
        rows.append(Row(f"review at {args.items:,} items: {name} (browser)", ours=statistics.median(valid),
                        peer=statistics.median(peer[name]), units="ms", goal=Goal.ours_at_most(goal),
                        notes=f"median of {len(valid)}; peer: the same store reads + payload in-process"))
    details = {"items": args.items, "build_s": round(built, 1), "browser_ms": ours, "in_process_ms": peer}
    write_record("review_latency", details, rows=rows)


if __name__ == "__main__":
    main()

"""The display copies of the items a reviewer opens next, made while they look at this one.

A display copy is made on first view (:mod:`workbench.served`): for a 12 MP photo that is a reduced
JPEG decode and a resize, tens of milliseconds the person would wait after pressing → or A. While an
item is shown, one background thread makes the copies of the items those keys open (the next in the
queue's filter, the next still to review), so the key finds them ready. Only the latest request is
served: paging quickly through items never queues work for items already left behind.

>>> import tempfile; from pathlib import Path; from PIL import Image
>>> from workbench.served import ServedFiles
>>> from workbench.store import DatasetStore
>>> folder = Path(tempfile.mkdtemp()); store = DatasetStore(folder / "db.sqlite3")
>>> for n in range(2): Image.new("RGB", (3000, 2000), (n, 0, 0)).save(folder / f"{n}.jpg")
>>> first, second = (store.add_item(store.create_dataset("d") if n == 0 else "d", [folder / f"{n}.jpg"]) for n in range(2))
>>> prefetch = DisplayPrefetch()
>>> prefetch.after(store, ServedFiles(folder / "served"), first.dataset_id, first.id).result()
1
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from workbench.errors import WorkbenchError
from workbench.served import ServedFiles
from workbench.store import DatasetStore, ItemFilter

__all__ = ["DisplayPrefetch"]

log = logging.getLogger("grounding-workbench")


class DisplayPrefetch:
    """One background thread making the next items' display copies; :meth:`after` when an item is shown."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="display-prefetch")
        self._latest = 0
        self._lock = threading.Lock()

    def after(self, store: DatasetStore, served: ServedFiles, dataset: int, item: int,
              flt: ItemFilter | None = None) -> Future[int]:
        """Make, in the background, the display copies of the items after ``item``; the future gives how many
        copies were looked at (0 when a later request superseded this one)."""
        with self._lock:
            self._latest += 1
            ticket = self._latest
        return self._pool.submit(self._run, ticket, store, served, dataset, item, flt)

    def _run(self, ticket: int, store: DatasetStore, served: ServedFiles, dataset: int, item: int,
             flt: ItemFilter | None) -> int:
        if ticket != self._latest:
            return 0
        made = 0
        try:
            following = {store.neighbour(dataset, item, filter=flt), store.neighbour(dataset, item, unreviewed=True)}
            for item_id in sorted(i for i in following if i is not None):
                if ticket != self._latest:
                    break
                for image in store.item(item_id).images:
                    served.display(image.file, image.sha256, image.wh)
                    made += 1
        except WorkbenchError as exc:  # a deleted item, an unreadable file: the view itself will say so
            log.debug("display prefetch after item %s: %s", item, exc)
        return made

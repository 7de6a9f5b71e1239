"""Carry-over: the previous item's boxes onto this one, for sequences of similar images.

The previous item is the one before in the dataset's order (the sequence the images came in, whatever
the queue's filter); its picture of the same number (else its first) gives the boxes and points, placed
on this item's picture at the same relative position, so a sequence of frames of one size keeps them
exactly and a resized one keeps them in proportion. They become the person's work once stored (a person
chose to copy them): the editor adds them and commits, one gesture, one undo step.

>>> import tempfile; from pathlib import Path; from PIL import Image
>>> from workbench.store import AnnotationDraft, DatasetStore
>>> folder = Path(tempfile.mkdtemp()); store = DatasetStore(folder / "db.sqlite3")
>>> Image.new("RGB", (400, 300)).save(folder / "a.png"); Image.new("RGB", (800, 600), "red").save(folder / "b.png")
>>> first = store.add_item(store.create_dataset("frames"), [folder / "a.png"])
>>> second = store.add_item("frames", [folder / "b.png"])
>>> _ = store.set_annotations(first.id, 1, [AnnotationDraft.box((10, 20, 110, 220), "cat")])
>>> before, found = previous_annotations(store, second, 1)
>>> before.id == first.id, [(a.label, a.coords, a.provenance) for a in found]
(True, [('cat', (20.0, 40.0, 220.0, 440.0), 'human')])
"""

from __future__ import annotations

from workbench.store import AnnotationDraft, DatasetStore, Item

__all__ = ["previous_annotations"]


def previous_annotations(store: DatasetStore, item: Item, picture: int) -> tuple[Item | None, list[AnnotationDraft]]:
    """The item before ``item`` in its dataset (None for the first) and its annotations, in the pixels of
    ``item``'s picture ``picture``."""
    before = store.neighbour(item.dataset_id, item.id, step=-1)
    if before is None:
        return None, []
    previous = store.item(before)
    source = previous.image(min(max(1, picture), len(previous.images)))
    target = item.image(picture)
    sx, sy = target.width / source.width, target.height / source.height
    found = []
    for a in source.annotations:
        coords = tuple(v * (sx if n % 2 == 0 else sy) for n, v in enumerate(a.coords))
        found.append(AnnotationDraft(a.kind, coords, a.label, "human", attributes={"carried_from": previous.id}))
    return previous, found

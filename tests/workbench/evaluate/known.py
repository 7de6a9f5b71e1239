"""A small reviewed dataset whose evaluation results are known, and a fake server that answers it.

Six accepted items of 320x240 images in the ``val`` split — five with one 100x100 box (cats and dogs), one
negative (nothing in it) — and two accepted items in ``train``, plus one item still ``new`` in ``val``.
The fake server (:mod:`tests.fake_server`) answers a question that contains "shifted" with every truth box
moved 20 px to the right (IoU 80x100 / 120x100 = 2/3: found at IoU 0.5-0.65, missed from 0.7), and any
other question with the truth boxes themselves (nothing for the negative).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tests.factories import write_image
from tests.fake_server import FakeRequest, boxes_answer
from workbench.store import AnnotationDraft, DatasetStore

NAME = "shelf"
SHIFT = 20.0


@dataclass
class Known:
    val: list[int] = field(default_factory=list)
    train: list[int] = field(default_factory=list)
    new: list[int] = field(default_factory=list)
    negative: int = 0
    truth: dict[str, list[tuple[str, tuple[float, float, float, float]]]] = field(default_factory=dict)

    def answer(self, request: FakeRequest) -> str:
        boxes = self.truth
        if "shifted" in request.prompt:
            boxes = {k: [(label, (b[0] + SHIFT, b[1], b[2] + SHIFT, b[3])) for label, b in v] for k, v in boxes.items()}
        return boxes_answer(boxes, "qwen2.5-vl", request)


def build_known(store: DatasetStore, folder: Path, name: str = NAME) -> Known:
    known = Known()
    dataset = store.create_dataset(name)
    folder.mkdir(parents=True, exist_ok=True)
    plan = [("val", "cat"), ("val", "cat"), ("val", "dog"), ("val", "dog"), ("val", "cat"), ("val", None),
            ("train", "cat"), ("train", "dog"), ("new", "cat")]
    for n, (split, label) in enumerate(plan):
        item = store.add_item(dataset, [write_image(folder, 320, 240, seed=100 + n, name=f"{name}{n}.png")])
        box = (40.0 + 5 * n, 40.0, 140.0 + 5 * n, 140.0)
        if label is not None:
            store.set_annotations(item.id, 1, [AnnotationDraft.box(box, label)])
        known.truth[item.images[0].sha256] = [(label, box)] if label is not None else []
        store.set_split(dataset, [item.id], "val" if split == "new" else split)
        if split == "new":
            known.new.append(item.id)
            continue
        store.set_status(item.id, "accepted")
        (known.val if split == "val" else known.train).append(item.id)
        if label is None:
            known.negative = item.id
    return known

"""A small, known dataset in a real store on disk, for export, import and CLI tests."""

from __future__ import annotations

from pathlib import Path

from tests.factories import write_image
from workbench.store import AnnotationDraft, DatasetStore, ImageSource

BOWL_BOX = (146.0, 137.0, 615.0, 415.0)
"""The official conversion example: on a 640x428 image, Qwen2-VL writes [228, 320, 961, 970]."""


def build_demo(store: DatasetStore, images: Path, name: str = "demo") -> None:
    """Three accepted items — the bowl (box + point), a two-image item, a chair — and a rejected one (a ghost)."""
    images.mkdir(parents=True, exist_ok=True)
    bowl = write_image(images, 640, 428, fmt="JPEG", name="bowl.jpg")
    street = write_image(images, 2000, 1500, fmt="PNG", seed=1, name="street.png")
    small = write_image(images, 640, 480, fmt="PNG", seed=2, name="room.png")
    ghost = write_image(images, 320, 240, fmt="PNG", seed=3, name="hall.png")
    dataset = store.create_dataset(name)
    s1 = store.add_item(dataset, [bowl], "Locate the bowl.")
    store.set_annotations(s1.id, 1, [AnnotationDraft.box(BOWL_BOX, "bowl")])
    store.set_annotations(s1.id, 1, [AnnotationDraft.point((320, 214), "spoon")], kinds=("point",))
    s2 = store.add_item(dataset, [ImageSource(bowl, "kitchen"), ImageSource(street, "street")], "Find bowls and cars.")
    store.set_annotations(s2.id, 1, [AnnotationDraft.box((10, 10, 100, 100), "bowl", provenance="model",
                                                         model="Qwen/Qwen2.5-VL-3B-Instruct")])
    store.set_annotations(s2.id, 2, [AnnotationDraft.box((500, 375, 1500, 1125), "car"),
                                     AnnotationDraft.box((-40, 1400, 2100, 1600), "road")])
    s3 = store.add_item(dataset, [small], "")
    store.set_annotations(s3.id, 1, [AnnotationDraft.box((100, 120, 300, 330), "chair")])
    s4 = store.add_item(dataset, [ghost], "")
    store.set_annotations(s4.id, 1, [AnnotationDraft.box((5, 5, 50, 50), "ghost")])
    for item, status in ((s1, "accepted"), (s2, "accepted"), (s3, "accepted"), (s4, "rejected")):
        store.set_status(item.id, status)

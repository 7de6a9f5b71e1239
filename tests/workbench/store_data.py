"""A small, known dataset in a real store on disk, for export, import and CLI tests."""

from __future__ import annotations

from pathlib import Path

from tests.factories import write_image
from workbench.store import AnnotationDraft, DatasetStore, ImageSource

BOWL_BOX = (146.0, 137.0, 615.0, 415.0)
"""The official conversion example: on a 640x428 image, Qwen2-VL writes [228, 320, 961, 970]."""


def build_demo(store: DatasetStore, images: Path, name: str = "demo") -> None:
    """Three samples: the bowl (box + point), a two-image sample, and one with a rejected box."""
    images.mkdir(parents=True, exist_ok=True)
    bowl = write_image(images, 640, 428, fmt="JPEG", name="bowl.jpg")
    street = write_image(images, 2000, 1500, fmt="PNG", seed=1, name="street.png")
    small = write_image(images, 640, 480, fmt="PNG", seed=2, name="room.png")
    dataset = store.create_dataset(name)
    s1 = store.add_sample(dataset, [bowl], "Locate the bowl.")
    store.add_annotation(s1.images[0].id, AnnotationDraft.box(BOWL_BOX, "bowl", status="accepted"))
    store.add_annotation(s1.images[0].id, AnnotationDraft.point((320, 214), "spoon"))
    s2 = store.add_sample(dataset, [ImageSource(bowl, "kitchen"), ImageSource(street, "street")], "Find bowls and cars.")
    store.add_annotation(s2.images[0].id, AnnotationDraft.box((10, 10, 100, 100), "bowl", provenance="model",
                                                              model="Qwen/Qwen2.5-VL-3B-Instruct"))
    store.add_annotation(s2.images[1].id, AnnotationDraft.box((500, 375, 1500, 1125), "car"))
    store.add_annotation(s2.images[1].id, AnnotationDraft.box((-40, 1400, 2100, 1600), "road"))
    s3 = store.add_sample(dataset, [small], "")
    store.add_annotation(s3.images[0].id, AnnotationDraft.box((100, 120, 300, 330), "chair"))
    store.add_annotation(s3.images[0].id, AnnotationDraft.box((5, 5, 50, 50), "ghost", status="rejected"))

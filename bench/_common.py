"""Shared by the bench scripts: seeded synthetic data and a record of the machine and versions."""

from __future__ import annotations

import os
import platform
import random
import sys
from pathlib import Path

from PIL import Image

from workbench.store import AnnotationDraft, DatasetStore, ImageSource

SIZES = [(640, 480), (480, 640), (1024, 768), (320, 240), (800, 600), (1280, 720), (1920, 1080), (500, 375)]


def environment() -> dict:
    import numpy
    import supervision
    import transformers

    return {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(), "numpy": numpy.__version__,
            "supervision": supervision.__version__, "transformers": transformers.__version__}


def write_images(folder: Path, count: int, seed: int) -> list[Path]:
    """``count`` distinct small JPEGs of the sizes above (solid colours: bytes differ per image)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(count):
        w, h = SIZES[n % len(SIZES)]
        path = folder / f"img{n:03d}.jpg"
        Image.new("RGB", (w, h), (rng.randrange(256), rng.randrange(256), rng.randrange(256))).save(path, quality=80)
        paths.append(path)
    return paths


def random_box(rng: random.Random, wh: tuple[int, int]) -> tuple[float, float, float, float]:
    w, h = wh
    x1, y1 = rng.uniform(0, w * 0.8), rng.uniform(0, h * 0.8)
    return (round(x1, 1), round(y1, 1), round(rng.uniform(x1 + 1, w), 1), round(rng.uniform(y1 + 1, h), 1))


def synthetic_dataset(store: DatasetStore, name: str, samples: int, images: list[Path], seed: int) -> None:
    """``samples`` accepted items (10 % with two images), 1-4 boxes and sometimes a point per image."""
    rng = random.Random(seed)
    blobs = [store.blobs.put_file(path) for path in images]
    labels = ["cat", "dog", "car", "person", "bowl", "cup", "tree", "sign"]
    store.create_dataset(name)
    for n in range(samples):
        count = 2 if rng.random() < 0.1 else 1
        picked = [rng.randrange(len(blobs)) for _ in range(count)]
        sources = [(ImageSource(images[i], f"pic{k + 1}"), blobs[i]) for k, i in enumerate(picked)]
        drafts = []
        for i in picked:
            wh = blobs[i].wh
            objects = [AnnotationDraft.box(random_box(rng, wh), rng.choice(labels))
                       for _ in range(rng.randint(1, 4))]
            if rng.random() < 0.2:
                objects.append(AnnotationDraft.point((rng.uniform(0, wh[0]), rng.uniform(0, wh[1])), "point"))
            drafts.append(objects)
        store.add_item_blobs(name, sources, f"Find everything in sample {n}.", drafts, status="accepted")


def save(path: str | None, doc: dict, rows: tuple = ()) -> Path:
    """Print the record and write it (the shared format of ``bench/_record.py``), or to ``path`` when given."""
    from bench._record import write_record

    target = write_record(doc["bench"], doc, rows=rows)
    text = target.read_text(encoding="utf-8")
    print(text)
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text, encoding="utf-8")
        return Path(path)
    return target

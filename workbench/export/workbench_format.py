"""This project's own format: everything the store knows about a dataset, to import back as is.

``dataset.json`` holds the items in order (prompt, review status, split, images with their IDs, every
annotation with provenance, model and settings, coordinates in original pixels, unclamped);
``images/`` holds one copy of each distinct image, named by content hash.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from workbench.export.base import (
    ExportFormat,
    FormatOutput,
    ImageSizes,
    Problems,
    load_json,
)
from workbench.export.files import write_json
from workbench.export.settings import ExportSettings
from workbench.store import Item

DATASET_JSON = "dataset.json"
FORMAT_ID = "grounding-workbench"
VERSION = 2
"""2: one review status per item (1: a status per annotation, still imported)."""


def to_doc(name: str, samples: Sequence[Item]) -> dict:
    return {"format": FORMAT_ID, "version": VERSION, "dataset": name, "samples": [{
        "prompt": sample.prompt,
        "status": sample.status,
        "split": sample.split,
        "images": [{
            "image_id": image.image_id,
            "file": f"images/{image.file.name}",
            "original_name": image.original_name,
            "width": image.width,
            "height": image.height,
            "annotations": [{
                "kind": a.kind, "coords": list(a.coords), "label": a.label, "provenance": a.provenance,
                "model": a.model, "settings": dict(a.settings),
                "attributes": dict(a.attributes),
            } for a in image.annotations],
        } for image in sample.images],
    } for sample in samples]}


def write_raw(name: str, samples: Sequence[Item], settings: ExportSettings, folder: Path) -> FormatOutput:
    (folder / "images").mkdir(parents=True, exist_ok=True)
    for image in {image.file: image for sample in samples for image in sample.images}.values():
        shutil.copyfile(image.file, folder / "images" / image.file.name)
    write_json(folder / DATASET_JSON, to_doc(name, samples), indent=1)
    quoted = f'"{folder}"' if " " in str(folder) else str(folder)
    images = [image for sample in samples for image in sample.images]
    annotations = [a for image in images for a in image.annotations]
    counts = {"samples": len(samples), "entries": len(samples), "images": len(images),
              "distinct_images": len({image.sha256 for image in images}),
              "boxes": sum(a.kind == "box" for a in annotations), "points": sum(a.kind == "point" for a in annotations)}
    return FormatOutput(len(samples), (DATASET_JSON, "images/"), (),
                        f"workbench import workbench {quoted} brings it back into a store.", {"counts": counts})


def validate(folder: Path, settings: ExportSettings) -> list[str]:
    problems = Problems()
    doc = load_json(folder / DATASET_JSON, problems)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_ID or not isinstance(doc.get("samples"), list):
        return problems.result() or [f"{DATASET_JSON}: not a {FORMAT_ID} dataset"]
    sizes = ImageSizes(folder)
    for n, sample in enumerate(doc["samples"], 1):
        for image in sample.get("images", []):
            wh = sizes(str(image.get("file")), problems, f"sample {n}")
            if wh and wh != (image.get("width"), image.get("height")):
                problems.add(f"sample {n}: {image.get('file')} is {wh}, the dataset says "
                             f"{image.get('width')}x{image.get('height')}")
            for a in image.get("annotations", []):
                if not isinstance(a.get("coords"), list) or len(a["coords"]) != (4 if a.get("kind") == "box" else 2):
                    problems.add(f"sample {n}: annotation {a!r} has bad coordinates")
    return problems.result()


def _not_direct(*_: object) -> FormatOutput:
    raise TypeError("the workbench format is written from store samples (write_raw)")


FORMAT = ExportFormat("workbench", "Grounding Workbench dataset (import back with `workbench import workbench`)", True,
                      "original-image pixels, as stored (unclamped)", _not_direct, validate)



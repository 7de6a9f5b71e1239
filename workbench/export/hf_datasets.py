"""A Hugging Face ``datasets`` dataset saved to disk: one row per sample image.

Columns: ``image`` (Image feature, bytes embedded), ``image_id``, ``sample``, ``picture``,
``prompt``, ``width``, ``height``, ``objects`` (``bbox`` xyxy in original pixels, ``label``) and
``points`` (``xy``, ``label``). Load with ``datasets.load_from_disk``; ``push_to_hub`` is left
to the user and their token.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from workbench.export.base import ExportFormat, FormatOutput, Problems, check_coords
from PIL import Image as PILImage
from PIL import ImageOps

from grounding import read_image_size
from workbench.export.samples import ExportSample
from workbench.export.settings import ExportSettings

SUBDIR = "hf_dataset"


def _upright(source) -> object:
    """The file path, or for an EXIF-rotated file the upright pixels (the Image feature does not transpose)."""
    if read_image_size(source).orientation == 1:
        return str(source)
    with PILImage.open(source) as opened:
        return ImageOps.exif_transpose(opened).copy()


def features():  # imported lazily: datasets is heavy to import
    from datasets import Features, Image, List, Value

    return Features({
        "image": Image(),
        "image_id": Value("string"),
        "sample": Value("int64"),
        "picture": Value("int32"),
        "prompt": Value("string"),
        "width": Value("int32"),
        "height": Value("int32"),
        "objects": {"bbox": List(List(Value("float64"), length=4)), "label": List(Value("string"))},
        "points": {"xy": List(List(Value("float64"), length=2)), "label": List(Value("string"))},
    })


def to_columns(samples: Sequence[ExportSample]) -> dict[str, list]:
    columns: dict[str, list] = {name: [] for name in features()}
    for sample in samples:
        for image in sample.images:
            columns["image"].append(_upright(image.source))
            columns["image_id"].append(image.image_id)
            columns["sample"].append(sample.position)
            columns["picture"].append(image.position)
            columns["prompt"].append(sample.prompt)
            columns["width"].append(image.wh[0])
            columns["height"].append(image.wh[1])
            columns["objects"].append({"bbox": [list(b.coords) for b in image.boxes],
                                       "label": [b.label for b in image.boxes]})
            columns["points"].append({"xy": [list(p.coords) for p in image.points],
                                      "label": [p.label for p in image.points]})
    return columns


def write(samples: Sequence[ExportSample], settings: ExportSettings, folder: Path) -> FormatOutput:
    from datasets import Dataset

    dataset = Dataset.from_dict(to_columns(samples), features=features())
    dataset = dataset.cast_column("image", features()["image"])
    dataset.save_to_disk(str(folder / SUBDIR))
    return FormatOutput(len(dataset), (f"{SUBDIR}/",), (),
                        f"datasets.load_from_disk('<this folder>/{SUBDIR}'), then push_to_hub with your token.")


def validate(folder: Path, settings: ExportSettings) -> list[str]:
    from datasets import load_from_disk

    problems = Problems()
    try:
        dataset = load_from_disk(str(folder / SUBDIR))
    except Exception as exc:  # the library's own loader is the check
        return [f"{SUBDIR}: datasets cannot load it ({exc})"]
    if dataset.features != features():
        problems.add(f"{SUBDIR}: features {dataset.features} differ from the documented ones")
    for n, row in enumerate(dataset.select_columns(["width", "height", "objects", "points"]), 1):
        for box in row["objects"]["bbox"]:
            check_coords(box, (row["width"], row["height"]), problems, f"{SUBDIR} row {n}", integers=False)
        for xy in row["points"]["xy"]:
            check_coords(xy, (row["width"], row["height"]), problems, f"{SUBDIR} row {n}", integers=False)
    return problems.result()


FORMAT = ExportFormat("hf_datasets", "Hugging Face datasets (save_to_disk)", False,
                      "original-image pixels, xyxy", write, validate)

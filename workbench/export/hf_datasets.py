"""A Hugging Face ``datasets`` dataset saved to disk: one row per sample image, every picture of a sample.

Columns: ``image`` (Image feature, the file's own bytes embedded: a JPEG stays a JPEG; an
EXIF-rotated file is stored upright in its own format), ``image_id``, ``sample``, ``picture``,
``prompt``, ``status`` (the item's review status), ``width``, ``height``, ``objects`` (``bbox`` xyxy in original pixels, ``label``,
``provenance``) and ``points`` (``xy``, ``label``, ``provenance``). Load with
``datasets.load_from_disk``; ``push_to_hub`` is left to the user and their token. This is also
the first layout ``workbench import hf`` reads back.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from grounding import ImageReadError, read_image_size
from workbench.export.base import (
    ExportFormat,
    FormatOutput,
    Problems,
    check_coords,
    check_label,
)
from workbench.export.files import upright_bytes
from workbench.export.samples import ExportSample
from workbench.export.settings import ExportSettings

SUBDIR = "hf_dataset"


def features():  # imported lazily: datasets is heavy to import
    from datasets import Features, Image, List, Value

    return Features({
        "image": Image(),
        "image_id": Value("string"),
        "sample": Value("int64"),
        "picture": Value("int32"),
        "prompt": Value("string"),
        "status": Value("string"),
        "width": Value("int32"),
        "height": Value("int32"),
        "objects": {"bbox": List(List(Value("float64"), length=4)), "label": List(Value("string")),
                    "provenance": List(Value("string"))},
        "points": {"xy": List(List(Value("float64"), length=2)), "label": List(Value("string")),
                   "provenance": List(Value("string"))},
    })


def to_columns(samples: Sequence[ExportSample]) -> dict[str, list]:
    columns: dict[str, list] = {name: [] for name in features()}
    sources = [image.source for sample in samples for image in sample.images]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:  # rotated photos turned on every core
        upright = iter(list(pool.map(upright_bytes, sources)))
    for sample in samples:
        for image in sample.images:
            columns["image"].append({"bytes": next(upright), "path": Path(image.file).name})
            columns["image_id"].append(image.image_id)
            columns["sample"].append(sample.position)
            columns["picture"].append(image.position)
            columns["prompt"].append(sample.prompt)
            columns["status"].append(sample.status)
            columns["width"].append(image.wh[0])
            columns["height"].append(image.wh[1])
            columns["objects"].append({"bbox": [list(b.coords) for b in image.boxes],
                                       "label": [b.label for b in image.boxes],
                                       "provenance": [b.provenance for b in image.boxes]})
            columns["points"].append({"xy": [list(p.coords) for p in image.points],
                                      "label": [p.label for p in image.points],
                                      "provenance": [p.provenance for p in image.points]})
    return columns


def to_dataset(samples: Sequence[ExportSample]):
    """The rows as a ``datasets.Dataset`` built straight from an Arrow table of the documented schema.

    ``Dataset.from_dict`` would re-encode every value through the features and hash the whole
    table, image bytes included, for a fingerprint (most of its time here); the table is
    built with Arrow's own converters instead and fingerprinted by the images' content hashes.
    """
    import pyarrow as pa
    from datasets import Dataset, DatasetInfo
    from datasets.table import InMemoryTable

    schema = features()
    columns = to_columns(samples)
    table = pa.Table.from_pydict(columns, schema=schema.arrow_schema)
    digest = hashlib.sha256("\n".join(str(image.file) for sample in samples for image in sample.images).encode())
    return Dataset(InMemoryTable(table), info=DatasetInfo(features=schema), fingerprint=digest.hexdigest()[:16])


def write(samples: Sequence[ExportSample], settings: ExportSettings, folder: Path) -> FormatOutput:
    dataset = to_dataset(samples)
    dataset.save_to_disk(str(folder / SUBDIR))
    return FormatOutput(len(dataset), (f"{SUBDIR}/",), (),
                        f"datasets.load_from_disk('{folder / SUBDIR}'), then push_to_hub with your token.")


def validate(folder: Path, settings: ExportSettings) -> list[str]:
    from datasets import Image, load_from_disk

    problems = Problems()
    try:
        dataset = load_from_disk(str(folder / SUBDIR))
    except Exception as exc:  # the library's own loader is the check
        return [f"{SUBDIR}: datasets cannot load it ({exc})"]
    if dataset.features != features():
        problems.add(f"{SUBDIR}: features {dataset.features} differ from the documented ones")
        return problems.result()
    rows = dataset.cast_column("image", Image(decode=False)).select_columns(["image", "width", "height", "objects",
                                                                             "points"])
    for n, row in enumerate(rows, 1):
        where = f"{SUBDIR} row {n}"
        wh = (row["width"], row["height"])
        try:
            size = read_image_size(row["image"]["bytes"])  # the header only
        except (ImageReadError, TypeError) as exc:
            problems.add(f"{where}: the image bytes are not an image ({exc})")
        else:
            if size.wh != wh or size.orientation != 1:
                problems.add(f"{where}: the image is {size.width}x{size.height} (orientation {size.orientation}), "
                             f"the row says {wh[0]}x{wh[1]} upright")
        for box, label in zip(row["objects"]["bbox"], row["objects"]["label"]):
            check_coords(box, wh, problems, where, integers=False)
            check_label(label, problems, where)
        for xy, label in zip(row["points"]["xy"], row["points"]["label"]):
            check_coords(xy, wh, problems, where, integers=False)
            check_label(label, problems, where)
    return problems.result()


FORMAT = ExportFormat("hf_datasets", "Hugging Face datasets (save_to_disk)", True,
                      "original-image pixels, xyxy", write, validate)

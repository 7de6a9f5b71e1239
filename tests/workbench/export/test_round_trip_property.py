"""Round trips as a property: for every format with an importer, export -> import -> export gives the same export.

Datasets are generated (hypothesis): items of one to three pictures, JPEGs in every EXIF orientation and
PNGs, sizes that jpegtran can and cannot turn perfectly, empty pictures, boxes and points at arbitrary
float positions, odd labels and image IDs (猫, 🐶, ``say "cheese"``, ``back\\slash``), accepted and
pre-annotated items, with and without negatives. Each export is read back into what it says, format by
format; the second export must say the same: the same image bytes, the same boxes (bit-exact where the
format stores what was written: COCO, Hugging Face datasets, the workbench's own; within the written
precision otherwise: YOLO's 6 decimals, Label Studio's percentages), labels, picture order, image IDs
and item statuses (negatives' included). Sample numbers are not compared: an import numbers its items
anew (the grouping of pictures into samples is compared instead).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from PIL import ExifTags, Image

from tests import budget
from tests.factories import make_image
from workbench.errors import ExportError
from workbench.export import ExportSettings, export_dataset
from workbench.importers import import_coco, import_hf, import_labelstudio, import_workbench, import_yolo
from workbench.store import AnnotationDraft, DatasetStore, ImageSource

LABELS = ["猫", "🐶", 'say "cheese"', "back\\slash", "cat", "two words"]
IDS = ["phone", "猫", "🐶 dog", 'say "cheese"', "back\\slash", "x"]
SIZES = [(48, 32), (32, 48), (50, 30)]  # 50x30: partial 16 px blocks, so a rotated one is re-encoded

pictures = st.fixed_dictionaries({
    "wh": st.sampled_from(SIZES),
    "orientation": st.integers(1, 8),
    "png": st.booleans(),
    "image_id": st.sampled_from(IDS),
    "boxes": st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1), st.floats(0, 1), st.floats(0, 1),
                                st.sampled_from(LABELS)), max_size=3),
    "points": st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1), st.sampled_from(LABELS)), max_size=2),
})
items = st.fixed_dictionaries({"pictures": st.lists(pictures, min_size=1, max_size=3),
                               "proposed": st.booleans()})
datasets = st.fixed_dictionaries({"items": st.lists(items, min_size=1, max_size=4), "negatives": st.booleans(),
                                  "both_statuses": st.booleans()})


def _write_picture(folder: Path, n: int, picture: dict) -> Path:
    w, h = picture["wh"]
    if picture["png"]:
        path = folder / f"p{n}.png"
        make_image(w, h, seed=n).save(path, "PNG")
        return path
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = picture["orientation"]
    path = folder / f"p{n}.jpg"
    make_image(w, h, seed=n).save(path, "JPEG", quality=85, exif=exif.tobytes())
    return path


def _upright_wh(picture: dict) -> tuple[int, int]:
    w, h = picture["wh"]
    return (h, w) if not picture["png"] and picture["orientation"] >= 5 else (w, h)


def _build(store: DatasetStore, folder: Path, spec: dict) -> None:
    store.create_dataset("gen")
    n = 0
    for item_spec in spec["items"]:
        sources, drafts = [], []
        for picture in item_spec["pictures"]:
            n += 1
            sources.append(ImageSource(_write_picture(folder, n, picture), picture["image_id"]))
            w, h = _upright_wh(picture)
            provenance = "model" if item_spec["proposed"] else "human"
            # boxes at least a pixel wide and high, anywhere at float positions (thinner ones are below YOLO's
            # 6 decimals, which is the format's precision, not a round-trip defect)
            objects = [AnnotationDraft.box((min(a, c) * (w - 1), min(b, d) * (h - 1), max(a, c) * (w - 1) + 1,
                                            max(b, d) * (h - 1) + 1), label, provenance=provenance)
                       for a, b, c, d, label in picture["boxes"]]
            objects += [AnnotationDraft.point((x * w, y * h), label, provenance=provenance)
                        for x, y, label in picture["points"]]
            drafts.append(objects)
        if item_spec["proposed"]:  # a model's answer nobody reviewed yet
            item = store.add_item("gen", sources, "")
            run = store.run("gen", model="m", family="qwen2.5-vl", settings={})
            store.record_proposals(run.id, item.id, drafts)
        else:
            item = store.add_item("gen", sources, "")
            for position, objects in enumerate(drafts, 1):
                store.set_annotations(item.id, position, objects)
            store.set_status(item.id, "accepted")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _groups(keyed: list[tuple[object, object]]) -> list[list[object]]:
    """Records grouped by their sample key, in first-seen order (the sample numbers themselves dropped)."""
    order: dict[object, list[object]] = {}
    for key, record in keyed:
        order.setdefault(key, []).append(record)
    return list(order.values())


def _read_coco(folder: Path) -> list:
    doc = json.loads((folder / "annotations.json").read_text(encoding="utf-8"))
    names = {c["id"]: c["name"] for c in doc["categories"]}
    keyed = []
    for image in doc["images"]:
        origin = image["workbench"]
        boxes = [(names[a["category_id"]], (a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2],
                                            a["bbox"][1] + a["bbox"][3]))
                 for a in doc["annotations"] if a["image_id"] == image["id"]]
        keyed.append((origin["sample"], (origin["image_id"], origin["status"],
                                         _sha((folder / "images" / image["file_name"]).read_bytes()), boxes)))
    return _groups(keyed)


def _read_yolo(folder: Path) -> list:
    names = yaml.safe_load((folder / "data.yaml").read_text(encoding="utf-8"))["names"]
    origins = json.loads((folder / "workbench_origins.json").read_text(encoding="utf-8"))
    keyed = []
    for image in sorted((folder / "images").iterdir()):  # s<sample>-<picture>-<id>: sample order
        origin = origins[image.stem]
        lines = (folder / "labels" / f"{image.stem}.txt").read_text(encoding="utf-8").split("\n")
        boxes = [(names[int(v[0])], tuple(pytest.approx(float(x), abs=1.01e-6) for x in v[1:]))
                 for v in (line.split() for line in lines if line)]
        keyed.append((origin["sample"], (origin["image_id"], origin["status"], _sha(image.read_bytes()), boxes)))
    return _groups(keyed)


def _read_labelstudio(folder: Path) -> list:
    tasks = json.loads((folder / "tasks.json").read_text(encoding="utf-8"))
    keyed = []
    for task in tasks:
        data = task["data"]

        def results(blocks: list) -> list:
            return [(r["type"], r["value"][r["type"]], tuple(pytest.approx(r["value"][k], rel=1e-12, abs=1e-12)
                                                              for k in ("x", "y", "width", "height") if k in r["value"]))
                    for block in blocks for r in block["result"]]

        keyed.append((data["sample"], (data["picture"], data["image_id"], data["status"],
                                       _sha((folder / data["image"]).read_bytes()),
                                       results(task["annotations"]), results(task["predictions"]))))
    return _groups(keyed)


def _read_hf(folder: Path) -> list:
    from datasets import Image as ImageFeature
    from datasets import load_from_disk

    rows = load_from_disk(str(folder / "hf_dataset")).cast_column("image", ImageFeature(decode=False))
    return _groups([(row["sample"], (row["picture"], row["image_id"], row["status"], _sha(row["image"]["bytes"]),
                                     row["objects"], row["points"])) for row in rows])


def _read_workbench(folder: Path) -> list:
    doc = json.loads((folder / "dataset.json").read_text(encoding="utf-8"))
    return [(sample["status"], [(image["image_id"], _sha((folder / image["file"]).read_bytes()),
                                 [(a["kind"], a["label"], a["coords"], a["provenance"]) for a in image["annotations"]])
                                for image in sample["images"]]) for sample in doc["samples"]]


FORMATS = {
    "coco": (_read_coco, lambda store, f: import_coco(store, "back", f / "annotations.json", f / "images")),
    "yolo": (_read_yolo, lambda store, f: import_yolo(store, "back", f)),
    "labelstudio": (_read_labelstudio, lambda store, f: import_labelstudio(store, "back", f / "tasks.json")),
    "hf_datasets": (_read_hf, lambda store, f: import_hf(store, "back", f / "hf_dataset")),
    "workbench": (_read_workbench, lambda store, f: import_workbench(store, f, name="back")),
}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@settings(max_examples=6 if budget.FAST else 25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(spec=datasets)
def test_export_import_export_gives_the_same_export(fmt, spec):
    read, import_back = FORMATS[fmt]
    statuses = ("accepted", "pre-annotated") if spec["both_statuses"] else ("accepted",)
    options = ExportSettings.create("qwen2.5-vl", statuses=statuses, negatives=spec["negatives"],
                                    created_at="2026-01-01T00:00:00+00:00")
    with tempfile.TemporaryDirectory(prefix="round-trip-") as tmp:
        root = Path(tmp)
        (root / "sources").mkdir()
        with DatasetStore(root / "a" / "db.sqlite3") as first, DatasetStore(root / "b" / "db.sqlite3") as second:
            _build(first, root / "sources", spec)
            try:
                exported = export_dataset(first, "gen", fmt, options, root / "one")
            except ExportError as exc:
                assume("nothing to export" not in str(exc) and "has no" not in str(exc))
                raise
            import_back(second, exported.folder)
            again = export_dataset(second, "back", fmt, options, root / "two")
            assert read(again.folder) == read(exported.folder)

"""Rotated phone photos: every export writes upright pixels, so boxes and pixels agree in any trainer.

Trainers open images with plain PIL (no ``exif_transpose``); the annotations are in upright pixels.
"""

from __future__ import annotations

import pytest
from PIL import ExifTags, Image

from tests.factories import write_image
from workbench.export import FORMAT_NAMES, ExportSettings, export_dataset
from workbench.store import AnnotationDraft, DatasetStore

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}


@pytest.fixture(scope="module")
def rotated_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("rotated")
    photo = write_image(root, 640, 480, fmt="JPEG", orientation=6, name="phone.jpg")  # shown 480 x 640
    with DatasetStore(root / "db.sqlite3") as store:
        store.create_dataset("phones")
        item = store.add_item("phones", [photo], "find the cup")
        store.set_annotations(item.id, 1, [AnnotationDraft.box((0, 0, 480, 320), "cup")])
        store.set_status(item.id, "accepted")
        yield store


@pytest.mark.parametrize("fmt", [f for f in FORMAT_NAMES if f != "workbench"])
def test_exported_pixels_are_upright(rotated_store, tmp_path, fmt):
    result = export_dataset(rotated_store, "phones", fmt, ExportSettings.create("qwen2.5-vl"), tmp_path)
    files = [p for p in result.folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES]
    if fmt == "hf_datasets":
        from datasets import load_from_disk

        dataset = load_from_disk(str(next(result.folder.rglob("dataset_info.json")).parent))
        assert dataset[0]["image"].size == (480, 640)
        return
    assert files, f"{fmt} wrote no image files"
    for path in files:
        with Image.open(path) as image:
            assert image.size == (480, 640), (fmt, path.name)
            assert image.getexif().get(ExifTags.Base.Orientation, 1) == 1


def test_rotated_mpo_photos_are_written_as_good_jpegs(tmp_path):
    from workbench.export.files import copy_upright

    source = tmp_path / "phone.jpg"
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    frames = [Image.new("RGB", (64, 48), (200, 30, 30)), Image.new("RGB", (16, 12), (0, 0, 0))]
    frames[0].save(source, "MPO", save_all=True, append_images=frames[1:], exif=exif.tobytes(), quality=95)
    with Image.open(source) as opened:
        assert opened.format == "MPO"
    copy_upright(source, tmp_path / "out.jpg")
    with Image.open(tmp_path / "out.jpg") as out:
        assert out.format == "JPEG" and out.size == (48, 64)
        assert out.quantization[0][0] <= 2  # quality 95, not Pillow's default 75

"""A stored phone photo (a JPEG with an EXIF orientation) gets its upright copy once, when it is stored: jpegtran's
lossless turn, named by the original's hash, removed with it."""

from __future__ import annotations

import subprocess

import pytest
from PIL import ExifTags, Image

from tests.factories import write_image
from workbench.store import AnnotationDraft, DatasetStore, lossless
from workbench.store.blobs import UPRIGHT_SUFFIX, discard, kept_upright, upright_path

needs_jpegtran = pytest.mark.skipif(lossless.jpegtran() is None, reason="jpegtran (libjpeg-turbo-progs) not installed")


def _after_start_of_scan(jpeg: bytes) -> bytes:
    return jpeg[jpeg.index(b"\xff\xda"):]


@needs_jpegtran
@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_a_rotated_jpeg_is_kept_upright_beside_its_original(tmp_path, orientation):
    photo = write_image(tmp_path, 64, 48, fmt="JPEG", orientation=orientation, name="phone.jpg")
    blob = DatasetStore(tmp_path / "db.sqlite3").blobs.put_file(photo)
    copy = upright_path(blob.file)
    assert copy is not None and copy.name == blob.sha256 + UPRIGHT_SUFFIX and copy.parent == blob.file.parent
    kept = copy.read_bytes()
    original = photo.read_bytes()
    # the very bytes of the export's lossless turn: jpegtran -perfect, the Orientation tag reset
    assert kept == lossless.rotate_upright(original, orientation)
    raw = subprocess.run([lossless.jpegtran(), *lossless.TRANSFORMS[orientation], "-perfect", "-copy", "all"],
                         input=original, capture_output=True, check=True).stdout
    assert _after_start_of_scan(kept) == _after_start_of_scan(raw)  # the image data is jpegtran's, bit for bit
    with Image.open(copy) as image:
        assert image.size == blob.wh and image.getexif().get(ExifTags.Base.Orientation, 1) == 1
    assert kept_upright(blob.file) == kept


@pytest.mark.parametrize(("fmt", "orientation"), [("JPEG", None), ("JPEG", 1), ("PNG", 6)])
def test_images_shown_as_stored_get_no_copy(tmp_path, fmt, orientation):
    image = write_image(tmp_path, 64, 48, fmt=fmt, orientation=orientation)
    blob = DatasetStore(tmp_path / "db.sqlite3").blobs.put_file(image)
    assert sorted(p.name for p in blob.file.parent.iterdir()) == [blob.file.name]
    assert kept_upright(blob.file) is None


@needs_jpegtran
def test_a_photo_jpegtran_cannot_turn_perfectly_gets_no_copy(tmp_path):
    photo = write_image(tmp_path, 70, 50, fmt="JPEG", orientation=6)  # 4:2:0: 70 is not a multiple of 16
    blob = DatasetStore(tmp_path / "db.sqlite3").blobs.put_file(photo)
    assert sorted(p.name for p in blob.file.parent.iterdir()) == [blob.file.name]


@needs_jpegtran
def test_prune_removes_the_copy_with_its_original(tmp_path):
    sources = tmp_path / "sources"
    sources.mkdir()
    photo = write_image(sources, 64, 48, fmt="JPEG", orientation=6, name="phone.jpg")
    other = write_image(sources, 64, 48, fmt="JPEG", orientation=8, seed=1, name="kept.jpg")
    with DatasetStore(tmp_path / "data" / "db.sqlite3") as store:
        store.create_dataset("gone")
        store.create_dataset("stays")
        item = store.add_item("gone", [photo])
        store.set_annotations(item.id, 1, [AnnotationDraft.box((1, 1, 20, 20), "cup")])
        kept_item = store.add_item("stays", [other])
        files = [store.item(item.id).images[0].file, store.item(kept_item.id).images[0].file]
        copies = [upright_path(file) for file in files]
        assert all(copy is not None and copy.exists() for copy in copies)
        store.delete_dataset("gone")
        assert store.prune_images() == 1
        assert not files[0].exists() and copies[0] is not None and not copies[0].exists()
        assert files[1].exists() and copies[1] is not None and copies[1].exists()  # still used: both stay
        left = sorted(p.name for p in store.blobs.root.rglob("*") if p.is_file())
        assert left == sorted([files[1].name, copies[1].name])


def test_discard_and_upright_path_touch_only_store_names(tmp_path):
    loose = tmp_path / "IMG_0001.jpg"
    loose.write_bytes(b"x")
    beside = tmp_path / "IMG_0001.upright.jpg"
    beside.write_bytes(b"y")
    assert upright_path(loose) is None and kept_upright(loose) is None
    discard(loose)
    assert not loose.exists() and beside.exists()  # a file not named as the store names images: nothing beside it

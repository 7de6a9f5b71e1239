"""Exports copy a stored phone photo's kept upright copy instead of turning it again: jpegtran runs once per photo
(counted through a wrapper program that runs the real jpegtran); a store without the copies (written before them)
gets them on its first export; without jpegtran the photos are still written upright, re-encoded."""

from __future__ import annotations

import io
import shlex
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import ExifTags, Image, ImageOps

from tests.factories import write_image
from workbench.export import ExportSettings, export_dataset
from workbench.export.files import encode_upright, upright_bytes
from workbench.store import AnnotationDraft, DatasetStore, lossless
from workbench.store.blobs import keep_upright, kept_upright, upright_path

IMAGE_SUFFIXES = {".jpg", ".png"}


@pytest.fixture
def jpegtran_calls(tmp_path, monkeypatch):
    """Runs the real jpegtran through a wrapper that logs each call; returns the count so far."""
    lossless.jpegtran.cache_clear()
    real = lossless.jpegtran()
    if real is None:
        pytest.skip("jpegtran (libjpeg-turbo-progs) not installed")
    log = tmp_path / "jpegtran-calls.log"
    wrapper = tmp_path / "bin" / "jpegtran-counted"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\necho call >> {shlex.quote(str(log))}\nexec {shlex.quote(real)} "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv(lossless.JPEGTRAN_ENV, str(wrapper))
    lossless.jpegtran.cache_clear()
    yield lambda: len(log.read_text().splitlines()) if log.exists() else 0
    lossless.jpegtran.cache_clear()


@pytest.fixture
def no_jpegtran(tmp_path, monkeypatch):
    """jpegtran is not on the PATH (as where libjpeg-turbo-progs is not installed)."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.delenv(lossless.JPEGTRAN_ENV, raising=False)
    monkeypatch.setenv("PATH", str(empty))
    lossless.jpegtran.cache_clear()
    assert lossless.jpegtran() is None
    yield
    lossless.jpegtran.cache_clear()


def _store_of_photos(root: Path, orientations=(6, 8, 3)) -> tuple[DatasetStore, list[Path]]:
    """A store of one accepted item per rotated photo, plus one upright PNG; returns it and the stored files."""
    sources = root / "sources"
    sources.mkdir()
    store = DatasetStore(root / "data" / "db.sqlite3")
    store.create_dataset("phones")
    files = []
    for n, orientation in enumerate(orientations):
        photo = write_image(sources, 64, 48, fmt="JPEG", orientation=orientation, seed=n, name=f"phone{n}.jpg")
        files.append(_accepted(store, photo))
    _accepted(store, write_image(sources, 40, 30, fmt="PNG", name="shot.png"))
    return store, files


def _accepted(store: DatasetStore, path: Path) -> Path:
    item = store.add_item("phones", [path], "find the cup")
    store.set_annotations(item.id, 1, [AnnotationDraft.box((1, 2, 20, 24), "cup")])
    store.set_status(item.id, "accepted")
    return store.item(item.id).images[0].file


def _export(store: DatasetStore, fmt: str, out: Path) -> list[Path]:
    result = export_dataset(store, "phones", fmt, ExportSettings.create("qwen2.5-vl"), out, overwrite=True)
    return sorted(p for p in result.folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


def _copy_of(file: Path) -> Path:
    copy = upright_path(file)
    assert copy is not None, f"{file} is not named as the store names images"
    return copy


def _upright_reference(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.array(ImageOps.exif_transpose(image).convert("RGB")).astype(int)


def _photo_bytes_written(files: list[Path]) -> set[bytes]:
    return {p.read_bytes() for p in files if p.suffix == ".jpg"}


def test_each_photo_is_turned_once_whatever_the_exports(tmp_path, jpegtran_calls):
    store, files = _store_of_photos(tmp_path)
    assert jpegtran_calls() == 3  # once per photo, when it was stored
    copies = [_copy_of(file).read_bytes() for file in files]
    for fmt in ("qwen_finetune", "coco", "voc"):
        written = _export(store, fmt, tmp_path / "out")
        assert set(copies) <= _photo_bytes_written(written), fmt  # the kept copies, byte for byte (VOC: + the PNG)
    assert jpegtran_calls() == 3  # no export turned a photo again
    assert [upright_bytes(file) for file in files] == copies  # the datasets export's rows
    store.blobs.put_file(tmp_path / "sources" / "phone0.jpg")  # stored again (same bytes): the copy is there
    assert jpegtran_calls() == 3


def test_a_store_without_the_copies_gets_them_on_its_first_export(tmp_path, jpegtran_calls):
    store, files = _store_of_photos(tmp_path)
    copies = [_copy_of(file) for file in files]
    made_at_import = [copy.read_bytes() for copy in copies]
    for copy in copies:  # a store written before the copies existed
        copy.unlink()
    before = jpegtran_calls()
    first = _export(store, "yolo", tmp_path / "out")
    assert jpegtran_calls() == before + 3
    assert [copy.read_bytes() for copy in copies] == made_at_import  # the same copies
    assert _photo_bytes_written(first) == set(made_at_import)
    second = _export(store, "llamafactory", tmp_path / "out")
    assert jpegtran_calls() == before + 3  # kept: not turned again
    assert _photo_bytes_written(second) == set(made_at_import)


def test_a_broken_copy_is_not_used_and_is_made_again(tmp_path, jpegtran_calls):
    store, files = _store_of_photos(tmp_path, orientations=(6,))
    copy = _copy_of(files[0])
    whole = copy.read_bytes()
    copy.write_bytes(whole[: len(whole) // 2])  # cut short (a disk that lost its tail)
    assert kept_upright(files[0]) is None
    before = jpegtran_calls()
    written = _export(store, "qwen_finetune", tmp_path / "out")
    assert jpegtran_calls() == before + 1 and copy.read_bytes() == whole
    assert _photo_bytes_written(written) == {whole}


def test_without_jpegtran_photos_are_stored_without_copies_and_exported_upright(tmp_path, no_jpegtran):
    store, files = _store_of_photos(tmp_path, orientations=(6, 8))
    assert not any(_copy_of(file).exists() for file in files)
    references = [_upright_reference(file) for file in files]
    for fmt in ("qwen_finetune", "voc"):
        written = []
        for path in _export(store, fmt, tmp_path / "out"):
            with Image.open(path) as image:
                assert image.getexif().get(ExifTags.Base.Orientation, 1) == 1
                written.append(np.array(image.convert("RGB")).astype(int))
        assert len(written) == 3, fmt  # two photos and the PNG (a JPEG in VOC)
        for reference in references:  # re-encoded at quality 95: the upright picture, within JPEG's rounding
            assert reference.shape == (64, 48, 3)
            assert any(pixels.shape == reference.shape and np.abs(pixels - reference).mean() < 3
                       for pixels in written), fmt
    assert not any(_copy_of(file).exists() for file in files)  # nothing kept: nothing lossless to keep


def test_a_file_outside_the_store_is_turned_but_nothing_is_written_beside_it(tmp_path, jpegtran_calls):
    photo = write_image(tmp_path, 64, 48, fmt="JPEG", orientation=6, name="IMG_0001.jpg")
    lookalike = tmp_path / "ab" / ("ab" + "0" * 62 + ".jpg")  # named as the store names images, other bytes
    lookalike.parent.mkdir()
    lookalike.write_bytes(photo.read_bytes())
    for source in (photo, lookalike):
        turned = encode_upright(source)
        assert turned == lossless.rotate_upright(source.read_bytes(), 6)
    assert sorted(p.name for p in tmp_path.rglob("*.jpg")) == sorted([photo.name, lookalike.name])


def test_writers_at_the_same_time_keep_one_whole_copy(tmp_path, jpegtran_calls):
    store, files = _store_of_photos(tmp_path, orientations=(6,))
    store.close()
    copy = _copy_of(files[0])
    expected = copy.read_bytes()
    copy.unlink()
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: keep_upright(files[0]), range(4)))
    assert results == [expected] * 4 and copy.read_bytes() == expected
    assert not [p for p in copy.parent.iterdir() if p.name.startswith(".incoming-")]  # no temporary file left


def test_the_copy_shows_what_the_original_shows(tmp_path, jpegtran_calls):
    store, files = _store_of_photos(tmp_path, orientations=(5, 7))
    store.close()
    for file in files:
        with Image.open(io.BytesIO(kept_upright(file) or b"")) as image:
            turned = np.array(image.convert("RGB")).astype(int)
        assert np.abs(turned - _upright_reference(file)).max() <= 3  # the decoder's rounding aside

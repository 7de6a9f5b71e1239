"""Uploads are held to the per-upload and per-session limits before anything is decoded."""

from __future__ import annotations

import os

import pytest

from tests.factories import write_black_png, write_image
from workbench.deployment import ResourceLimits
from workbench.files import (
    ImageLimitError,
    check_image_file,
    file_inside,
    read_bounded,
    session_usage,
)
from workbench.tryit.uploads import UploadError, load_upload


def test_a_pixel_bomb_is_refused_from_its_header_and_nothing_is_written(tmp_path):
    bomb = write_black_png(tmp_path / "black.png", 13000, 13000)
    assert bomb.stat().st_size < 600_000
    with pytest.raises(UploadError, match=r"black.png: 13000 x 13000 = 169.0 MP decoded; one image may have at most "
                                          r"50.0 MP here"):
        load_upload(bomb, tmp_path / "display", keep_dir=tmp_path / "originals")
    assert not (tmp_path / "display").exists() and not (tmp_path / "originals").exists()


def test_the_byte_limit_is_stated(tmp_path):
    photo = write_image(tmp_path, 300, 200, fmt="JPEG")
    limits = ResourceLimits(upload_bytes=1000)
    with pytest.raises(UploadError, match=r"\.jpg: .* MB; one file may have at most 0.000954 MB here"):
        load_upload(photo, tmp_path / "display", limits=limits)


def test_the_session_budget_counts_what_the_session_keeps(tmp_path):
    limits = ResourceLimits(session_pixels=250_000)
    kept = tmp_path / "originals"
    for seed in range(2):
        load_upload(write_image(tmp_path, 300, 300, seed=seed), tmp_path / "display", keep_dir=kept, limits=limits)
    usage = session_usage(kept.iterdir())
    assert (usage.files, usage.pixels) == (2, 180_000)
    with pytest.raises(UploadError, match=r"this session already holds 2 images of 0.2 MP; with this one it would "
                                          r"pass its budget of 0.2 MP"):
        load_upload(write_image(tmp_path, 300, 300, seed=9), tmp_path / "display", keep_dir=kept, limits=limits)
    # the same file again costs nothing more: it is kept once
    again = load_upload(write_image(tmp_path, 300, 300, seed=0), tmp_path / "display", keep_dir=kept, limits=limits)
    assert again.original_wh == (300, 300)


def test_special_files_are_never_read(tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    for path in ("/dev/zero", fifo):
        with pytest.raises(ImageLimitError, match="not a regular file"):
            check_image_file(path, ResourceLimits())
        with pytest.raises(ImageLimitError, match="not a regular file"):
            read_bounded(path, 1 << 20)


def test_reads_are_bounded(tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(b"\0" * 5000)
    assert len(read_bounded(big, 5000)) == 5000
    with pytest.raises(ImageLimitError, match="larger than"):
        read_bounded(big, 4999)


def test_file_inside_a_folder(tmp_path):
    inside = tmp_path / "uploads" / "abc" / "a.png"
    inside.parent.mkdir(parents=True)
    inside.write_bytes(b"png")
    outside = tmp_path / "secret.png"
    outside.write_bytes(b"png")
    (tmp_path / "uploads" / "link.png").symlink_to(outside)
    folder = tmp_path / "uploads"
    assert file_inside(inside, folder) == inside.resolve()
    for path in (outside, folder / "link.png", folder / ".." / "secret.png", folder, folder / "abc", "/dev/zero",
                 folder / "missing.png"):
        assert file_inside(path, folder) is None, path

"""Issue 20, items 1 and 2: the import path (the Queue's upload, ``workbench import images``) holds the same
pixel budget as Try it and the API, read from the header before anything decodes, and a zip is checked
from what it declares before a byte is inflated; members are streamed under a byte cap.

Memory is measured with ``tracemalloc`` (Python allocations: the bytes a member or an image would cost
when read whole), never with wall-clock time.
"""

from __future__ import annotations

import io
import json
import os
import struct
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from tests.factories import write_black_png, write_image
from workbench.deployment import ResourceLimits
from workbench.importers import import_images
from workbench.store import DatasetStore

MB = 1 << 20


@pytest.fixture
def store(tmp_path):
    with DatasetStore(tmp_path / "db" / "workbench.sqlite3") as opened:
        yield opened


def stored_images(store: DatasetStore) -> list[Path]:
    return [p for p in store.blobs.root.rglob("*") if p.is_file()]


def peak_of(work) -> tuple[object, int]:
    tracemalloc.start()
    try:
        result = work()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_pixel_bomb_is_refused_from_its_header_with_the_try_it_budget(store, tmp_path):
    bomb = write_black_png(tmp_path / "black.png", 13000, 13000)
    photo = write_image(tmp_path, 64, 48, name="photo.png")
    report = import_images(store, "pets", [bomb, photo], limits=ResourceLimits())
    assert len(report.items) == 1 and report.skipped == 1
    assert report.warnings == ("black.png: 13000 x 13000 = 169.0 MP decoded; one image may have at most 50.0 MP here",)
    assert len(stored_images(store)) == 1, "the bomb was stored, so a thumbnail would decode it"


def test_the_command_line_import_holds_the_deployments_budget(tmp_path):
    """``workbench import images`` reads the budget from the environment at its start (an entry point); the
    import function takes the limits it is given and reads no environment itself."""
    from typer.testing import CliRunner

    from workbench.cli import app

    photo = write_image(tmp_path, 64, 48, name="photo.png")
    result = CliRunner().invoke(app, ["import", "images", "pets", str(photo), "--data-dir", str(tmp_path / "data")],
                                env={"WORKBENCH_MAX_UPLOAD_PIXELS": "1000"})
    report = json.loads(result.output)
    assert report["items"] == 0 and report["skipped"] == 1 and "at most 0.0 MP" in report["warnings"][0]


def test_without_limits_the_import_holds_the_built_in_budget(store, tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_MAX_UPLOAD_PIXELS", "1000")  # not read here: the caller passes the deployment's
    report = import_images(store, "pets", [write_image(tmp_path, 64, 48, name="photo.png")])
    assert len(report.items) == 1


def zipped(path: Path, members: dict[str, bytes], level: int = 9) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_a_zip_bomb_member_is_refused_from_its_declared_size_without_inflating_it(store, tmp_path):
    archive = zipped(tmp_path / "bomb.zip", {"a.png": bytes(24 * MB), "b.png": write_image(tmp_path, 64, 48).read_bytes()})
    assert archive.stat().st_size < MB
    report, peak = peak_of(lambda: import_images(store, "pets", [archive], limits=ResourceLimits(upload_bytes=4 * MB)))
    assert len(report.items) == 1 and report.skipped == 1
    assert report.warnings[0].startswith("a.png: 24 MB uncompressed; one file may have at most 4 MB here")
    assert peak < 4 * MB, f"{peak / MB:.1f} MB allocated for a member that was refused"


def test_a_member_that_inflates_more_than_any_image_is_refused_from_its_ratio(store, tmp_path):
    archive = zipped(tmp_path / "bomb.zip", {"a.png": bytes(8 * MB)})
    report, peak = peak_of(lambda: import_images(store, "pets", [archive], limits=ResourceLimits()))
    assert report.items == () and report.skipped == 1
    assert "more than an image ever is" in report.warnings[0]
    assert peak < 4 * MB


def test_a_zip_declaring_more_than_one_import_may_unpack_is_refused_whole(store, tmp_path):
    photos = {f"p{n}.png": write_image(tmp_path, 300, 200, name=f"p{n}.png").read_bytes() for n in range(3)}
    archive = zipped(tmp_path / "many.zip", photos)
    budget = sum(len(data) for data in photos.values()) - 1
    with pytest.raises(Exception, match="one import may unpack at most"):
        import_images(store, "pets", [archive], limits=ResourceLimits(import_bytes=budget))
    assert stored_images(store) == []


def test_a_pixel_bomb_inside_a_zip_is_refused_from_its_header_before_its_body(store, tmp_path):
    bomb = write_black_png(tmp_path / "black.png", 13000, 13000).read_bytes() + os.urandom(12 * MB)  # a long body
    archive = zipped(tmp_path / "bomb.zip", {"black.png": bomb}, level=0)
    report, peak = peak_of(lambda: import_images(store, "pets", [archive], limits=ResourceLimits()))
    assert report.items == () and "13000 x 13000" in report.warnings[0]
    assert stored_images(store) == []
    assert peak < 3 * MB, "the member's body was read although its header already refused it"


def _shrink_declared_size(archive: Path, name: str, size: int) -> None:
    """Make the central directory declare ``size`` uncompressed bytes for ``name`` (a zip that lies)."""
    data = bytearray(archive.read_bytes())
    entry = data.rfind(b"PK\x01\x02")
    assert data[entry + 46:entry + 46 + len(name)] == name.encode()
    struct.pack_into("<I", data, entry + 24, size)
    archive.write_bytes(bytes(data))


def test_a_member_larger_than_it_declares_is_cut_at_its_declared_size(store, tmp_path):
    noise = io.BytesIO()
    noise.write(write_image(tmp_path, 64, 48).read_bytes())
    noise.write(bytes(6 * MB))  # trailing bytes the header does not admit to
    archive = zipped(tmp_path / "liar.zip", {"a.png": noise.getvalue()}, level=1)
    _shrink_declared_size(archive, "a.png", 1000)
    report, peak = peak_of(lambda: import_images(store, "pets", [archive], limits=ResourceLimits()))
    assert report.items == () and report.skipped == 1
    assert report.warnings[0].startswith("a.png: ")
    assert peak < 4 * MB

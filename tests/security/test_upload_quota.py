"""Issue 20, item 6: uploads are bounded per visitor and in total, refused in words before a byte is kept,
and reclaimed early (the Queue's import removes its uploads at once; the rest go after
``WORKBENCH_UPLOAD_KEEP_SECONDS``), instead of twenty 49 MB uploads kept for an hour.
"""

from __future__ import annotations

import os
import time

import pytest

from tests.factories import write_image
from tests.security.live import upload_as
from tests.ui.conftest import import_files, open_page

pytestmark = pytest.mark.slow

MB = 1 << 20


@pytest.fixture(scope="module")
def app(start_app):
    return start_app({"SPACE_ID": "someone/workbench", "WORKBENCH_PROXY_HOPS": "0",
                      "WORKBENCH_VISITOR_UPLOAD_BYTES": str(3 * MB), "WORKBENCH_UPLOADS_TOTAL_BYTES": str(5 * MB),
                      "WORKBENCH_UPLOAD_KEEP_SECONDS": "4"})


def blob(tmp_path, n: int):
    path = tmp_path / f"part{n}.png"
    path.write_bytes(os.urandom(9 * MB // 10))
    return path


def uploaded_files(app) -> list:
    return list(app.upload_dir.rglob("part*.png"))


def test_uploads_are_bounded_per_visitor_and_in_total_and_reclaimed(app, tmp_path):
    mine = [upload_as(app.url, blob(tmp_path, n)) for n in range(4)]
    assert [status for status, _ in mine] == [200, 200, 200, 413]
    assert "your uploads already hold" in mine[3][1]
    theirs = [upload_as(app.url, blob(tmp_path, 10 + n), source="127.0.0.2") for n in range(3)]
    assert [status for status, _ in theirs] == [200, 200, 413]
    assert "the server holds as many uploads as it may" in theirs[2][1]
    assert len(uploaded_files(app)) == 5
    deadline = time.monotonic() + 120  # kept 4 s; the next upload (or the reclaimer) removes them
    while True:
        status, _ = upload_as(app.url, blob(tmp_path, 20))
        if status == 200:
            break
        assert time.monotonic() < deadline, "uploads were not reclaimed"
        time.sleep(0.5)
    assert len(uploaded_files(app)) <= 3


def test_a_refused_upload_is_said_in_the_page(app, browser, tmp_path):
    big = tmp_path / "huge.png"
    big.write_bytes(os.urandom(4 * MB))
    context, page = open_page(browser, app.url)
    try:
        page.locator("#import-files input[type=file]").set_input_files([str(big)])
        page.get_by_text("is more than one visitor may keep on this server").first.wait_for(timeout=60_000)
    finally:
        context.close()


def test_the_queue_import_removes_its_uploads_at_once(app, browser, tmp_path):
    before = set(app.upload_dir.rglob("queue-photo.png"))
    context, page = open_page(browser, app.url)
    try:
        said = import_files(page, [write_image(tmp_path, 320, 240, name="queue-photo.png")])
        assert "Added 1 image(s)" in said
    finally:
        context.close()
    assert set(app.upload_dir.rglob("queue-photo.png")) <= before

"""Safety checks that need a browser (the session's Chromium): a read-only data folder still lets a person
paste and view with a banner saying why saving is off; a closed tab's session folder goes soon after.
"""

from __future__ import annotations

import time
import urllib.parse
import urllib.request

import pytest

from tests.factories import write_image
from tests.security import small_fs
from tests.security.live import LiveApp, NamespacedApp

pytestmark = pytest.mark.slow


def _wait_text(page, selector: str, text: str, timeout: int = 60_000) -> None:
    page.wait_for_function(
        "([sel, text]) => { const el = document.querySelector(sel); return el && el.innerText.includes(text); }",
        arg=[selector, text], timeout=timeout,
    )


def _session_folders(data_dir):
    root = data_dir / "served" / "sessions"
    return [f for instance in root.iterdir() if instance.is_dir() for f in instance.iterdir() if f.is_dir()]


@pytest.fixture
def read_only_app(tmp_path):
    small_fs.needs_small_fs()
    app = NamespacedApp(tmp_path / "app", size="1m", setup="mkdir -p {mount}/data", read_only=True)
    yield app
    app.stop()


def test_paste_and_view_work_on_a_read_only_data_folder(read_only_app, browser, tmp_path):
    app = read_only_app
    photo = write_image(tmp_path, 640, 480, fmt="JPEG", name="kitchen.jpg")
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(app.url)
        banner = page.locator("#storage-banner")
        banner.wait_for(state="visible")
        assert "Saving is off: the data folder is read-only" in banner.inner_text()
        page.get_by_role("tab", name="Try it").click()
        page.locator("#try-upload input[type=file]").set_input_files([str(photo)])
        _wait_text(page, "#geometry-table", "kitchen.jpg")
        page.locator("#try-output textarea").fill('[{"bbox_2d": [322, 238, 644, 476], "label": "cat"}]')
        page.locator("#try-parse").click()
        _wait_text(page, "#try-detections", "cat")
        assert "[320, 240, 640, 480]" in " ".join(page.inner_text("#try-detections").split())
        page.wait_for_function("document.querySelectorAll('#try-drawn img').length >= 1")
        source = page.locator("#try-drawn img").first.get_attribute("src")
        with urllib.request.urlopen(urllib.parse.urljoin(app.url, source), timeout=30) as response:
            assert response.status == 200 and response.read(3) == b"\xff\xd8\xff"  # the drawn JPEG is served
    finally:
        context.close()


@pytest.fixture
def quick_reclaim_app(tmp_path):
    app = LiveApp(tmp_path / "app", {"WORKBENCH_CLOSED_SESSION_SECONDS": "1"})
    yield app
    app.stop()


def test_a_closed_tab_leaves_no_session_folder(quick_reclaim_app, browser, tmp_path):
    app = quick_reclaim_app
    data_dir = app.folder / "data"
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(app.url)
    page.get_by_role("tab", name="Try it").click()
    page.locator("#try-upload input[type=file]").set_input_files([str(write_image(tmp_path, 320, 240, name="a.png"))])
    _wait_text(page, "#geometry-table", "a.png")
    folders = _session_folders(data_dir)
    assert len(folders) == 1 and any(folders[0].rglob("*.jpg"))
    context.close()
    deadline = time.monotonic() + 90
    while folders[0].exists():
        assert time.monotonic() < deadline, "the closed session's folder is still there"
        time.sleep(0.2)
    assert _session_folders(data_dir) == []

"""A browser session's working folder goes soon after its tab closes (not after Gradio's hour)."""

from __future__ import annotations

import time

import pytest

from tests.factories import write_image
from tests.ui.conftest import browser  # noqa: F401 - the browser fixture

pytestmark = pytest.mark.slow


def _folders(data_dir):
    root = data_dir / "sessions"
    return [f for instance in root.iterdir() if instance.is_dir() for f in instance.iterdir() if f.is_dir()]


def test_a_closed_tab_leaves_no_session_folder(start_app, browser, tmp_path):  # noqa: F811
    app = start_app({"WORKBENCH_CLOSED_SESSION_SECONDS": "1"})
    data_dir = app.folder / "data"
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(app.url)
    page.locator("#upload input[type=file]").set_input_files([str(write_image(tmp_path, 320, 240, name="a.png"))])
    page.wait_for_function("() => { const e = document.querySelector('#geometry-table');"
                           " return e && e.innerText.includes('a.png'); }")
    folders = _folders(data_dir)
    assert len(folders) == 1 and any(folders[0].rglob("*.jpg"))
    context.close()
    deadline = time.monotonic() + 90
    while folders[0].exists():
        assert time.monotonic() < deadline, "the closed session's folder is still there"
        time.sleep(0.2)
    assert _folders(data_dir) == []

"""The app started exactly as people start it — the README (``python app.py``, ``workbench serve``), a Space and
the Dockerfile — with no ``WORKBENCH_*`` settings and a fresh HOME outside the working directory and the temp
folder (as ``/home/user`` is on a Space), then the whole loop in Chromium: upload → paste → edit → accept → export.

Every other test gives the app a temporary data folder; these do not, which is how a default data folder
that the web server refused to serve went unnoticed once.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO, wait_answering
from tests.ui.conftest import (
    EXAMPLES,
    drag,
    free_port,
    import_files,
    open_item,
    open_page,
    wait_text,
    wait_version,
)

pytestmark = pytest.mark.slow


def _outside_home() -> Path:
    """A fresh folder that is neither under the working directory nor under the temp folder."""
    for base in (Path("/var/tmp"), Path.home().parent, Path.home()):
        try:
            folder = Path(tempfile.mkdtemp(prefix="wb-home-", dir=base))
        except OSError:
            continue
        temp, repo = Path(tempfile.gettempdir()).resolve(), REPO.resolve()
        if not folder.resolve().is_relative_to(temp) and not folder.resolve().is_relative_to(repo):
            return folder
        shutil.rmtree(folder, ignore_errors=True)
    pytest.skip("no writable folder outside the temp folder and the checkout")


@pytest.fixture(params=["python app.py", "workbench serve", "space", "docker"])
def started(request):
    """The app as one of its launchers starts it; yields (url, the data folder it must use, HOME)."""
    how = request.param
    home = _outside_home()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_") and k not in ("XDG_DATA_HOME",
                                                                                                  "SPACE_ID")}
    env |= {"HOME": str(home), "GRADIO_SERVER_PORT": str(port), "GRADIO_SERVER_NAME": "127.0.0.1",
            "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    data = home / ".local" / "share" / "grounding-workbench"
    command = [sys.executable, "app.py"]
    if how == "workbench serve":
        command = [sys.executable, "-m", "workbench", "serve", "--port", str(port)]
    elif how == "space":  # what a Space sets (no persistent storage mounted at /data here)
        env |= {"SPACE_ID": "someone/grounding-workbench", "SYSTEM": "spaces"}
    elif how == "docker":  # the Dockerfile's ENV: the data folder is the /data volume (here: a folder outside)
        data = home / "data"
        env |= {"WORKBENCH_DATA_DIR": str(data)}
    log = home / "app.log"
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_answering(url, process, log, timeout=120.0)
        yield how, url, data, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(home, ignore_errors=True)


def test_upload_paste_edit_accept_export_with_the_default_data_folder(started, browser, tmp_path):
    how, url, data, log = started
    context, page = open_page(browser, url)
    try:
        if how == "space":  # no persistent storage: the page says what happens to the data
            wait_text(page, "#data-note", "datasets are lost when it restarts")
        message = import_files(page, [EXAMPLES / "cat.jpg"])
        assert "Added 1 image(s)" in message, message
        assert (data / "workbench.sqlite3").is_file()  # the default folder, not a temporary one
        open_item(page, 0)
        thumb = page.locator("#editor .wb-stage img")
        page.wait_for_function("() => { const i = document.querySelector('#editor .wb-stage img'); "
                               "return i && i.complete && i.naturalWidth > 0; }")
        assert thumb.evaluate("i => i.naturalWidth") == 451  # the display copy really reached the browser
        page.locator("#pasted textarea").fill('[{"bbox_2d": [100, 50, 300, 250], "label": "cat"}]')
        page.locator("#parse-item").click()
        wait_text(page, "#notice", "They are the item's boxes now")
        drag(page, (20, 20), (80, 90))  # and one more by hand
        wait_version(page, 3)
        page.keyboard.press("a")
        wait_text(page, "#notice", "accepted")
        page.get_by_role("tab", name="Export").click()
        page.locator("#export").click()
        wait_text(page, "#notice", "Exported 1 sample(s)")
        with page.expect_download() as download:
            page.locator("#export-file a").first.click()
        target = tmp_path / "export.zip"
        download.value.save_as(target)
        with zipfile.ZipFile(target) as zf:
            (entry,) = json.loads(zf.read(next(n for n in zf.namelist() if n.endswith("qwen_finetune.json"))))
        answer = entry["conversations"][1]["value"]
        assert answer.count('"label": "cat"') == 2  # the pasted box and the one drawn by hand
        lines = log.read_text().splitlines()  # errors in the app's log (asyncio's "Exception ignored" at exit aside)
        errors = [n for n, line in enumerate(lines) if line.startswith("Traceback")
                  and not (n and lines[n - 1].startswith("Exception ignored"))]
        assert not errors, "\n".join(lines[errors[0]:errors[0] + 30]) if errors else ""
    finally:
        context.close()


def test_after_a_restart_the_page_opens_the_same_dataset_and_item(browser, tmp_path):
    home = _outside_home()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_") and k != "SPACE_ID"}
    env |= {"HOME": str(home), "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_ANALYTICS_ENABLED": "False",
            "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    port = free_port()
    env["GRADIO_SERVER_PORT"] = str(port)
    url = f"http://127.0.0.1:{port}/"
    context = browser.new_context(viewport={"width": 1400, "height": 1000})  # one browser, its storage kept
    try:
        for run in range(2):
            log = home / f"app-{run}.log"
            with log.open("w") as out:
                process = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=env, stdout=out,
                                           stderr=subprocess.STDOUT)
            try:
                wait_answering(url, process, log, timeout=120.0)
                _, page = open_page(browser, url, context=context)
                if run == 0:
                    import_files(page, [EXAMPLES / "cat.jpg", EXAMPLES / "coffee.jpg"])
                    open_item(page, 1)
                    wait_text(page, "#item-status", "Item 2 ")
                else:  # the app restarted: this browser comes back to the same place
                    wait_text(page, "#item-status", "Item 2 ")
                    assert "my-dataset" in page.inner_text("#counts")
                page.close()
            finally:
                process.terminate()
                process.wait(timeout=30)
    finally:
        context.close()
        shutil.rmtree(home, ignore_errors=True)

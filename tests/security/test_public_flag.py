"""``workbench serve --public`` serves strangers: no server a visitor names, no folder as a model."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import REPO
from tests.factories import write_image
from tests.security.live import Recorder, call, error_text, upload
from tests.ui.conftest import free_port

pytestmark = pytest.mark.slow


def test_serve_public_refuses_what_a_visitor_names(tmp_path):
    target = Recorder("ok")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WORKBENCH_", "SPACE_ID", "OPENAI_"))}
    env |= {"WORKBENCH_DATA_DIR": str(tmp_path / "data"), "GRADIO_TEMP_DIR": str(tmp_path / "gradio"),
            "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1",
            "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen([sys.executable, "-m", "workbench", "serve", "--public", "--port", str(port)], cwd=REPO,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert process.poll() is None and time.monotonic() < deadline, "workbench serve --public did not start"
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                time.sleep(0.3)
        image = upload(url, write_image(tmp_path, 64, 48))
        server = error_text(call(url, "ground", [[image], "Find.", "openai", "", f"{target.url}/v1", "", [], 0, 0, 8]))
        folder = error_text(call(url, "ground", [[image], "Find.", "local", str(tmp_path), "", "", [], 0, 0, 8]))
    finally:
        process.terminate()
        process.wait(timeout=30)
        target.close()
    assert "no server backend" in server
    assert "not offered here" in folder
    assert target.connections == []

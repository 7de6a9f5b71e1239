"""``workbench serve`` and ``python app.py`` start the app on loopback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import REPO
from tests.ui.conftest import free_port


def _wait_up(url: str, process: subprocess.Popen, timeout: float = 120.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited with {process.returncode}: {process.stdout.read()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read().decode("utf-8", "replace")
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer in {timeout:.0f} s")


@pytest.mark.parametrize("how", ["workbench serve", "python app.py"])
def test_the_app_starts(tmp_path, how):
    port = free_port()
    env = os.environ | {"WORKBENCH_DATA_DIR": str(tmp_path / "data"), "GRADIO_SERVER_PORT": str(port),
                        "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    if how == "workbench serve":
        exe = shutil.which("workbench")
        assert exe, "the console script is installed by `pip install -e .`"
        command = [exe, "serve", "--port", str(port)]
    else:
        command = [sys.executable, "app.py"]
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    try:
        page = _wait_up(f"http://127.0.0.1:{port}/", process)
        assert "Grounding Workbench" in page
        assert (tmp_path / "data").is_dir()
    finally:
        process.terminate()
        process.wait(timeout=30)

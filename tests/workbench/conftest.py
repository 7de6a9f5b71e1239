"""Fixtures for backend tests: tiny Qwen-VL checkpoints (built once per session) and a real
``transformers serve`` on 127.0.0.1 serving one of them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.factories import write_image


@pytest.fixture(scope="session")
def qwen25_backend(tiny_qwen25: Path):
    from workbench.backends import LocalTransformersBackend

    return LocalTransformersBackend(str(tiny_qwen25), local_files_only=True)


@pytest.fixture(scope="session")
def two_images(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two images of different sizes and shapes (landscape PNG, portrait JPEG)."""
    folder = tmp_path_factory.mktemp("images")
    return write_image(folder, 640, 480, seed=1), write_image(folder, 300, 500, fmt="JPEG", seed=2)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen, log: Path, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"transformers serve exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"transformers serve did not become healthy in {timeout:.0f} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def serve_url(tiny_qwen25: Path, tmp_path_factory: pytest.TempPathFactory):
    """``transformers serve --host 127.0.0.1 --port P --device cpu TINY`` (real server, offline).

    The Hub cache is pointed at an existing empty folder: ``/v1/models`` scans the cache and
    answers 500 when the folder does not exist.
    """
    folder = tmp_path_factory.mktemp("serve")
    (folder / "hub").mkdir()
    port = _free_port()
    env = os.environ | {"HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(folder / "hub"), "TRANSFORMERS_VERBOSITY": "warning"}
    command = [sys.executable, "-m", "transformers.cli.transformers"]
    log = folder / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [*command, "serve", "--host", "127.0.0.1", "--port", str(port), "--device", "cpu", str(tiny_qwen25)],
            stdout=out, stderr=subprocess.STDOUT, env=env,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, log)
        yield url + "/v1"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

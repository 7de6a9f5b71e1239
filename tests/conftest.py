"""Shared fixtures: the ../shared reference corpus (skipped when absent), tiny Qwen-VL checkpoints and a real
``transformers serve`` on 127.0.0.1 serving one (built or started once per session)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("WORKBENCH_SHARED", REPO.parent / "shared"))
CORPUS_DIR = SHARED / "reference" / "qwen-outputs"


SLOW_FIXTURES = frozenset({"tiny_qwen25", "tiny_qwen3", "serve_url", "live_app", "browser"})
"""Tests that build a model, start a server or a browser belong to the slow tier (CI runs every tier)."""


def pytest_configure(config):
    import tests.budget

    tests.budget.FAST = "not slow" in (config.option.markexpr or "")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


def load_corpus() -> list[dict]:
    """Real Qwen-VL outputs from ../shared, or [] when it is not beside the checkout."""
    path = CORPUS_DIR / "cases.json"
    if not path.is_file():
        return []
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def corpus() -> list[dict]:
    cases = load_corpus()
    if not cases:
        pytest.skip("../shared/reference/qwen-outputs is not available")
    return cases


@pytest.fixture(scope="session")
def corpus_images() -> Path:
    folder = CORPUS_DIR / "images"
    if not folder.is_dir():
        pytest.skip("../shared/reference/qwen-outputs/images is not available")
    return folder


@pytest.fixture(scope="session")
def tiny_qwen25(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random tiny Qwen2.5-VL saved with ``save_pretrained`` (loaded by tests through ``from_pretrained``)."""
    from tests.tiny_model import build_tiny_qwen2_5_vl

    return build_tiny_qwen2_5_vl(tmp_path_factory.mktemp("models") / "tiny-qwen2.5-vl")


@pytest.fixture(scope="session")
def tiny_qwen3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.tiny_model import build_tiny_qwen3_vl

    return build_tiny_qwen3_vl(tmp_path_factory.mktemp("models") / "tiny-qwen3-vl")


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory):
    """``tiny_checkpoint("qwen3.5")``: that family's tiny checkpoint folder, built once per session."""
    from tests.tiny_model import TINY_BUILDERS

    built: dict[str, Path] = {}

    def get(family: str) -> Path:
        if family not in built:
            built[family] = TINY_BUILDERS[family](tmp_path_factory.mktemp("models") / f"tiny-{family}")
        return built[family]

    return get


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_answering(url: str, process: subprocess.Popen, log: Path, timeout: float = 180.0) -> None:
    """Poll ``url`` until it answers (2xx/3xx); fail with the log's tail if ``process`` exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[:4]} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer in {timeout:.0f} s:\n{log.read_text()[-3000:]}")


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
        wait_answering(url + "/health", process, log)
        yield url + "/v1"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven by Playwright: one per test process, for the browser tests of
    ``tests/ui`` and ``tests/security`` alike (two Playwright sessions cannot share a process)."""
    from tests.ui.conftest import CHROMIUM, CHROMIUM_ARGS

    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (make test installs it)")
    with playwright.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()

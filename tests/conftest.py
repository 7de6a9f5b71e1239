"""Shared fixtures: the ../shared reference corpus (skipped when absent) and image factories."""

from __future__ import annotations

import json
import os
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

"""Fixtures for backend tests: the tiny Qwen2.5-VL as a local backend, and two test images.

The tiny checkpoints and the real ``transformers serve`` (``serve_url``) live in tests/conftest.py."""

from __future__ import annotations

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

"""Fixtures for batch tests: a second ``transformers serve`` whose own default limits are the test limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from grounding import PixelLimits
from tests.factories import write_image
from tests.workbench.batch.serve import TransformersServe

TEST_LIMITS = PixelLimits(3136, 256 * 28 * 28)
"""Small limits, so the geometry probes stay cheap for the tiny model on a CPU."""


@pytest.fixture(scope="session")
def limited_server(tiny_qwen25: Path, tmp_path_factory: pytest.TempPathFactory):
    """A server started with TEST_LIMITS as its own defaults."""
    server = TransformersServe(tiny_qwen25, tmp_path_factory.mktemp("serve-limited"), limits=TEST_LIMITS).start()
    try:
        yield server.wait_healthy()
    finally:
        server.stop()


@pytest.fixture(scope="session")
def image_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """29 small images of assorted sizes and one file that is not an image (30 items)."""
    folder = tmp_path_factory.mktemp("batch-images")
    for n in range(29):
        write_image(folder, 160 + 8 * (n % 7), 120 + 8 * (n % 5), seed=n, name=f"img{n:02d}.png")
    (folder / "img99_broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a JPEG")
    return folder

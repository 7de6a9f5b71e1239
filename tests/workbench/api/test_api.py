"""The plain API functions check every argument's type and range and answer in words."""

from __future__ import annotations

import pytest

from tests.factories import write_image
from workbench.api import ground_images, image_geometry, parse_output
from workbench.api.args import ArgumentError
from workbench.backends import FakeBackend
from workbench.services import Services


@pytest.mark.parametrize("args, message", [
    pytest.param((5, "qwen2.5-vl", [[640, 480]]), "text must be text, got a number", id="text-number"),
    pytest.param(("[]", None, [[640, 480]]), "family must be text, got nothing", id="family-null"),
    pytest.param(("[]", "llava", [[640, 480]]), "unknown model family 'llava'", id="family-unknown"),
    pytest.param(("[]", "qwen2.5-vl", "640x480"), "original_sizes must be a list", id="sizes-text"),
    pytest.param(("[]", "qwen2.5-vl", [[640]]), r"original_sizes\[0\] must be a \[W, H\] pair", id="sizes-short"),
    pytest.param(("[]", "qwen2.5-vl", [[0, 480]]), r"width must be at least 1", id="sizes-zero"),
    pytest.param(("[]", "qwen2.5-vl", [[640, 480]], "many"), "min_pixels must be a whole number, got text", id="min"),
    pytest.param(("[]", "qwen2.5-vl", [[640, 480]], 5000, 100), "larger than max_pixels", id="min>max"),
])
def test_parse_arguments(args, message):
    with pytest.raises(ArgumentError, match=message):
        parse_output(*args)


def test_geometry_names_files_by_the_visitors_name(tmp_path):
    photo = write_image(tmp_path, 60, 40, name="tmp-on-server.png")
    text = tmp_path / "tmp-notes.png"
    text.write_text("hello")
    entries = image_geometry([photo, text], names=["mine.png", "notes.png"])
    assert entries[0]["file"] == "mine.png" and entries[0]["original"] == [60, 40]
    assert entries[1] == {"file": "notes.png", "error": "notes.png: not an image, or a format Pillow cannot read"}
    assert str(tmp_path) not in str(entries)


@pytest.fixture
def services(tmp_path):
    return Services.create(tmp_path / "data", backend_factory=lambda kind, **o: FakeBackend(lambda r, g: "[]"))


@pytest.mark.parametrize("kwargs, message", [
    pytest.param({"max_new_tokens": "abc"}, "max_new_tokens must be a whole number, got text", id="tokens-text"),
    pytest.param({"max_new_tokens": 10**12}, "max_new_tokens must be at most 8192", id="tokens-huge"),
    pytest.param({"max_new_tokens": 0}, "max_new_tokens must be at least 1", id="tokens-zero"),
    pytest.param({"min_pixels": 50_000_000}, "min_pixels must be at most 16777216", id="min-pixels"),
    pytest.param({"backend": "shell"}, "backend must be one of local, openai", id="backend"),
    pytest.param({"image_ids": "front"}, "image_ids must be a list of text", id="ids"),
    pytest.param({"image_ids": [1]}, r"image_ids\[0\] must be text, got a number", id="id-number"),
    pytest.param({"model": ["x"]}, "model must be text, got a list", id="model-list"),
    pytest.param({"backend": "local", "base_url": "http://127.0.0.1:9/v1"}, "local backend takes none", id="local-url"),
])
def test_ground_arguments(services, tmp_path, kwargs, message):
    image = write_image(tmp_path, 64, 64)
    with pytest.raises(ArgumentError, match=message):
        ground_images([image], "Find the cat.", services=services, **{"backend": "local", **kwargs})


def test_ground_runs_with_good_arguments(services, tmp_path):
    image = write_image(tmp_path, 64, 64, name="server-side-name.png")
    result = ground_images([image], "Find the cat.", services=services, backend="local", names=["cat.png"],
                           max_new_tokens=16.0)
    assert result["images"][0]["file"] == "cat.png" and result["detections"] == []

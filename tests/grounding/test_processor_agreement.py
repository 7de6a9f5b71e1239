"""Header-only geometry equals the real transformers image processor's ``image_grid_thw`` on real pixels.

Each sample is a real image file (JPEG, PNG or WEBP, some with EXIF rotation); we read its header
with ``grounding.probe_image`` and separately decode it, EXIF-transpose it and run the Qwen image
processor (saved and reloaded with ``from_pretrained``, as a checkpoint ships it) on its pixels.
"""

from __future__ import annotations

import random

import pytest

from grounding import FAMILIES, GeometryError, PixelLimits, probe_image
from tests.factories import write_image

transformers = pytest.importorskip("transformers")
from PIL import Image, ImageOps  # noqa: E402

SAMPLES = 360
MAX_AREA = 1_500_000


def _limits(family) -> list[PixelLimits]:
    f2 = family.factor**2
    return [PixelLimits.default_for(family), PixelLimits(3136, 1280 * 28 * 28), PixelLimits(784, 50176),
            PixelLimits(256 * f2, 256 * f2)]


def _random_size(rng: random.Random) -> tuple[int, int]:
    kind = rng.random()
    if kind < 0.15:  # tiny
        return rng.randint(1, 40), rng.randint(1, 40)
    if kind < 0.35:  # extreme aspect ratio, up to the limit of 200
        short = rng.randint(1, 12)
        return rng.randint(short * 100, short * 200), short
    while True:
        w, h = int(10 ** rng.uniform(1, 3.6)), int(10 ** rng.uniform(1, 3.6))
        if w * h <= MAX_AREA:
            return w, h


def _cases() -> list[tuple]:
    rng = random.Random(20261121)
    cases = []
    for index in range(SAMPLES):
        family = FAMILIES[index % len(FAMILIES)]
        limits = rng.choice(_limits(family))
        w, h = _random_size(rng)
        if rng.random() < 0.5:
            w, h = h, w
        fmt = rng.choice(["JPEG", "PNG", "WEBP"]) if max(w, h) < 16383 else "PNG"
        orientation = rng.choice([None, 1, 3, 6, 8])
        cases.append((index, family, limits, (w, h), fmt, orientation))
    return cases


@pytest.fixture(scope="module")
def processors(tmp_path_factory):
    """One real image processor per (family, limits), saved and loaded back with from_pretrained."""
    from transformers import AutoImageProcessor, Qwen2VLImageProcessor

    cache = {}
    for family in FAMILIES:
        for limits in _limits(family):
            folder = tmp_path_factory.mktemp(f"{family.name}-{limits.min_pixels}-{limits.max_pixels}")
            Qwen2VLImageProcessor(
                patch_size=family.patch_size, merge_size=family.merge_size,
                temporal_patch_size=family.temporal_patch_size, size=limits.as_processor_size(),
            ).save_pretrained(folder)
            cache[family.name, limits] = AutoImageProcessor.from_pretrained(folder)
    return cache


@pytest.mark.parametrize(("index", "family", "limits", "stored_wh", "fmt", "orientation"), _cases(),
                         ids=lambda v: None)
def test_header_geometry_equals_processor_grid(tmp_path, processors, index, family, limits, stored_wh, fmt,
                                               orientation):
    path = write_image(tmp_path, *stored_wh, fmt=fmt, orientation=orientation, seed=index)
    processor = processors[family.name, limits]
    with Image.open(path) as image:
        pixels = ImageOps.exif_transpose(image).convert("RGB")
    try:
        grid = processor(images=[pixels], return_tensors="pt")["image_grid_thw"].tolist()[0]
    except ValueError as exc:  # the processor refuses (aspect ratio): so must we
        assert "aspect ratio" in str(exc)
        with pytest.raises(GeometryError):
            probe_image(path, family, limits)
        return
    geometry = probe_image(path, family, limits)
    assert geometry.original_wh == pixels.size
    assert list(geometry.grid_thw) == grid
    assert geometry.tokens == grid[0] * grid[1] * grid[2] // family.merge_size**2

"""Test data factories: real image files of given sizes, formats and EXIF orientations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import ExifTags, Image


def make_image(width: int, height: int, *, seed: int = 0) -> Image.Image:
    """An RGB image with a gradient and a little noise, so encoders do real work."""
    rng = np.random.default_rng(seed)
    xs = np.linspace(0, 255, width, dtype=np.float32)[None, :, None]
    ys = np.linspace(0, 255, height, dtype=np.float32)[:, None, None]
    base = np.concatenate([np.broadcast_to(xs, (height, width, 1)), np.broadcast_to(ys, (height, width, 1)),
                           np.full((height, width, 1), 128, np.float32)], axis=2)
    noise = rng.integers(0, 16, size=(height, width, 3), dtype=np.uint8)
    return Image.fromarray((base + noise).clip(0, 255).astype(np.uint8), "RGB")


def write_image(folder: Path, width: int, height: int, *, fmt: str = "PNG", orientation: int | None = None,
                seed: int = 0, name: str | None = None) -> Path:
    """Write a ``width`` x ``height`` image (stored size) in ``fmt``, with an EXIF orientation if given."""
    image = make_image(width, height, seed=seed)
    suffix = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}.get(fmt, "." + fmt.lower())
    path = folder / (name or f"img_{width}x{height}_{seed}{suffix}")
    kwargs = {}
    if orientation is not None:
        exif = Image.Exif()
        exif[ExifTags.Base.Orientation] = orientation
        kwargs["exif"] = exif.tobytes()
    image.save(path, fmt, **kwargs)
    return path

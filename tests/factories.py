"""Test data factories: real image files of given sizes, formats and EXIF orientations."""

from __future__ import annotations

import functools
import io
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
    """Write a ``width`` x ``height`` image (stored size) in ``fmt``, with an EXIF orientation if given.

    The same arguments always give the same bytes; they are encoded once per test process.
    """
    suffix = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}.get(fmt, "." + fmt.lower())
    path = folder / (name or f"img_{width}x{height}_{seed}{suffix}")
    encode = _encoded if width * height <= 4_000_000 else _encoded.__wrapped__
    path.write_bytes(encode(width, height, fmt, orientation, seed))
    return path


@functools.lru_cache(maxsize=64)
def _encoded(width: int, height: int, fmt: str, orientation: int | None, seed: int) -> bytes:
    kwargs = {}
    if orientation is not None:
        exif = Image.Exif()
        exif[ExifTags.Base.Orientation] = orientation
        kwargs["exif"] = exif.tobytes()
    buffer = io.BytesIO()
    make_image(width, height, seed=seed).save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def write_black_png(path: Path, width: int, height: int, *, mode: str = "L") -> Path:
    """An all-black PNG of any declared size, written row by row (a few KB for gigapixels).

    What a "decompression bomb" upload looks like: tiny on disk, ``width * height`` pixels decoded.
    """
    import struct
    import zlib

    depth, colour, row_bytes = (8, 0, width) if mode == "L" else (8, 2, 3 * width)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    packer = zlib.compressobj(9)
    row = b"\0" * (1 + row_bytes)
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return path

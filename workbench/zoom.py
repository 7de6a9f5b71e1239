"""Pixels for a zoomed view: a region of a stored image at the resolution the screen needs, as a JPEG.

The editor shows a display copy (1600 pixels at most on the long side); zoomed in, that copy enlarged
would show blurred display pixels, so the editor asks for the visible region at its screen size
instead. The image is decoded upright at the smallest scale that still gives the screen at least one
image pixel per screen pixel (a JPEG at 1/2, 1/4 or 1/8 scale through libjpeg's scaled decoding, or
at full size), the region cut from it and shrunk to the screen size when it is larger; never enlarged,
so at full zoom one screen pixel shows at most one pixel of the original. Decoded images are kept in
a small memory cache (least recently used first out, :data:`CACHE_BYTES` in all), so the crops that
follow a first zoom on an image cost a cut and an encode, not a decode.

>>> import tempfile
>>> from pathlib import Path
>>> from PIL import Image
>>> path = Path(tempfile.mkdtemp()) / "big.jpg"; Image.new("RGB", (4000, 3000), "gray").save(path)
>>> crops = ZoomCrops()
>>> crop = crops.crop(path, (4000, 3000), (1000, 1000, 1400, 1300), (800, 600))
>>> crop.size, crop.box, crop.scale   # 400 x 300 original pixels: shown as they are, never enlarged
((400, 300), (1000.0, 1000.0, 1400.0, 1300.0), 1)
>>> ZoomCrops().crop(path, (4000, 3000), (0, 0, 4000, 3000), (800, 600)).scale   # a quarter-scale decode suffices
4
>>> crops.crop(path, (4000, 3000), (0, 0, 4000, 3000), (800, 600)).scale   # or the full-size one already there
1
"""

from __future__ import annotations

import math
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from grounding.decode import decode_upright

__all__ = ["CACHE_BYTES", "MAX_OUT_SIDE", "Crop", "ZoomCrops"]

CACHE_BYTES = 384 << 20
"""Decoded pixels kept in memory (a 12 MP photo at full size is 36 MB)."""
MAX_OUT_SIDE = 4096
"""Largest crop side sent to a browser (a 4K screen at full width)."""
_SCALES = (8, 4, 2, 1)
"""Decode scales, smallest image first (libjpeg's scaled decoding; other formats decode at 1)."""


@dataclass(frozen=True)
class Crop:
    jpeg: bytes
    size: tuple[int, int]
    """Pixel size of the JPEG."""
    box: tuple[float, float, float, float]
    """The region it shows, in upright original pixels (the asked region, cut to the image)."""
    scale: int
    """The decode scale it was cut from (1: full size)."""


class ZoomCrops:
    """Crops of images, with the decoded images they come from cached; safe to share between threads."""

    def __init__(self, cache_bytes: int = CACHE_BYTES) -> None:
        self.cache_bytes = cache_bytes
        self._decoded: OrderedDict[tuple[str, int], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._decoding: dict[tuple[str, int], threading.Lock] = {}

    def crop(self, source: str | os.PathLike, original_wh: tuple[int, int], box: tuple[float, float, float, float],
             out_wh: tuple[int, int], *, quality: int = 90) -> Crop:
        """The region ``box`` (upright original pixels) of ``source`` (whose upright size is ``original_wh``) for a
        screen area of ``out_wh`` pixels. Raises ``ValueError`` for an empty region or screen area and the
        decoder's errors for a file that cannot be read."""
        width, height = original_wh
        x0, y0 = max(0.0, float(box[0])), max(0.0, float(box[1]))
        x1, y1 = min(float(width), float(box[2])), min(float(height), float(box[3]))
        out_w, out_h = (min(MAX_OUT_SIDE, max(0, int(v))) for v in out_wh)
        if x1 - x0 < 1 or y1 - y0 < 1 or out_w < 1 or out_h < 1:
            raise ValueError(f"nothing to show: region {box} of a {width}x{height} image on {out_wh} pixels")
        needed = max(out_w / (x1 - x0), out_h / (y1 - y0))  # screen pixels per original pixel
        scale = next((s for s in _SCALES if 1 / s >= needed), 1)
        cached = self._cached_finer(Path(source), scale)
        if cached is not None:
            scale, pixels = cached
        else:
            pixels = self._pixels(Path(source), original_wh, scale)
        kx, ky = pixels.shape[1] / width, pixels.shape[0] / height
        left, top = math.floor(x0 * kx), math.floor(y0 * ky)
        right, bottom = max(left + 1, math.ceil(x1 * kx)), max(top + 1, math.ceil(y1 * ky))
        region = pixels[top:bottom, left:right]
        fit = min(1.0, out_w / region.shape[1], out_h / region.shape[0])
        if fit < 1.0:
            size = (max(1, round(region.shape[1] * fit)), max(1, round(region.shape[0] * fit)))
            region = cv2.resize(region, size, interpolation=cv2.INTER_AREA)
        ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(region, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            raise ValueError("the crop could not be encoded")
        return Crop(encoded.tobytes(), (region.shape[1], region.shape[0]), (left / kx, top / ky, right / kx, bottom / ky),
                    scale)

    def warm(self, source: str | os.PathLike, original_wh: tuple[int, int]) -> None:
        """Decode the image at full size now (a view starts zooming in): the crops that follow are cut from it."""
        self._pixels(Path(source), original_wh, 1)

    def _cached_finer(self, source: Path, scale: int) -> tuple[int, np.ndarray] | None:
        """(scale, pixels) already decoded at ``scale`` or finer (more pixels than needed, shrunk when cut)."""
        with self._lock:
            for finer in sorted((s for s in _SCALES if s <= scale), reverse=True):
                found = self._decoded.get((str(source), finer))
                if found is not None:
                    self._decoded.move_to_end((str(source), finer))
                    return finer, found
        return None

    def _pixels(self, source: Path, original_wh: tuple[int, int], scale: int) -> np.ndarray:
        key = (str(source), scale)
        with self._lock:
            if key in self._decoded:
                self._decoded.move_to_end(key)
                return self._decoded[key]
            gate = self._decoding.setdefault(key, threading.Lock())
        with gate:  # one decode per image and scale, however many crops ask at once
            with self._lock:
                if key in self._decoded:
                    return self._decoded[key]
            want = (max(1, -(-original_wh[0] // scale)), max(1, -(-original_wh[1] // scale)))
            pixels = np.asarray(decode_upright(source, at_least_wh=want if scale > 1 else None))
            with self._lock:
                self._decoded[key] = pixels
                total = sum(p.nbytes for p in self._decoded.values())
                while total > self.cache_bytes and len(self._decoded) > 1:
                    _, dropped = self._decoded.popitem(last=False)
                    total -= dropped.nbytes
                self._decoding.pop(key, None)
            return pixels

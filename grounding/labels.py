"""Label tags for drawn detections: rendered once per (text, font, colour), placed so they do not overlap.

supervision's ``RichLabelAnnotator`` measures and renders every label's text on every call and its
smart positioning runs an iterative spread; with a CJK font that is about 1 ms per label, most of
the time of a drawing. Here a tag (text on its colour) is rendered once and cached, so a label seen
before costs a paste; a tag goes above its box when there is room, else inside its top edge, below
it or inside its bottom edge, the first of these that does not cover a tag already placed.

>>> place_tags([(10, 50, 100, 90), (12, 52, 90, 95)], [(40, 20), (40, 20)], (200, 200))
[(10, 30), (12, 52)]
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = ["label_tag", "place_tags", "text_color_for"]

Box = tuple[float, float, float, float]


@lru_cache(maxsize=16)
def _font(font_path: str | None, font_size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if font_path is None:
        return ImageFont.load_default(font_size)
    return ImageFont.truetype(font_path, font_size)


def text_color_for(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """Black on light colours, white on dark ones (relative luminance).

    >>> text_color_for((255, 255, 0)), text_color_for((0, 0, 128))
    ((0, 0, 0), (255, 255, 255))
    """
    r, g, b = rgb
    return (0, 0, 0) if 0.299 * r + 0.587 * g + 0.114 * b > 150 else (255, 255, 255)


@lru_cache(maxsize=1024)
def label_tag(text: str, font_path: str | None, font_size: int, rgb: tuple[int, int, int], padding: int,
              bgr: bool = False) -> np.ndarray:
    """The tag of ``text``: an (h, w, 3) array, the text on ``rgb`` with ``padding`` around it (read-only, cached).

    Channels in RGB order, or BGR (OpenCV's) with ``bgr``.

    >>> tag = label_tag("cat", None, 12, (255, 0, 0), 2, bgr=True)
    >>> tag.shape[2], tag[0, 0].tolist()
    (3, [0, 0, 255])
    """
    font = _font(font_path, font_size)
    left, _top, right, bottom = font.getbbox(text or " ")
    ascent, descent = font.getmetrics() if hasattr(font, "getmetrics") else (bottom, 0)
    w, h = max(1, int(right - left)) + 2 * padding, int(ascent + descent) + 2 * padding
    tag = Image.new("RGB", (w, h), rgb)
    ImageDraw.Draw(tag).text((padding - left, padding), text, font=font, fill=text_color_for(rgb))
    pixels = np.ascontiguousarray(np.asarray(tag)[:, :, ::-1]) if bgr else np.asarray(tag)
    pixels.flags.writeable = False
    return pixels


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> int:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0


def _is_free(rect: tuple[int, int, int, int], placed: list[tuple[int, int, int, int]]) -> bool:
    x0, y0, x1, y1 = rect
    return all(not (a0 < x1 and x0 < a1 and b0 < y1 and y0 < b1) for a0, b0, a1, b1 in placed)


def place_tags(boxes: Sequence[Box], sizes: Sequence[tuple[int, int]], image_wh: tuple[int, int]) -> list[tuple[int, int]]:
    """Top-left corner of each tag (sizes ``(w, h)``) for its box, in order, inside the image.

    Candidates: above the box, inside its top edge, below it, inside its bottom edge; the first that
    covers no tag placed before wins, else the one covering least.
    """
    width, height = image_wh
    placed: list[tuple[int, int, int, int]] = []
    for (x1, y1, _x2, y2), (tw, th) in zip(boxes, sizes, strict=True):
        x = int(min(max(round(x1), 0), max(0, width - tw)))
        candidates = [(x, y, x + tw, y + th) for y in
                      (int(min(max(round(y), 0), max(0, height - th))) for y in (y1 - th, y1, y2, y2 - th))]
        chosen = next((rect for rect in candidates if _is_free(rect, placed)), None)
        if chosen is None:
            chosen = min(candidates, key=lambda rect: sum(_overlap(rect, other) for other in placed))
        placed.append(chosen)
    return [(rect[0], rect[1]) for rect in placed]


def paste_tag(scene: np.ndarray, tag: np.ndarray, corner: tuple[int, int]) -> None:
    """Copy ``tag`` into ``scene`` (same channel order) at ``corner``, cut at the image edges."""
    x, y = corner
    h, w = tag.shape[:2]
    sh, sw = scene.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, sw), min(y + h, sh)
    if x1 > x0 and y1 > y0:
        scene[y0:y1, x0:x1] = tag[y0 - y:y1 - y, x0 - x:x1 - x]

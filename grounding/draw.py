"""Draw parsed boxes and points on an original image with supervision's annotators.

Colours are fixed per label (a hash of the label picks the palette entry), so "cat" has the
same colour on every image and in every run. Labels use a CJK-capable font (:mod:`grounding.fonts`).
Boxes that leave the image are clamped to its edge, get warning-coloured corners and an
"(outside)" note. Images larger than ``DrawStyle.max_side`` are drawn on a display-sized copy,
coordinates scaled with it; line widths and font size follow the drawn size.

>>> from PIL import Image
>>> from grounding.parse import Detection
>>> box = Detection("box", "cat", 1, (0, 0, 500, 500), (100.0, 100.0, 3000.0, 2000.0), False)
>>> draw_detections(Image.new("RGB", (4032, 3024)), [box]).size
(2048, 1536)
"""

from __future__ import annotations

import warnings
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import supervision as sv
from PIL import Image, ImageOps

from grounding.display import DisplayScale
from grounding.fonts import cjk_font_path
from grounding.parse.result import Detection

__all__ = ["DrawStyle", "draw_detections", "label_color_index"]

PALETTE = sv.ColorPalette.DEFAULT


@dataclass(frozen=True)
class DrawStyle:
    """How detections look. ``None`` sizes follow the drawn image (about 1/400 and 1/45 of its short side)."""

    max_side: int = 2048
    thickness: int | None = None
    font_size: int | None = None
    point_radius: int | None = None
    outside_color: str = "#FF1744"
    show_labels: bool = True


def label_color_index(label: str) -> int:
    """Palette entry for a label: the same label always gets the same colour.

    >>> label_color_index("cat") == label_color_index("cat")
    True
    """
    return zlib.crc32(label.encode("utf-8")) % len(PALETTE.colors)


@lru_cache(maxsize=32)
def _annotators(thickness: int, font_size: int, radius: int, outside_color: str, font_path: str | None):
    return (
        sv.BoxAnnotator(color=PALETTE, thickness=thickness, color_lookup=sv.ColorLookup.CLASS),
        sv.BoxCornerAnnotator(color=sv.Color.from_hex(outside_color), thickness=thickness * 2,
                              corner_length=max(8, thickness * 6), color_lookup=sv.ColorLookup.INDEX),
        sv.DotAnnotator(color=PALETTE, radius=radius, color_lookup=sv.ColorLookup.CLASS,
                        outline_thickness=max(1, thickness // 2), outline_color=sv.Color.WHITE),
        sv.RichLabelAnnotator(color=PALETTE, color_lookup=sv.ColorLookup.CLASS, font_path=font_path,
                              font_size=font_size, text_padding=max(2, font_size // 4), smart_position=True),
    )


def _font_path() -> str | None:
    path = cjk_font_path()
    if path is None:
        warnings.warn("no CJK font found (install fonts-noto-cjk or set WORKBENCH_FONT): "
                      "labels use Pillow's default font, CJK characters will not show", stacklevel=3)
    return path


def _to_sv(detections: Sequence[Detection], scale: DisplayScale, point_margin: float = 0.0) -> sv.Detections:
    """Display-space ``sv.Detections`` (:meth:`DisplayScale.to_display`), clamped into the copy.

    Points become boxes ``point_margin`` around them, so their labels sit beside the dot, not on it.
    """
    w, h = scale.display_wh
    rows = []
    for d in detections:
        xyxy = d.original if d.kind == "box" else (*d.original, *d.original)
        x1, y1, x2, y2 = scale.to_display(xyxy)
        if d.kind == "point":
            x1, y1, x2, y2 = x1 - point_margin, y1 - point_margin, x2 + point_margin, y2 + point_margin
        rows.append((min(max(x1, 0), w - 1), min(max(y1, 0), h - 1), min(max(x2, 0), w - 1), min(max(y2, 0), h - 1)))
    return sv.Detections(
        xyxy=np.array(rows, dtype=float).reshape(-1, 4),
        class_id=np.array([label_color_index(d.label) for d in detections], dtype=int),
    )


def _orientation(image: Image.Image) -> int | None:
    return image.getexif().get(0x0112)


def _display_copy(image: Image.Image, max_side: int) -> Image.Image:
    """An RGB copy, EXIF orientation applied, longer side at most ``max_side`` (one full-size copy at most)."""
    scene = ImageOps.exif_transpose(image) if _orientation(image) not in (1, None) else image
    if scene.mode not in ("RGB", "RGBA", "L"):
        scene = scene.convert("RGB")
    fit = DisplayScale.fit(scene.size, max_side)
    if not fit.is_identity:
        # reducing_gap: box-reduce by an integer factor first, then resample (fast, and sharp enough to look at)
        scene = scene.resize(fit.display_wh, Image.Resampling.BILINEAR, reducing_gap=2.0)
    elif scene is image:
        scene = scene.copy()
    return scene if scene.mode == "RGB" else scene.convert("RGB")


def draw_detections(image: Image.Image, detections: Sequence[Detection], *, style: DrawStyle = DrawStyle()) -> Image.Image:
    """A drawn RGB copy of ``image`` (EXIF orientation applied, display-sized); the input is not changed.

    ``detections`` are drawn from their ``original`` coordinates, so pass those of this image
    (``ParseResult.for_image(n)``).
    """
    scene = _display_copy(image, style.max_side)
    ow, oh = image.size[::-1] if _orientation(image) in (5, 6, 7, 8) else image.size  # original pixels, upright
    w, h = scene.size
    if not detections:
        return scene
    short = min(w, h)
    thickness = style.thickness or max(2, round(short / 400))
    font_size = style.font_size or max(12, round(short / 45))
    radius = style.point_radius or max(5, thickness * 3)
    box_ann, outside_ann, dot_ann, label_ann = _annotators(thickness, font_size, radius, style.outside_color,
                                                           _font_path() if style.show_labels else None)
    scale = DisplayScale((ow, oh), (w, h))
    boxes = [d for d in detections if d.kind == "box"]
    points = [d for d in detections if d.kind == "point"]
    outside = [d for d in boxes if d.outside]
    if boxes:
        scene = box_ann.annotate(scene, _to_sv(boxes, scale))
    if outside:
        scene = outside_ann.annotate(scene, _to_sv(outside, scale))
    if style.show_labels:
        ordered = [*boxes, *points]
        labels = [(d.label or "?") + (" (outside)" if d.outside else "") for d in ordered]
        scene = label_ann.annotate(scene, _to_sv(ordered, scale, point_margin=radius + thickness), labels=labels)
    if points:  # last, so no label covers a dot
        scene = dot_ann.annotate(scene, _to_sv(points, scale))
    return scene

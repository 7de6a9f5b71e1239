"""Draw parsed boxes and points on an original image with supervision's annotators.

Colours are fixed per label (a hash of the label picks the palette entry), so "cat" has the
same colour on every image and in every run. Labels use a CJK-capable font (:mod:`grounding.fonts`)
and are drawn as cached tags placed so they do not overlap (:mod:`grounding.labels`).
Boxes that leave the image are clamped to its edge, get warning-coloured corners and an
"(outside)" note. Images larger than ``DrawStyle.max_side`` are drawn on a display-sized copy,
coordinates scaled with it (:class:`~grounding.display.DisplayScale`); line widths and font size
follow the drawn size.

:func:`draw_file` draws straight from a file: a JPEG is decoded at 1/2, 1/4 or 1/8 scale when
that is still at least the display size, so a 12 MP photo is never decoded at full size to be
shown at 1600 pixels. OpenCV decodes it (libjpeg-turbo's scaled decoding, like Pillow's
``draft``) straight into the BGR array everything is drawn on, so neither a Pillow-to-numpy copy
nor a channel swap comes before the drawing; the EXIF orientation (from the header) is applied
to the small copy. Other formats go through :func:`grounding.decode.decode_upright`. The
drawing is done on that one OpenCV (BGR) array, so supervision's box annotators convert nothing.

>>> from PIL import Image
>>> from grounding.parse import Detection
>>> box = Detection("box", "cat", 1, (0, 0, 500, 500), (100.0, 100.0, 3000.0, 2000.0), False)
>>> draw_detections(Image.new("RGB", (4032, 3024)), [box]).size
(2048, 1536)
"""

from __future__ import annotations

import os
import warnings
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import supervision as sv
from PIL import Image, ImageOps

from grounding.decode import DecodeSource, decode_upright
from grounding.display import DisplayScale
from grounding.fonts import cjk_font_path
from grounding.image_size import ImageSize, read_image_size
from grounding.labels import label_tag, paste_tag, place_tags
from grounding.parse.result import Detection

__all__ = ["DrawStyle", "draw_detections", "draw_file", "label_color_index"]

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
def _annotators(thickness: int, radius: int, outside_color: str):
    return (
        sv.BoxAnnotator(color=PALETTE, thickness=thickness, color_lookup=sv.ColorLookup.CLASS),
        sv.BoxCornerAnnotator(color=sv.Color.from_hex(outside_color), thickness=thickness * 2,
                              corner_length=max(8, thickness * 6), color_lookup=sv.ColorLookup.INDEX),
        sv.DotAnnotator(color=PALETTE, radius=radius, color_lookup=sv.ColorLookup.CLASS,
                        outline_thickness=max(1, thickness // 2), outline_color=sv.Color.WHITE),
    )


def _font_path() -> str | None:
    path = cjk_font_path()
    if path is None:
        warnings.warn("no CJK font found (install fonts-noto-cjk or set WORKBENCH_FONT): "
                      "labels use Pillow's default font, CJK characters will not show", stacklevel=4)
    return path


def _display_boxes(detections: Sequence[Detection], scale: DisplayScale, point_margin: float = 0.0) -> np.ndarray:
    """(n, 4) display-space boxes (:meth:`DisplayScale.to_display`), clamped into the copy.

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
    return np.array(rows, dtype=float).reshape(-1, 4)


def _to_sv(detections: Sequence[Detection], scale: DisplayScale, point_margin: float = 0.0) -> sv.Detections:
    return sv.Detections(
        xyxy=_display_boxes(detections, scale, point_margin),
        class_id=np.array([label_color_index(d.label) for d in detections], dtype=int),
    )


def _orientation(image: Image.Image) -> int | None:
    return image.getexif().get(0x0112)


def _bgr(rgb: np.ndarray, size_wh: tuple[int, int]) -> np.ndarray:
    """A new BGR array of ``size_wh`` from RGB pixels: area averaging when shrinking by 2 or more, bilinear otherwise."""
    h, w = rgb.shape[:2]
    if (w, h) != tuple(size_wh):
        shrink = min(w / size_wh[0], h / size_wh[1])
        rgb = cv2.resize(rgb, size_wh, interpolation=cv2.INTER_AREA if shrink >= 2 else cv2.INTER_LINEAR)
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR, dst=rgb)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


_REDUCED = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4,
            8: cv2.IMREAD_REDUCED_COLOR_8}
_UPRIGHT = {  # EXIF orientation -> what ImageOps.exif_transpose does, on a BGR array
    2: lambda a: cv2.flip(a, 1), 3: lambda a: cv2.rotate(a, cv2.ROTATE_180), 4: lambda a: cv2.flip(a, 0),
    5: cv2.transpose, 6: lambda a: cv2.rotate(a, cv2.ROTATE_90_CLOCKWISE),
    7: lambda a: cv2.flip(cv2.transpose(a), -1), 8: lambda a: cv2.rotate(a, cv2.ROTATE_90_COUNTERCLOCKWISE),
}


def _jpeg_bgr(source: DecodeSource, header: ImageSize, at_least_wh: tuple[int, int]) -> np.ndarray | None:
    """Upright BGR pixels of a JPEG decoded at the smallest of 1/1..1/8 scale still at least ``at_least_wh``.

    None when ``source`` is not a JPEG path or bytes, or OpenCV cannot decode it (Pillow then decodes
    it, or says what is wrong).
    """
    if header.format not in ("JPEG", "MPO") or not isinstance(source, (str, os.PathLike, bytes, bytearray)):
        return None
    swapped = header.orientation in (5, 6, 7, 8)
    stored_w, stored_h = (header.height, header.width) if swapped else header.wh
    want_w, want_h = (at_least_wh[1], at_least_wh[0]) if swapped else at_least_wh
    factor = max((f for f in _REDUCED if -(-stored_w // f) >= want_w and -(-stored_h // f) >= want_h), default=1)
    try:
        data = bytes(source) if isinstance(source, (bytes, bytearray)) else Path(source).read_bytes()
    except OSError:
        return None
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), _REDUCED[factor] | cv2.IMREAD_IGNORE_ORIENTATION)
    if bgr is None or bgr.ndim != 3:
        return None
    turn = _UPRIGHT.get(header.orientation)
    return turn(bgr) if turn else bgr


def _fit(bgr: np.ndarray, size_wh: tuple[int, int]) -> np.ndarray:
    """``bgr`` at ``size_wh``: area averaging when shrinking by 2 or more, bilinear otherwise."""
    h, w = bgr.shape[:2]
    if (w, h) == tuple(size_wh):
        return bgr
    shrink = min(w / size_wh[0], h / size_wh[1])
    return cv2.resize(bgr, size_wh, interpolation=cv2.INTER_AREA if shrink >= 2 else cv2.INTER_LINEAR)


def _display_copy(image: Image.Image, max_side: int) -> tuple[np.ndarray, tuple[int, int]]:
    """BGR pixels of the upright image, longer side at most ``max_side``, and the upright original size."""
    scene = ImageOps.exif_transpose(image) if _orientation(image) not in (1, None) else image
    if scene.mode not in ("RGB", "RGBA", "L"):
        scene = scene.convert("RGB")
    fit = DisplayScale.fit(scene.size, max_side)
    if not fit.is_identity:
        # reducing_gap: box-reduce by an integer factor first, then resample (fast, and sharp enough to look at)
        scene = scene.resize(fit.display_wh, Image.Resampling.BILINEAR, reducing_gap=2.0)
    if scene.mode != "RGB":
        scene = scene.convert("RGB")
    return cv2.cvtColor(np.asarray(scene), cv2.COLOR_RGB2BGR), fit.original_wh


def _draw(scene: np.ndarray, detections: Sequence[Detection], scale: DisplayScale, style: DrawStyle) -> Image.Image:
    """Draw on ``scene`` (BGR, display size, changed in place) and return it as an RGB image."""
    w, h = scale.display_wh
    short = min(w, h)
    thickness = style.thickness or max(2, round(short / 400))
    font_size = style.font_size or max(12, round(short / 45))
    radius = style.point_radius or max(5, thickness * 3)
    box_ann, outside_ann, dot_ann = _annotators(thickness, radius, style.outside_color)
    boxes = [d for d in detections if d.kind == "box"]
    points = [d for d in detections if d.kind == "point"]
    outside = [d for d in boxes if d.outside]
    if boxes:
        box_ann.annotate(scene, _to_sv(boxes, scale))
    if outside:
        outside_ann.annotate(scene, _to_sv(outside, scale))
    if style.show_labels and (boxes or points):
        font_path = _font_path()
        padding = max(2, font_size // 4)
        ordered = [*boxes, *points]
        tags = [label_tag((d.label or "?") + (" (outside)" if d.outside else ""), font_path, font_size,
                          PALETTE.by_idx(label_color_index(d.label)).as_rgb(), padding, bgr=True) for d in ordered]
        anchors = _display_boxes(ordered, scale, point_margin=radius + thickness).tolist()
        corners = place_tags(anchors, [(t.shape[1], t.shape[0]) for t in tags], (w, h))
        for tag, corner in zip(tags, corners):
            paste_tag(scene, tag, corner)
    if points:  # last, so no label covers a dot
        dot_ann.annotate(scene, _to_sv(points, scale))
    return Image.fromarray(cv2.cvtColor(scene, cv2.COLOR_BGR2RGB, dst=scene))


def draw_detections(image: Image.Image, detections: Sequence[Detection], *, style: DrawStyle = DrawStyle()) -> Image.Image:
    """A drawn RGB copy of ``image`` (EXIF orientation applied, display-sized); the input is not changed.

    ``detections`` are drawn from their ``original`` coordinates, so pass those of this image
    (``ParseResult.for_image(n)``).
    """
    scene, original_wh = _display_copy(image, style.max_side)
    scale = DisplayScale(original_wh, (scene.shape[1], scene.shape[0]))
    return _draw(scene, detections, scale, style)


def draw_file(source: DecodeSource, detections: Sequence[Detection], *, style: DrawStyle = DrawStyle(),
              original_wh: tuple[int, int] | None = None) -> Image.Image:
    """Like :func:`draw_detections` on the upright image of ``source`` (a path or bytes), decoded no larger than needed.

    The display size comes from the header (:func:`grounding.read_image_size`), so it is the copy
    size :func:`draw_detections` makes. ``original_wh``: ``source`` is a smaller upright copy of an
    original of that size (an upload's display copy); the detections are in the original's pixels.
    Raises :class:`~grounding.ImageReadError` for a file that cannot be read.

    >>> import io
    >>> buffer = io.BytesIO(); Image.new("RGB", (4032, 3024)).save(buffer, "JPEG")
    >>> box = Detection("box", "cat", 1, (0, 0, 500, 500), (100.0, 100.0, 3000.0, 2000.0), False)
    >>> draw_file(buffer.getvalue(), [box], style=DrawStyle(max_side=1600)).size
    (1600, 1200)
    """
    header = read_image_size(source)
    scale = DisplayScale.fit(original_wh or header.wh, style.max_side)
    bgr = _jpeg_bgr(source, header, scale.display_wh)
    if bgr is not None:
        scene = _fit(bgr, scale.display_wh)
    else:
        scene = _bgr(np.asarray(decode_upright(source, scale.display_wh)), scale.display_wh)
    return _draw(scene, detections, scale, style)

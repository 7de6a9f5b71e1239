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
``draft``) straight into the RGB array everything is drawn on, so no Pillow-to-numpy copy comes
before the drawing; the EXIF orientation (from the header) is applied to the small copy. Other
formats go through :func:`grounding.decode.decode_upright`.

The scene is one numpy array in RGB order, so nothing is converted before or after drawing.
supervision's annotators take numpy scenes as OpenCV's BGR; they are given the palette with red
and blue swapped (:func:`_scene_color`), which writes the intended colours into an RGB array.

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import supervision as sv
from PIL import Image, ImageOps

from grounding.decode import DecodeSource, decode_upright, rgb8
from grounding.display import DisplayScale
from grounding.fonts import cjk_font_path
from grounding.image_size import SWAPPING_ORIENTATIONS, ImageSize, read_image_size
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


def _scene_color(color: sv.Color) -> sv.Color:
    """``color`` for an annotator drawing on an RGB array: it writes ``as_bgr()``, so red and blue trade places.

    >>> _scene_color(sv.Color(r=255, g=10, b=0)).as_bgr()
    (255, 10, 0)
    """
    return sv.Color(r=color.b, g=color.g, b=color.r)


_SCENE_PALETTE = sv.ColorPalette([_scene_color(color) for color in PALETTE.colors])


@lru_cache(maxsize=32)
def _annotators(thickness: int, radius: int,
                outside_color: str) -> tuple[sv.BoxAnnotator, sv.BoxCornerAnnotator, sv.DotAnnotator]:
    return (
        sv.BoxAnnotator(color=_SCENE_PALETTE, thickness=thickness, color_lookup=sv.ColorLookup.CLASS),
        sv.BoxCornerAnnotator(color=_scene_color(sv.Color.from_hex(outside_color)), thickness=thickness * 2,
                              corner_length=max(8, thickness * 6), color_lookup=sv.ColorLookup.INDEX),
        sv.DotAnnotator(color=_SCENE_PALETTE, radius=radius, color_lookup=sv.ColorLookup.CLASS,
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


def _fit(rgb: np.ndarray, size_wh: tuple[int, int]) -> np.ndarray:
    """``rgb`` at ``size_wh`` (a new array unless it is that size): area averaging when shrinking by 2 or
    more, bilinear otherwise."""
    h, w = rgb.shape[:2]
    if (w, h) == tuple(size_wh):
        return rgb
    shrink = min(w / size_wh[0], h / size_wh[1])
    return cv2.resize(rgb, size_wh, interpolation=cv2.INTER_AREA if shrink >= 2 else cv2.INTER_LINEAR)


_REDUCED = {1: 0, 2: cv2.IMREAD_REDUCED_GRAYSCALE_2, 4: cv2.IMREAD_REDUCED_GRAYSCALE_4,
            8: cv2.IMREAD_REDUCED_GRAYSCALE_8}  # the scale bits; colour comes from IMREAD_COLOR_RGB
_UPRIGHT: dict[int, Callable[[np.ndarray], np.ndarray]] = {  # EXIF orientation -> ImageOps.exif_transpose
    2: lambda a: cv2.flip(a, 1), 3: lambda a: cv2.rotate(a, cv2.ROTATE_180), 4: lambda a: cv2.flip(a, 0),
    5: cv2.transpose, 6: lambda a: cv2.rotate(a, cv2.ROTATE_90_CLOCKWISE),
    7: lambda a: cv2.flip(cv2.transpose(a), -1), 8: lambda a: cv2.rotate(a, cv2.ROTATE_90_COUNTERCLOCKWISE),
}


def _jpeg_scene(source: DecodeSource, header: ImageSize, size_wh: tuple[int, int]) -> np.ndarray | None:
    """Upright RGB pixels of a JPEG at ``size_wh``, decoded at the smallest of 1/1..1/8 scale still at least that.

    None when ``source`` is not a JPEG path or bytes, or OpenCV cannot decode it (Pillow then decodes
    it, or says what is wrong).
    """
    if header.format not in ("JPEG", "MPO") or not isinstance(source, (str, os.PathLike, bytes, bytearray)):
        return None
    swapped = header.orientation in SWAPPING_ORIENTATIONS
    stored_w, stored_h = (header.height, header.width) if swapped else header.wh
    want_w, want_h = (size_wh[1], size_wh[0]) if swapped else size_wh
    factor = max((f for f in _REDUCED if -(-stored_w // f) >= want_w and -(-stored_h // f) >= want_h), default=1)
    try:
        data = bytes(source) if isinstance(source, (bytes, bytearray)) else Path(source).read_bytes()
    except OSError:
        return None
    flags = _REDUCED[factor] | cv2.IMREAD_COLOR_RGB | cv2.IMREAD_IGNORE_ORIENTATION
    rgb = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    if rgb is None or rgb.ndim != 3:
        return None
    turn = _UPRIGHT.get(header.orientation)
    return _fit(turn(rgb) if turn else rgb, size_wh)


def _display_copy(image: Image.Image, max_side: int) -> tuple[np.ndarray, tuple[int, int]]:
    """RGB pixels (a new, writable array) of the upright image, longer side at most ``max_side``, and the
    upright original size."""
    scene = ImageOps.exif_transpose(image) if _orientation(image) not in (1, None) else image
    if scene.mode not in ("RGB", "RGBA", "L"):
        scene = rgb8(scene)  # 16-bit and float pixels scaled, not clipped
    fit = DisplayScale.fit(scene.size, max_side)
    if not fit.is_identity:
        # reducing_gap: box-reduce by an integer factor first, then resample (fast, and sharp enough to look at)
        scene = scene.resize(fit.display_wh, Image.Resampling.BILINEAR, reducing_gap=2.0)
    if scene.mode != "RGB":
        scene = rgb8(scene)
    return np.array(scene), fit.original_wh


@dataclass(frozen=True)
class _Plan:
    """Everything drawn, in display pixels, before any pixel is touched."""

    boxes: sv.Detections | None
    outside: sv.Detections | None
    points: sv.Detections | None
    tags: list[tuple[np.ndarray, tuple[int, int]]]
    annotators: tuple[sv.BoxAnnotator, sv.BoxCornerAnnotator, sv.DotAnnotator]


def _plan(detections: Sequence[Detection], scale: DisplayScale, style: DrawStyle) -> _Plan:
    w, h = scale.display_wh
    short = min(w, h)
    thickness = style.thickness or max(2, round(short / 400))
    font_size = style.font_size or max(12, round(short / 45))
    radius = style.point_radius or max(5, thickness * 3)
    boxes = [d for d in detections if d.kind == "box"]
    points = [d for d in detections if d.kind == "point"]
    outside = [d for d in boxes if d.outside]
    tags: list[tuple[np.ndarray, tuple[int, int]]] = []
    if style.show_labels and (boxes or points):
        font_path = _font_path()
        padding = max(2, font_size // 4)
        ordered = [*boxes, *points]
        images = [label_tag((d.label or "?") + (" (outside)" if d.outside else ""), font_path, font_size,
                            PALETTE.by_idx(label_color_index(d.label)).as_rgb(), padding) for d in ordered]
        anchors = _display_boxes(ordered, scale, point_margin=radius + thickness).tolist()
        tags = list(zip(images, place_tags(anchors, [(t.shape[1], t.shape[0]) for t in images], (w, h))))
    return _Plan(_to_sv(boxes, scale) if boxes else None, _to_sv(outside, scale) if outside else None,
                 _to_sv(points, scale) if points else None, tags, _annotators(thickness, radius, style.outside_color))


def _paint(scene: np.ndarray, plan: _Plan) -> Image.Image:
    """Draw ``plan`` on ``scene`` (RGB, display size, changed in place) and return it as an image."""
    box_ann, outside_ann, dot_ann = plan.annotators
    if plan.boxes is not None:
        box_ann.annotate(scene, plan.boxes)
    if plan.outside is not None:
        outside_ann.annotate(scene, plan.outside)
    for tag, corner in plan.tags:
        paste_tag(scene, tag, corner)
    if plan.points is not None:  # last, so no label covers a dot
        dot_ann.annotate(scene, plan.points)
    return Image.fromarray(scene)


def draw_detections(image: Image.Image, detections: Sequence[Detection], *, style: DrawStyle = DrawStyle()) -> Image.Image:
    """A drawn RGB copy of ``image`` (EXIF orientation applied, display-sized); the input is not changed.

    ``detections`` are drawn from their ``original`` coordinates, so pass those of this image
    (``ParseResult.for_image(n)``).
    """
    scene, original_wh = _display_copy(image, style.max_side)
    scale = DisplayScale(original_wh, (scene.shape[1], scene.shape[0]))
    return _paint(scene, _plan(detections, scale, style))


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
    scene = _jpeg_scene(source, header, scale.display_wh)
    if scene is None:
        scene = _fit(np.array(decode_upright(source, scale.display_wh)), scale.display_wh)
    return _paint(scene, _plan(detections, scale, style))

"""Resizes a trainer applies BEFORE the Qwen processor, and the geometry that results.

LLaMA-Factory's multimodal plugin shrinks any image above ``image_max_pixels`` (default
768·768) to that area, keeping the aspect ratio and truncating each side to whole pixels, and
enlarges any below ``image_min_pixels`` (default 32·32) the same way; its Qwen2-VL plugin then
widens a side under 28 px to 28 and squeezes an aspect ratio over 200 to 180. Only after that
does the processor apply the family's ``smart_resize`` with its own pixel limits. Boxes must be
converted with the size the model finally sees, so the composition matters; since each resize
scales the whole image, original -> model coordinates stay one scale per axis, which
:func:`trainer_geometry` returns as an ordinary :class:`~grounding.geometry.ProcessedImage`.

>>> llamafactory_resize_wh((4032, 3024))
(886, 665)
>>> trainer_geometry((4032, 3024), "qwen2.5-vl", pre_resize_wh=(886, 665)).resized_wh
(896, 672)
"""

from __future__ import annotations

import math

from grounding.errors import GroundingError
from grounding.families import ModelFamily
from grounding.geometry import PixelLimits, ProcessedImage, process_size

__all__ = [
    "LLAMAFACTORY_IMAGE_MAX_PIXELS",
    "LLAMAFACTORY_IMAGE_MIN_PIXELS",
    "llamafactory_resize_wh",
    "trainer_geometry",
]

LLAMAFACTORY_IMAGE_MAX_PIXELS = 768 * 768
LLAMAFACTORY_IMAGE_MIN_PIXELS = 32 * 32
_QWEN_MIN_SIDE = 28
_QWEN_MAX_RATIO = 200
_QWEN_SQUEEZED_RATIO = 180


def _scale_to_area(wh: tuple[int, int], area: int) -> tuple[int, int]:
    w, h = wh
    factor = math.sqrt(area / (w * h))
    return int(w * factor), int(h * factor)


def llamafactory_resize_wh(
    image_wh: tuple[int, int],
    *,
    image_max_pixels: int = LLAMAFACTORY_IMAGE_MAX_PIXELS,
    image_min_pixels: int = LLAMAFACTORY_IMAGE_MIN_PIXELS,
    qwen_plugin: bool = True,
) -> tuple[int, int]:
    """The (w, h) LLaMA-Factory hands to the processor for an image of ``image_wh``.

    >>> llamafactory_resize_wh((640, 480))           # under the cap: unchanged
    (640, 480)
    >>> llamafactory_resize_wh((20, 10))             # below 32*32: enlarged, then 28 px minimum side
    (45, 28)
    """
    w, h = int(image_wh[0]), int(image_wh[1])
    if w <= 0 or h <= 0:
        raise GroundingError(f"image has zero size ({w}x{h})")
    if w * h > image_max_pixels:
        w, h = _scale_to_area((w, h), image_max_pixels)
    if w * h < image_min_pixels:
        w, h = _scale_to_area((w, h), image_min_pixels)
    if qwen_plugin:
        if min(w, h) < _QWEN_MIN_SIDE:
            w, h = max(w, _QWEN_MIN_SIDE), max(h, _QWEN_MIN_SIDE)
        if w / h > _QWEN_MAX_RATIO:
            w = h * _QWEN_SQUEEZED_RATIO
        if h / w > _QWEN_MAX_RATIO:
            h = w * _QWEN_SQUEEZED_RATIO
    return w, h


def trainer_geometry(
    original_wh: tuple[int, int],
    family: ModelFamily | str,
    limits: PixelLimits | None = None,
    *,
    pre_resize_wh: tuple[int, int] | None = None,
) -> ProcessedImage:
    """What the model sees of an ``original_wh`` image when a trainer resizes it to ``pre_resize_wh`` first.

    The result keeps ``original_wh``, so :func:`~grounding.coords.to_model` maps original
    pixels straight to the model's coordinates.

    >>> trainer_geometry((640, 428), "qwen2-vl").resized_wh
    (644, 420)
    """
    family = ModelFamily.from_name(family)
    seen = process_size(pre_resize_wh or original_wh, family, limits)
    original = process_size(original_wh, family, limits).original_wh  # validates the original size too
    return ProcessedImage(original_wh=original, resized_wh=seen.resized_wh, family=family)

"""Geometry of an image file from its header alone.

>>> import io
>>> from PIL import Image
>>> buffer = io.BytesIO(); Image.new("RGB", (640, 480)).save(buffer, "JPEG")
>>> probe_image(buffer.getvalue(), "qwen2.5-vl").as_dict()
{'original': [640, 480], 'resized': [644, 476], 'grid_thw': [1, 34, 46], 'tokens': 391}
"""

from __future__ import annotations

from grounding.families import ModelFamily
from grounding.geometry import PixelLimits, ProcessedImage, process_size
from grounding.image_size import ImageSource, read_image_size

__all__ = ["probe_image"]


def probe_image(source: ImageSource, family: ModelFamily | str, limits: PixelLimits | None = None) -> ProcessedImage:
    """Read the displayed size from the header and apply the family's resize rule.

    Raises :class:`~grounding.image_size.ImageReadError` for files that are not readable
    images and :class:`~grounding.geometry.GeometryError` for sizes the model refuses.
    """
    return process_size(read_image_size(source).wh, family, limits)

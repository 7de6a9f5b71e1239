"""What the model sees: the resized size, ``image_grid_thw`` and visual tokens of an image.

The resize rule is transformers' own ``smart_resize`` (loaded from the installed source, see
:mod:`grounding._borrowed`); this module only swaps its (height, width) order to our (w, h)
and wraps the result in :class:`ProcessedImage`.

>>> image = process_size((640, 480), "qwen2.5-vl")
>>> image.resized_wh, image.grid_thw, image.tokens
((644, 476), (1, 34, 46), 391)
>>> process_size((1920, 1080), "qwen2.5-vl", PixelLimits(3136, 1280 * 28 * 28)).resized_wh
(1316, 728)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from grounding._borrowed import load_function
from grounding.errors import GeometryError
from grounding.families import ModelFamily

__all__ = [
    "GeometryError",
    "PixelLimits",
    "ProcessedImage",
    "MAX_ASPECT_RATIO",
    "smart_resize_wh",
    "process_size",
    "from_grid_thw",
]

MAX_ASPECT_RATIO = 200
"""transformers refuses images whose long side is more than 200 times the short side."""



@dataclass(frozen=True)
class PixelLimits:
    """Bounds on the resized image's area, as the processor's ``size`` holds them.

    >>> PixelLimits(3136, 1003520).as_processor_size()
    {'shortest_edge': 3136, 'longest_edge': 1003520}
    """

    min_pixels: int
    max_pixels: int

    def __post_init__(self) -> None:
        if self.min_pixels <= 0 or self.max_pixels <= 0:
            raise GeometryError(f"pixel limits must be positive, got min {self.min_pixels}, max {self.max_pixels}")
        if self.min_pixels > self.max_pixels:
            raise GeometryError(f"min_pixels {self.min_pixels} is larger than max_pixels {self.max_pixels}")

    @classmethod
    def default_for(cls, family: ModelFamily | str, min_pixels: int | None = None,
                    max_pixels: int | None = None) -> PixelLimits:
        """The family's released-checkpoint limits, with either one replaced when given (0 or None: not given).

        This is the one place where "a missing limit means the family's" is decided.

        >>> PixelLimits.default_for("qwen2.5-vl", max_pixels=1003520)
        PixelLimits(min_pixels=3136, max_pixels=1003520)
        """
        family = ModelFamily.from_name(family)
        return cls(int(min_pixels or family.default_min_pixels), int(max_pixels or family.default_max_pixels))

    def as_processor_size(self) -> dict[str, int]:
        """The transformers 5.x way to set limits: ``size={"shortest_edge": min, "longest_edge": max}``."""
        return {"shortest_edge": self.min_pixels, "longest_edge": self.max_pixels}


@dataclass(frozen=True)
class ProcessedImage:
    """An image's original size and the size, grid and token count the model works with."""

    original_wh: tuple[int, int]
    resized_wh: tuple[int, int]
    family: ModelFamily

    @property
    def grid_thw(self) -> tuple[int, int, int]:
        """``image_grid_thw`` of this image: one temporal step, patches down and across."""
        w, h = self.resized_wh
        return (1, h // self.family.patch_size, w // self.family.patch_size)

    @property
    def tokens(self) -> int:
        """Visual tokens in the prompt: patches merged ``merge_size`` x ``merge_size``."""
        t, h, w = self.grid_thw
        return t * h * w // (self.family.merge_size**2)

    @property
    def model_wh(self) -> tuple[float, float]:
        """Extent of the model's coordinate space, x first: the resized size, 1000 x 1000, the original size or
        1 x 1, as the family's convention says (:meth:`grounding.CoordinateConvention.extent`)."""
        return self.family.coordinates.extent(self.original_wh, self.resized_wh)

    def as_dict(self) -> dict[str, object]:
        return {
            "original": list(self.original_wh),
            "resized": list(self.resized_wh),
            "grid_thw": list(self.grid_thw),
            "tokens": self.tokens,
        }


def _transformers_smart_resize() -> Callable[..., tuple[int, int]]:
    return load_function("transformers", "models/qwen2_vl/image_processing_qwen2_vl.py", "smart_resize")  # type: ignore[return-value]  # loaded from transformers' own source file


def _check_size(image_wh: tuple[int, int]) -> tuple[int, int]:
    w, h = (int(v) for v in image_wh)
    if w != image_wh[0] or h != image_wh[1]:
        raise GeometryError(f"image size must be whole pixels, got {image_wh}")
    if w <= 0 or h <= 0:
        raise GeometryError(f"image has zero size ({w}x{h})")
    ratio = max(w, h) / min(w, h)
    if ratio > MAX_ASPECT_RATIO:
        raise GeometryError(
            f"aspect ratio {ratio:.1f} of {w}x{h} is over {MAX_ASPECT_RATIO}; Qwen-VL processors refuse it (crop or pad it first)"
        )
    return w, h


def smart_resize_wh(image_wh: tuple[int, int], *, factor: int, min_pixels: int, max_pixels: int) -> tuple[int, int]:
    """transformers' resize rule in (w, h) order.

    >>> smart_resize_wh((50, 40), factor=28, min_pixels=3136, max_pixels=12845056)
    (84, 56)
    """
    w, h = _check_size(image_wh)
    new_h, new_w = _transformers_smart_resize()(h, w, factor=factor, min_pixels=min_pixels, max_pixels=max_pixels)
    return int(new_w), int(new_h)


def process_size(
    original_wh: tuple[int, int], family: ModelFamily | str, limits: PixelLimits | None = None
) -> ProcessedImage:
    """Geometry of an image of ``original_wh`` (already EXIF-transposed) for ``family``."""
    family = ModelFamily.from_name(family)
    limits = limits or PixelLimits.default_for(family)
    resized = smart_resize_wh(
        original_wh, factor=family.factor, min_pixels=limits.min_pixels, max_pixels=limits.max_pixels
    )
    return ProcessedImage(original_wh=_check_size(original_wh), resized_wh=resized, family=family)


def from_grid_thw(
    original_wh: tuple[int, int], grid_thw: tuple[int, int, int] | list[int], family: ModelFamily | str
) -> ProcessedImage:
    """Geometry from the ``image_grid_thw`` row a processor returned: the size the model really saw.

    >>> from_grid_thw((640, 480), [1, 34, 46], "qwen2.5-vl").resized_wh
    (644, 476)
    """
    family = ModelFamily.from_name(family)
    t, gh, gw = (int(v) for v in grid_thw)
    if t < 1 or gh < 1 or gw < 1:
        raise GeometryError(f"grid_thw must be positive, got {list(grid_thw)}")
    return ProcessedImage(
        original_wh=_check_size(original_wh),
        resized_wh=(gw * family.patch_size, gh * family.patch_size),
        family=family,
    )

"""Pure Qwen-VL grounding geometry, parsing and drawing (no Gradio, no torch).

>>> from grounding import probe_image, to_original
"""

from grounding.coords import (
    clamp_to,
    is_outside,
    order_corners,
    round_half_up,
    to_model,
    to_original,
)
from grounding.double_resize import DoubleResizeReport, check_double_resize
from grounding.errors import GroundingError
from grounding.families import (
    DEFAULT_FAMILY,
    FAMILIES,
    MODEL_TYPES,
    QWEN2_5_OMNI,
    QWEN2_5_VL,
    QWEN2_VL,
    QWEN3_5,
    QWEN3_5_MOE,
    QWEN3_OMNI,
    QWEN3_VL,
    QWEN3_VL_MOE,
    AnswerSyntax,
    CoordinateConvention,
    ModelFamily,
    UnknownFamilyError,
)
from grounding.geometry import (
    GeometryError,
    PixelLimits,
    ProcessedImage,
    from_grid_thw,
    process_size,
    smart_resize_wh,
)
from grounding.image_size import ImageReadError, ImageSize, read_image_size
from grounding.probe import probe_image

__all__ = [
    "DEFAULT_FAMILY",
    "FAMILIES",
    "AnswerSyntax",
    "MODEL_TYPES",
    "QWEN2_5_OMNI",
    "QWEN2_5_VL",
    "QWEN2_VL",
    "QWEN3_5",
    "QWEN3_5_MOE",
    "QWEN3_OMNI",
    "QWEN3_VL",
    "QWEN3_VL_MOE",
    "CoordinateConvention",
    "DoubleResizeReport",
    "GeometryError",
    "GroundingError",
    "ImageReadError",
    "ImageSize",
    "ModelFamily",
    "PixelLimits",
    "ProcessedImage",
    "UnknownFamilyError",
    "check_double_resize",
    "clamp_to",
    "from_grid_thw",
    "is_outside",
    "order_corners",
    "probe_image",
    "process_size",
    "read_image_size",
    "round_half_up",
    "smart_resize_wh",
    "to_model",
    "to_original",
]

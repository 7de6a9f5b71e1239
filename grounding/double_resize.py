"""The qwen-vl-utils double-resize pitfall: ``process_vision_info`` resizes, then the processor resizes again.

qwen-vl-utils resizes with its own limits (default 4 and 16384 tokens); a processor with other
limits then resizes the result once more. The final grid can then differ from what the
processor alone gives, a fixed token budget (min == max) can be overshot, and very thin
images can get a side of 0 in qwen-vl-utils (its downscale branch lacks transformers'
``max(factor, ...)`` guard). Boxes must always be rescaled from the *final* grid.

>>> report = check_double_resize((1920, 1080), "qwen2.5-vl", PixelLimits(3136, 1280 * 28 * 28))
>>> report.pre_resized_wh, report.final_wh, report.resized_twice, report.final_grid_thw
((1932, 1092), (1316, 728), True, (1, 52, 94))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from grounding._borrowed import load_function
from grounding.families import ModelFamily
from grounding.geometry import GeometryError, PixelLimits, ProcessedImage, process_size

__all__ = ["DoubleResizeReport", "qwen_vl_utils_resize_wh", "qwen_vl_utils_default_limits", "check_double_resize"]

_VLU_MIN_TOKENS = 4
_VLU_MAX_TOKENS = 16384


def _vlu_smart_resize() -> Callable[..., tuple[int, int]]:
    return load_function("qwen_vl_utils", "vision_process.py", "smart_resize")  # type: ignore[return-value]  # loaded from the library's own source file


def qwen_vl_utils_default_limits(family: ModelFamily | str) -> PixelLimits:
    """qwen-vl-utils' own limits when the message sets none: 4 and 16384 tokens of factor^2 pixels."""
    factor = ModelFamily.from_name(family).factor
    return PixelLimits(_VLU_MIN_TOKENS * factor * factor, _VLU_MAX_TOKENS * factor * factor)


def qwen_vl_utils_resize_wh(image_wh: tuple[int, int], *, factor: int, limits: PixelLimits) -> tuple[int, int]:
    """qwen-vl-utils' ``smart_resize`` (its installed code) in (w, h) order; may return a 0 side."""
    w, h = image_wh
    new_h, new_w = _vlu_smart_resize()(h, w, factor, limits.min_pixels, limits.max_pixels)
    return int(new_w), int(new_h)


@dataclass(frozen=True)
class DoubleResizeReport:
    """What happens to one image when qwen-vl-utils resizes it before the processor."""

    original_wh: tuple[int, int]
    pre_resized_wh: tuple[int, int]
    """Size after qwen-vl-utils (a side may be 0: the thin-image bug)."""
    final: ProcessedImage | None
    """What the processor makes of the pre-resized image; None when it cannot take it."""
    direct: ProcessedImage
    """What the processor alone makes of the original: the size to aim for."""
    processor_limits: PixelLimits
    error: str | None = None

    @property
    def final_wh(self) -> tuple[int, int] | None:
        return self.final.resized_wh if self.final else None

    @property
    def final_grid_thw(self) -> tuple[int, int, int] | None:
        return self.final.grid_thw if self.final else None

    @property
    def resized_twice(self) -> bool:
        """The processor changed the size qwen-vl-utils produced: two lossy resamplings."""
        return self.final is None or self.final.resized_wh != self.pre_resized_wh

    @property
    def grid_differs(self) -> bool:
        """The final grid is not what the processor alone would give."""
        return self.final is None or self.final.grid_thw != self.direct.grid_thw

    @property
    def overshoots_budget(self) -> bool:
        """The final image has more pixels than the processor's max_pixels (e.g. a fixed min == max budget)."""
        return self.final is not None and self.final.resized_wh[0] * self.final.resized_wh[1] > self.processor_limits.max_pixels

    def message(self) -> str:
        ow, oh = self.original_wh
        pw, ph = self.pre_resized_wh
        if self.error:
            return f"{ow}x{oh}: qwen-vl-utils resizes to {pw}x{ph} and the processor fails: {self.error}"
        assert self.final is not None
        fw, fh = self.final.resized_wh
        if not self.resized_twice:
            return f"{ow}x{oh}: resized once to {fw}x{fh} (the processor keeps qwen-vl-utils' size)"
        text = f"{ow}x{oh}: resized twice, {pw}x{ph} by qwen-vl-utils then {fw}x{fh} by the processor"
        if self.grid_differs:
            dw, dh = self.direct.resized_wh
            text += (
                f"; the processor alone gives {dw}x{dh} (grid {list(self.direct.grid_thw)}), "
                f"the model sees grid {list(self.final.grid_thw)}: rescale boxes from the final grid"
            )
        if self.overshoots_budget:
            text += (
                f"; {self.final.tokens} visual tokens exceed the budget of max_pixels "
                f"{self.processor_limits.max_pixels} (the processor alone gives {self.direct.tokens})"
            )
        return text

    def as_dict(self) -> dict[str, object]:
        return {
            "original": list(self.original_wh),
            "pre_resized": list(self.pre_resized_wh),
            "final": list(self.final_wh) if self.final_wh else None,
            "final_grid_thw": list(self.final_grid_thw) if self.final_grid_thw else None,
            "direct": list(self.direct.resized_wh),
            "direct_grid_thw": list(self.direct.grid_thw),
            "resized_twice": self.resized_twice,
            "grid_differs": self.grid_differs,
            "overshoots_budget": self.overshoots_budget,
            "error": self.error,
            "message": self.message(),
        }


def check_double_resize(
    original_wh: tuple[int, int],
    family: ModelFamily | str,
    processor_limits: PixelLimits | None = None,
    qwen_vl_utils_limits: PixelLimits | None = None,
) -> DoubleResizeReport:
    """Compare qwen-vl-utils followed by the processor against the processor alone.

    ``qwen_vl_utils_limits`` are the ``min_pixels``/``max_pixels`` given in the message (or
    its defaults); ``processor_limits`` are the processor's ``size`` (or the checkpoint's).
    """
    family = ModelFamily.from_name(family)
    processor_limits = processor_limits or PixelLimits.default_for(family)
    qwen_vl_utils_limits = qwen_vl_utils_limits or qwen_vl_utils_default_limits(family)
    direct = process_size(original_wh, family, processor_limits)
    pre = qwen_vl_utils_resize_wh(original_wh, factor=family.factor, limits=qwen_vl_utils_limits)
    try:
        final = process_size(pre, family, processor_limits)
    except GeometryError as exc:
        return DoubleResizeReport(original_wh, pre, None, direct, processor_limits, error=str(exc))
    return DoubleResizeReport(original_wh, pre, final, direct, processor_limits)

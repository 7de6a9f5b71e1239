"""Named pixel-limit presets and per-family context sizes, as users know them from cookbooks and trainers.

>>> [p.name for p in presets_for("qwen2.5-vl")][:2]
['checkpoint default (16384·28²)', 'cookbook 1280·28²']
>>> preset_limits("qwen3-vl", "cookbook 1280·32²")
PixelLimits(min_pixels=65536, max_pixels=1310720)
"""

from __future__ import annotations

from dataclasses import dataclass

from grounding import ModelFamily, PixelLimits

__all__ = ["Preset", "presets_for", "preset_limits"]


@dataclass(frozen=True)
class Preset:
    name: str
    limits: PixelLimits


def presets_for(family: ModelFamily | str) -> list[Preset]:
    """Presets in the family's own factor (28 or 32)."""
    family = ModelFamily.from_name(family)
    f = family.factor
    low = family.default_min_pixels
    return [
        Preset(f"checkpoint default (16384·{f}²)", PixelLimits.default_for(family)),
        Preset(f"cookbook 1280·{f}²", PixelLimits(low, family.cookbook_max_pixels)),
        Preset("LLaMA-Factory 768²", PixelLimits(min(low, 32 * 32), 768 * 768)),
        Preset("qwen-vl-finetune 50176", PixelLimits(784, 50176)),
        Preset(f"fixed 256 tokens (256·{f}²)", PixelLimits(256 * f * f, 256 * f * f)),
    ]


def preset_limits(family: ModelFamily | str, name: str | None) -> PixelLimits | None:
    """The limits of a named preset of this family, or None when there is no such preset."""
    for preset in presets_for(family):
        if preset.name == name:
            return preset.limits
    return None

"""Qwen-VL model families: how each one patches images and writes coordinates.

>>> family = ModelFamily.from_name("qwen2.5-vl")
>>> family.factor, family.coordinates.value
(28, 'absolute-resized')
>>> ModelFamily.from_config({"model_type": "qwen3_vl"}).name
'qwen3-vl'
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

__all__ = [
    "CoordinateConvention",
    "ModelFamily",
    "QWEN2_VL",
    "QWEN2_5_VL",
    "QWEN3_VL",
    "FAMILIES",
    "UnknownFamilyError",
]


class UnknownFamilyError(ValueError):
    """A family name or a config ``model_type`` that is not a supported Qwen-VL family."""


class CoordinateConvention(str, Enum):
    """How a family writes box and point coordinates."""

    ABSOLUTE_RESIZED = "absolute-resized"
    """Absolute pixels of the resized image the model saw (Qwen2.5-VL)."""
    RELATIVE_1000 = "relative-1000"
    """0-1000 relative to the image, whatever its size (Qwen2-VL, Qwen3-VL, Qwen-VL)."""


@dataclass(frozen=True)
class ModelFamily:
    """Image patching and coordinate convention of one Qwen-VL generation.

    ``default_min_pixels``/``default_max_pixels`` are the values the released checkpoints
    ship in ``preprocessor_config.json`` (not the transformers class default).
    """

    name: str
    model_types: tuple[str, ...]
    patch_size: int
    merge_size: int
    temporal_patch_size: int
    default_min_pixels: int
    default_max_pixels: int
    coordinates: CoordinateConvention

    @property
    def factor(self) -> int:
        """Side multiple of the resized image: patch size x merge size (28 or 32)."""
        return self.patch_size * self.merge_size

    @property
    def is_relative(self) -> bool:
        return self.coordinates is CoordinateConvention.RELATIVE_1000

    @classmethod
    def from_name(cls, name: str | ModelFamily) -> ModelFamily:
        """Family by its name (``qwen2-vl``, ``qwen2.5-vl``, ``qwen3-vl``); lenient on case and separators."""
        if isinstance(name, ModelFamily):
            return name
        key = _normalise(name)
        for family in FAMILIES:
            if key == _normalise(family.name) or key in {_normalise(t) for t in family.model_types}:
                return family
        known = ", ".join(f.name for f in FAMILIES)
        raise UnknownFamilyError(f"unknown model family {name!r}; expected one of {known}")

    @classmethod
    def from_config(cls, config: Mapping[str, object] | str | Path) -> ModelFamily:
        """Family from a model's ``config.json`` (a mapping, the file, or the model folder)."""
        if not isinstance(config, Mapping):
            path = Path(config)
            if path.is_dir():
                path = path / "config.json"
            try:
                config = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise UnknownFamilyError(f"cannot read model config {path}: {exc}") from exc
            if not isinstance(config, Mapping):
                raise UnknownFamilyError(f"{path} is not a JSON object")
        model_type = config.get("model_type")
        if not isinstance(model_type, str):
            raise UnknownFamilyError("model config has no model_type")
        for family in FAMILIES:
            if model_type in family.model_types:
                return family
        supported = ", ".join(t for f in FAMILIES for t in f.model_types)
        raise UnknownFamilyError(f"model_type {model_type!r} is not a Qwen-VL family ({supported})")

    def __str__(self) -> str:
        return self.name


def _normalise(name: str) -> str:
    return name.strip().lower().replace("_", "").replace("-", "").replace(".", "")


QWEN2_VL = ModelFamily(
    name="qwen2-vl",
    model_types=("qwen2_vl",),
    patch_size=14,
    merge_size=2,
    temporal_patch_size=2,
    default_min_pixels=56 * 56,
    default_max_pixels=16384 * 28 * 28,
    coordinates=CoordinateConvention.RELATIVE_1000,
)
QWEN2_5_VL = ModelFamily(
    name="qwen2.5-vl",
    model_types=("qwen2_5_vl",),
    patch_size=14,
    merge_size=2,
    temporal_patch_size=2,
    default_min_pixels=56 * 56,
    default_max_pixels=16384 * 28 * 28,
    coordinates=CoordinateConvention.ABSOLUTE_RESIZED,
)
QWEN3_VL = ModelFamily(
    name="qwen3-vl",
    model_types=("qwen3_vl", "qwen3_vl_moe"),
    patch_size=16,
    merge_size=2,
    temporal_patch_size=2,
    default_min_pixels=64 * 32 * 32,
    default_max_pixels=16384 * 32 * 32,
    coordinates=CoordinateConvention.RELATIVE_1000,
)
FAMILIES: tuple[ModelFamily, ...] = (QWEN2_VL, QWEN2_5_VL, QWEN3_VL)

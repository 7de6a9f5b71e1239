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

from grounding.errors import UnknownFamilyError

__all__ = [
    "CoordinateConvention",
    "ModelFamily",
    "QWEN2_VL",
    "QWEN2_5_VL",
    "QWEN3_VL",
    "FAMILIES",
    "DEFAULT_FAMILY",
    "AnswerSyntax",
    "UnknownFamilyError",
]


class AnswerSyntax(str, Enum):
    """How a family writes its grounding answers (what the prompts ask for and the exports write)."""

    JSON = "json"
    """``[{"bbox_2d": [...], "label": ...}]`` (Qwen2.5-VL, Qwen3-VL)."""
    REF_BOX_TOKENS = "ref-box-tokens"
    """``<|object_ref_start|>label<|object_ref_end|><|box_start|>(x1,y1),(x2,y2)<|box_end|>`` (Qwen2-VL)."""



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
    answer_syntax: AnswerSyntax = AnswerSyntax.JSON
    context_tokens: int = 32768
    """Context length of the released checkpoints (``max_position_embeddings``)."""
    box_prompt: str = ""
    """The family's official request for boxes of ``{target}`` (its cookbook phrasing)."""
    point_prompt: str = ""
    """The same for points ('' when the family has no official point format)."""
    category_list: bool = False
    """Its prompt names a comma-separated list of categories (Qwen3-VL), not a phrase ("cats and dogs")."""
    none_prompt: str = ""
    """A sentence added to the request so that "nothing there" has an answer in the family's own syntax
    (an empty JSON list, or the word ``none``), read back as an explicit empty answer."""

    @property
    def factor(self) -> int:
        """Side multiple of the resized image: patch size x merge size (28 or 32)."""
        return self.patch_size * self.merge_size

    @property
    def cookbook_max_pixels(self) -> int:
        """The cookbooks' pixel budget, 1280 visual tokens (1280·factor²): a tile's default size.

        >>> QWEN2_5_VL.cookbook_max_pixels, QWEN3_VL.min_tile_pixels
        (1003520, 4096)
        """
        return 1280 * self.factor * self.factor

    @property
    def min_tile_pixels(self) -> int:
        """The smallest pixel budget worth one call: 2×2 merged patches (4·factor²)."""
        return 4 * self.factor * self.factor

    @property
    def is_relative(self) -> bool:
        return self.coordinates is CoordinateConvention.RELATIVE_1000

    @property
    def writes_json(self) -> bool:
        return self.answer_syntax is AnswerSyntax.JSON

    def box_tokens(self, label: str, box: tuple[int, int, int, int]) -> str:
        """A box in the Qwen2-VL token syntax, as the model writes it.

        >>> QWEN2_VL.box_tokens("bowl", (228, 320, 961, 970))
        '<|object_ref_start|>bowl<|object_ref_end|><|box_start|>(228,320),(961,970)<|box_end|>'
        """
        x1, y1, x2, y2 = box
        return f"<|object_ref_start|>{label}<|object_ref_end|><|box_start|>({x1},{y1}),({x2},{y2})<|box_end|>"

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
    answer_syntax=AnswerSyntax.REF_BOX_TOKENS,
    context_tokens=32768,
    # its answers: <|box_start|>(x1,y1),(x2,y2)<|box_end|> after the referring expression
    box_prompt="Detect the bounding box of <|object_ref_start|>{target}<|object_ref_end|>.",
    none_prompt='If there is no {target}, answer "none".',
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
    context_tokens=128000,
    # the cookbook (spatial understanding): absolute pixels of the resized image, JSON bbox_2d / point_2d
    box_prompt="Locate every {target} in the image and output the bbox coordinates in JSON format.",
    point_prompt="Locate every {target} in the image and output the point coordinates in JSON format.",
    none_prompt="If there is no {target} in the image, output an empty list: [].",
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
    context_tokens=262144,
    # the cookbook (2D grounding): 0-1000 relative, the same JSON keys
    box_prompt='Locate every instance that belongs to the following categories: "{target}". Report bbox coordinates '
               "in JSON format.",
    point_prompt='Locate every instance that belongs to the following categories: "{target}". Report point '
                 "coordinates in JSON format.",
    category_list=True,
    none_prompt="If no instance of these categories is present, output an empty list: [].",
)
FAMILIES: tuple[ModelFamily, ...] = (QWEN2_VL, QWEN2_5_VL, QWEN3_VL)
DEFAULT_FAMILY = QWEN2_5_VL
"""The family assumed when nothing says otherwise (the most used grounding model; the default checkpoint's)."""

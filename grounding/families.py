"""Model families: how each Qwen vision model type patches images, writes coordinates and answers.

A family is three things: the processor's facts (patch, merge and temporal sizes, the released
checkpoints' pixel limits), a coordinate convention, and an answer syntax (plus the phrasing it was
trained to be asked in, whether its chat template thinks, and the trainers' template names for it).
There is one family per ``model_type`` that the installed transformers maps to a Qwen image
processor (:data:`MODEL_TYPES`: the one table keyed by model type; its evidence is cited row by row
in ``docs/families.md``). Where a checkpoint is at hand, :meth:`ModelFamily.from_checkpoint` reads the
processor facts from the checkpoint itself (:mod:`grounding.checkpoint`).

>>> family = ModelFamily.from_name("qwen2.5-vl")
>>> family.factor, family.coordinates.value
(28, 'absolute-resized')
>>> ModelFamily.from_config({"model_type": "qwen3_5_moe"}).name
'qwen3.5-moe'
>>> QWEN3_5.thinks_by_default, QWEN3_5.thinking_switch, QWEN3_5.trainer_templates
(True, True, {'llamafactory': 'qwen3_5', 'swift': 'qwen3_5'})
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path

from grounding.errors import UnknownFamilyError

__all__ = [
    "CoordinateConvention",
    "ModelFamily",
    "QWEN2_VL",
    "QWEN2_5_VL",
    "QWEN3_VL",
    "QWEN3_VL_MOE",
    "QWEN3_5",
    "QWEN3_5_MOE",
    "QWEN2_5_OMNI",
    "QWEN3_OMNI",
    "FAMILIES",
    "MODEL_TYPES",
    "NOT_GROUNDING",
    "DEFAULT_FAMILY",
    "AnswerSyntax",
    "UnknownFamilyError",
]


class AnswerSyntax(str, Enum):
    """How a family writes its grounding answers (what the prompts ask for and the exports write)."""

    JSON = "json"
    """``[{"bbox_2d": [...], "label": ...}]`` (Qwen2.5-VL, Qwen3-VL and later)."""
    REF_BOX_TOKENS = "ref-box-tokens"
    """``<|object_ref_start|>label<|object_ref_end|><|box_start|>(x1,y1),(x2,y2)<|box_end|>`` (Qwen2-VL)."""


class CoordinateConvention(str, Enum):
    """How numbers in an answer map to a place on the image.

    The four readings, x first; each has a y-first twin (``-yx``: the model writes ``[y1, x1, y2, x2]``).

    >>> CoordinateConvention("relative-1000-yx").y_first, CoordinateConvention.RELATIVE_1.extent((640, 480), (644, 476))
    (True, (1.0, 1.0))
    """

    ABSOLUTE_RESIZED = "absolute-resized"
    """Absolute pixels of the resized image the model saw (Qwen2.5-VL)."""
    RELATIVE_1000 = "relative-1000"
    """0-1000 relative to the image, whatever its size (Qwen2-VL, Qwen3-VL, Qwen3.5, Qwen-VL)."""
    ABSOLUTE_ORIGINAL = "absolute-original"
    """Absolute pixels of the original image (some fine-tunes and hosted APIs)."""
    RELATIVE_1 = "relative-1"
    """0-1 fractions of the image."""
    ABSOLUTE_RESIZED_YX = "absolute-resized-yx"
    RELATIVE_1000_YX = "relative-1000-yx"
    ABSOLUTE_ORIGINAL_YX = "absolute-original-yx"
    RELATIVE_1_YX = "relative-1-yx"

    # the parser asks these for every picture of every output: table lookups, not string work on .value
    @property
    def y_first(self) -> bool:
        """The model writes y before x (``[y1, x1, y2, x2]``, ``(y, x)``)."""
        return self in _Y_FIRST

    @property
    def x_first(self) -> CoordinateConvention:
        """The same reading with x written first."""
        return _X_FIRST[self]

    @property
    def is_relative(self) -> bool:
        return _X_FIRST[self] in _RELATIVE

    def extent(self, original_wh: tuple[int, int], resized_wh: tuple[int, int]) -> tuple[float, float]:
        """The (width, height) of the coordinate space: where the image's right and bottom edges are."""
        base = _X_FIRST[self]
        if base is CoordinateConvention.RELATIVE_1000:
            return (1000.0, 1000.0)
        if base is CoordinateConvention.RELATIVE_1:
            return (1.0, 1.0)
        if base is CoordinateConvention.ABSOLUTE_ORIGINAL:
            return (float(original_wh[0]), float(original_wh[1]))
        return (float(resized_wh[0]), float(resized_wh[1]))


_X_FIRST = {c: CoordinateConvention(c.value.removesuffix("-yx")) for c in CoordinateConvention}
_Y_FIRST = frozenset(c for c in CoordinateConvention if c.value.endswith("-yx"))
_RELATIVE = frozenset((CoordinateConvention.RELATIVE_1000, CoordinateConvention.RELATIVE_1))


@dataclass(frozen=True)
class ModelFamily:
    """Image patching, coordinate convention and answer syntax of one model type.

    ``default_min_pixels``/``default_max_pixels`` are the values the released checkpoints ship in
    ``preprocessor_config.json`` (not the transformers class default); a family read from a
    checkpoint (:meth:`from_checkpoint`) carries that checkpoint's own.
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
    title: str = ""
    """The name people know it by ("Qwen3.5")."""
    convention_known: bool = True
    """False where no cookbook, model card or trainer code says how it writes coordinates: the convention is
    then assumed (from the model its vision tower comes from) and should be checked with ``probe-convention``."""
    thinking_switch: bool = False
    """Its chat template takes ``enable_thinking`` (Qwen3.5): the workbench turns thinking off for grounding."""
    thinks_by_default: bool = False
    """Its released checkpoints reason in ``<think>`` before answering unless told otherwise."""
    omni: bool = False
    """An Omni model (text, audio, images, video in; text and speech out): only its "thinker" writes text."""
    trainer_templates: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)
    """Chat template names the fine-tuning tools use for it: ``llamafactory`` (LLaMA-Factory ``template:``),
    ``swift`` (ms-swift ``--template``); absent where the tool has none."""

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
        return self.coordinates.is_relative

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

    def with_convention(self, convention: CoordinateConvention | str | None) -> ModelFamily:
        """The same family read with another coordinate convention (a dataset's or a probe's reading).

        >>> QWEN2_5_VL.with_convention("absolute-original").coordinates.value
        'absolute-original'
        >>> QWEN2_5_VL.with_convention(None) is QWEN2_5_VL
        True
        """
        if convention is None or convention == "":
            return self
        convention = CoordinateConvention(convention)
        return self if convention is self.coordinates else replace(self, coordinates=convention)

    def with_processor(self, *, patch_size: int, merge_size: int, temporal_patch_size: int, min_pixels: int,
                       max_pixels: int) -> ModelFamily:
        """The same family with a checkpoint's own processor facts (the object itself when they are the table's)."""
        changed = replace(self, patch_size=patch_size, merge_size=merge_size, temporal_patch_size=temporal_patch_size,
                          default_min_pixels=min_pixels, default_max_pixels=max_pixels)
        return self if changed == self else changed

    @classmethod
    def from_name(cls, name: str | ModelFamily) -> ModelFamily:
        """Family by its name (``qwen2.5-vl``, ``qwen3.5``...) or model type; lenient on case and separators."""
        if isinstance(name, ModelFamily):
            return name
        family = _BY_KEY.get(_normalise(name))
        if family is None:
            known = ", ".join(f.name for f in FAMILIES)
            raise UnknownFamilyError(f"unknown model family {name!r}; expected one of {known}")
        return family

    @classmethod
    def from_model_type(cls, model_type: object) -> ModelFamily:
        """The family of a config's ``model_type`` (the one table, :data:`MODEL_TYPES`)."""
        if not isinstance(model_type, str):
            raise UnknownFamilyError("model config has no model_type")
        family = MODEL_TYPES.get(model_type)
        if family is not None:
            return family
        if model_type in NOT_GROUNDING:
            raise UnknownFamilyError(f"model_type {model_type!r}: {NOT_GROUNDING[model_type]}")
        supported = ", ".join(MODEL_TYPES)
        raise UnknownFamilyError(f"model_type {model_type!r} is not a Qwen vision model type ({supported})")

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
        return cls.from_model_type(config.get("model_type"))

    @classmethod
    def from_checkpoint(cls, folder: str | Path) -> ModelFamily:
        """The family of a checkpoint folder, with its own processor facts (see :mod:`grounding.checkpoint`)."""
        from grounding.checkpoint import checkpoint_family  # reads files; kept apart from the table

        return checkpoint_family(folder)

    def __str__(self) -> str:
        return self.name


def _normalise(name: str) -> str:
    return name.strip().lower().replace("_", "").replace("-", "").replace(".", "").replace(" ", "")


_QWEN25_BOXES = "Locate every {target} in the image and output the bbox coordinates in JSON format."
_QWEN25_POINTS = "Locate every {target} in the image and output the point coordinates in JSON format."
_QWEN3_BOXES = ('Locate every instance that belongs to the following categories: "{target}". Report bbox '
                "coordinates in JSON format.")
_QWEN3_POINTS = ('Locate every instance that belongs to the following categories: "{target}". Report point '
                 "coordinates in JSON format.")
_QWEN25_NONE = "If there is no {target} in the image, output an empty list: []."
_QWEN3_NONE = "If no instance of these categories is present, output an empty list: []."
_QWEN25_PIXELS = (56 * 56, 16384 * 28 * 28)
_QWEN3_PIXELS = (64 * 32 * 32, 16384 * 32 * 32)
_CLASS_DEFAULT_PIXELS = (56 * 56, 1280 * 28 * 28)
"""transformers' ``Qwen2VLImageProcessor`` class default: what a checkpoint without its own limits gets."""


def _family(name: str, title: str, model_type: str, patch: int, pixels: tuple[int, int],
            coordinates: CoordinateConvention, **more: object) -> ModelFamily:
    return ModelFamily(name=name, title=title, model_types=(model_type,), patch_size=patch, merge_size=2,
                       temporal_patch_size=2, default_min_pixels=pixels[0], default_max_pixels=pixels[1],
                       coordinates=coordinates, **more)  # type: ignore[arg-type]  # more: the remaining fields, by name


_R1000, _ABS = CoordinateConvention.RELATIVE_1000, CoordinateConvention.ABSOLUTE_RESIZED

# The one table: one row per model type. Evidence for each row's convention: docs/families.md.
QWEN2_VL = _family(
    "qwen2-vl", "Qwen2-VL", "qwen2_vl", 14, _QWEN25_PIXELS, _R1000, answer_syntax=AnswerSyntax.REF_BOX_TOKENS,
    # its answers: <|box_start|>(x1,y1),(x2,y2)<|box_end|> after the referring expression
    box_prompt="Detect the bounding box of <|object_ref_start|>{target}<|object_ref_end|>.",
    none_prompt='If there is no {target}, answer "none".',
    trainer_templates={"llamafactory": "qwen2_vl", "swift": "qwen2_vl"})
QWEN2_5_VL = _family(
    "qwen2.5-vl", "Qwen2.5-VL", "qwen2_5_vl", 14, _QWEN25_PIXELS, _ABS, context_tokens=128000,
    # the cookbook (spatial understanding): absolute pixels of the resized image, JSON bbox_2d / point_2d
    box_prompt=_QWEN25_BOXES, point_prompt=_QWEN25_POINTS, none_prompt=_QWEN25_NONE,
    trainer_templates={"llamafactory": "qwen2_vl", "swift": "qwen2_5_vl"})
QWEN3_VL = _family(
    "qwen3-vl", "Qwen3-VL", "qwen3_vl", 16, _QWEN3_PIXELS, _R1000, context_tokens=262144,
    # the cookbook (2D grounding): 0-1000 relative, the same JSON keys
    box_prompt=_QWEN3_BOXES, point_prompt=_QWEN3_POINTS, none_prompt=_QWEN3_NONE, category_list=True,
    trainer_templates={"llamafactory": "qwen3_vl_nothink", "swift": "qwen3_vl"})
QWEN3_VL_MOE = replace(QWEN3_VL, name="qwen3-vl-moe", title="Qwen3-VL-MoE", model_types=("qwen3_vl_moe",))
QWEN3_5 = _family(
    "qwen3.5", "Qwen3.5", "qwen3_5", 16, _QWEN3_PIXELS, _R1000, context_tokens=262144,
    box_prompt=_QWEN3_BOXES, point_prompt=_QWEN3_POINTS, none_prompt=_QWEN3_NONE, category_list=True,
    thinking_switch=True, thinks_by_default=True,
    trainer_templates={"llamafactory": "qwen3_5", "swift": "qwen3_5"})
QWEN3_5_MOE = replace(QWEN3_5, name="qwen3.5-moe", title="Qwen3.5-MoE", model_types=("qwen3_5_moe",))
QWEN2_5_OMNI = _family(
    "qwen2.5-omni", "Qwen2.5-Omni", "qwen2_5_omni", 14, _QWEN25_PIXELS, _ABS, omni=True,
    box_prompt=_QWEN25_BOXES, point_prompt=_QWEN25_POINTS, none_prompt=_QWEN25_NONE,
    trainer_templates={"llamafactory": "qwen2_omni", "swift": "qwen2_5_omni"})
QWEN3_OMNI = _family(
    "qwen3-omni", "Qwen3-Omni", "qwen3_omni_moe", 16, _QWEN3_PIXELS, _R1000, omni=True, context_tokens=65536,
    # the cookbook (object grounding) asks so and reads bbox_2d as 0-1000; it shows no points
    box_prompt="Locate the object: {target}.", none_prompt=_QWEN25_NONE,
    trainer_templates={"llamafactory": "qwen3_omni_nothink", "swift": "qwen3_omni"})
QWEN4_EXP = _family(
    "qwen4-exp", "Qwen4-Exp", "qwen4_exp", 16, _QWEN3_PIXELS, _R1000, convention_known=False,
    box_prompt=_QWEN3_BOXES, point_prompt=_QWEN3_POINTS, none_prompt=_QWEN3_NONE, category_list=True)
# model types of other makers that use Qwen's image processor: geometry known, convention not documented
_OTHERS = (
    _family("cosmos3-omni", "Cosmos3-Omni", "cosmos3_omni", 16, _CLASS_DEFAULT_PIXELS, _R1000, convention_known=False,
            box_prompt=_QWEN3_BOXES, point_prompt=_QWEN3_POINTS, none_prompt=_QWEN3_NONE, category_list=True),
    _family("dots3-note", "dots3-note", "dots3_note", 14, _CLASS_DEFAULT_PIXELS, _ABS, convention_known=False,
            box_prompt=_QWEN25_BOXES, point_prompt=_QWEN25_POINTS, none_prompt=_QWEN25_NONE),
    _family("exaone-4.5", "EXAONE 4.5", "exaone4_5", 14, _CLASS_DEFAULT_PIXELS, _ABS, convention_known=False,
            box_prompt=_QWEN25_BOXES, point_prompt=_QWEN25_POINTS, none_prompt=_QWEN25_NONE),
    _family("hyperclovax-vision-v2", "HyperCLOVA X SEED Vision", "hyperclovax_vision_v2", 14, _CLASS_DEFAULT_PIXELS,
            _ABS, convention_known=False, box_prompt=_QWEN25_BOXES, point_prompt=_QWEN25_POINTS, none_prompt=_QWEN25_NONE),
    _family("lfm3-vl", "LFM3-VL", "lfm3_vl", 16, _CLASS_DEFAULT_PIXELS, _R1000, convention_known=False,
            box_prompt=_QWEN3_BOXES, point_prompt=_QWEN3_POINTS, none_prompt=_QWEN3_NONE, category_list=True),
)

FAMILIES: tuple[ModelFamily, ...] = (QWEN2_VL, QWEN2_5_VL, QWEN3_VL, QWEN3_VL_MOE, QWEN3_5, QWEN3_5_MOE,
                                     QWEN2_5_OMNI, QWEN3_OMNI, QWEN4_EXP, *_OTHERS)
"""Every family, Qwen's first (the first three in the order the app always listed them)."""
MODEL_TYPES: dict[str, ModelFamily] = {model_type: f for f in FAMILIES for model_type in f.model_types}
"""``config.json``'s ``model_type`` -> its family: the one table of conventions."""
NOT_GROUNDING: dict[str, str] = {
    "colqwen2": "ColQwen2 is a document-retrieval model (ColQwen2ForRetrieval): it uses Qwen2-VL's image processor "
                "but writes no text, so it cannot ground",
}
"""Model types that use a Qwen image processor but write no answers to read."""
_BY_KEY: dict[str, ModelFamily] = {
    **{_normalise(t): f for f in FAMILIES for t in f.model_types},
    **{_normalise(f.name): f for f in FAMILIES},
}
DEFAULT_FAMILY = QWEN2_5_VL
"""The family assumed when nothing says otherwise (the most used grounding model)."""

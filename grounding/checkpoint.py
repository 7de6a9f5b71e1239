"""A checkpoint's own processor facts: the family of its ``config.json`` with the sizes of its image processor.

The model type comes from ``config.json``; patch, merge and temporal sizes and the pixel limits from the
image processor's saved settings: ``preprocessor_config.json`` (how released checkpoints ship them), else
the ``image_processor`` entry of ``processor_config.json`` (how transformers 5 saves a processor). Both
spellings of the limits are read, as transformers' ``Qwen2VLImageProcessor.__init__`` reads them: the
``size`` dict (``shortest_edge``/``longest_edge``; older files wrote ``min_pixels``/``max_pixels`` inside
it), then top-level ``min_pixels``/``max_pixels``, which win. A value a file leaves out is the transformers
class default (patch 14, merge 2, temporal 2, ``56*56`` to ``28*28*1280`` pixels), as the processor would
take it. ``tests/grounding/test_checkpoint.py`` loads the same files with the real processor and compares.

>>> processor_facts({"patch_size": 16, "size": {"shortest_edge": 65536, "longest_edge": 16777216}})
ProcessorFacts(patch_size=16, merge_size=2, temporal_patch_size=2, min_pixels=65536, max_pixels=16777216)
>>> processor_facts({"min_pixels": 3136, "max_pixels": 1003520, "size": {"shortest_edge": 1, "longest_edge": 2}}).max_pixels
1003520
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grounding.errors import UnknownFamilyError
from grounding.families import ModelFamily

__all__ = ["CLASS_DEFAULTS", "ProcessorFacts", "checkpoint_family", "image_processor_settings", "processor_facts"]

CLASS_DEFAULTS: dict[str, Any] = {"patch_size": 14, "merge_size": 2, "temporal_patch_size": 2,
                                  "size": {"shortest_edge": 56 * 56, "longest_edge": 28 * 28 * 1280}}
"""transformers' ``Qwen2VLImageProcessor`` class attributes: what a setting a file leaves out becomes."""


@dataclass(frozen=True)
class ProcessorFacts:
    """What the image processor of a checkpoint resizes and patches with."""

    patch_size: int
    merge_size: int
    temporal_patch_size: int
    min_pixels: int
    max_pixels: int


def _positive(settings: Mapping[str, Any], key: str, default: int) -> int:
    value = settings.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UnknownFamilyError(f"the image processor's {key} is {value!r}, not a positive whole number")
    return value


def processor_facts(settings: Mapping[str, Any]) -> ProcessorFacts:
    """Sizes and limits from an image processor's saved settings, read as the processor reads them."""
    size = dict(CLASS_DEFAULTS["size"])
    saved = settings.get("size")
    if isinstance(saved, Mapping):
        size = {"shortest_edge": saved.get("shortest_edge", saved.get("min_pixels")),
                "longest_edge": saved.get("longest_edge", saved.get("max_pixels"))}
    if settings.get("min_pixels") is not None:
        size["shortest_edge"] = settings["min_pixels"]
    if settings.get("max_pixels") is not None:
        size["longest_edge"] = settings["max_pixels"]
    facts = {key: _positive(settings, key, CLASS_DEFAULTS[key])
             for key in ("patch_size", "merge_size", "temporal_patch_size")}
    low = _positive(size, "shortest_edge", 0) if size.get("shortest_edge") is not None else None
    high = _positive(size, "longest_edge", 0) if size.get("longest_edge") is not None else None
    if low is None or high is None:
        raise UnknownFamilyError(f"the image processor's size {saved!r} has no shortest_edge and longest_edge")
    return ProcessorFacts(facts["patch_size"], facts["merge_size"], facts["temporal_patch_size"], low, high)


def _read_json(path: Path) -> Mapping[str, Any] | None:
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UnknownFamilyError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, Mapping):
        raise UnknownFamilyError(f"{path} is not a JSON object")
    return data


def image_processor_settings(folder: str | Path) -> Mapping[str, Any] | None:
    """The saved image-processor settings of a checkpoint folder (None when it has none)."""
    folder = Path(folder)
    flat = _read_json(folder / "preprocessor_config.json")
    if flat is not None:
        return flat
    bundle = _read_json(folder / "processor_config.json")
    inner = bundle.get("image_processor") if bundle is not None else None
    return inner if isinstance(inner, Mapping) else None


def checkpoint_family(folder: str | Path) -> ModelFamily:
    """The family of a checkpoint folder's ``config.json``, with its image processor's own sizes and limits.

    A folder without image-processor settings gets the table's values (and the family object itself).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise UnknownFamilyError(f"{folder} is not a checkpoint folder")
    family = ModelFamily.from_config(folder)
    settings = image_processor_settings(folder)
    if settings is None:
        return family
    facts = processor_facts(settings)
    return family.with_processor(patch_size=facts.patch_size, merge_size=facts.merge_size,
                                 temporal_patch_size=facts.temporal_patch_size, min_pixels=facts.min_pixels,
                                 max_pixels=facts.max_pixels)

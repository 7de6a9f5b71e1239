"""The family table against the installed transformers and the docs.

- Every model type that transformers' auto mappings give a Qwen image processor (or a Qwen processor) has a
  row: a family, or a line saying why it cannot ground. A transformers release that adds one fails here.
- Each family's patch, merge and temporal sizes are those of its transformers vision config.
- ``docs/families.md`` has one row per model type, each with its evidence.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from grounding import FAMILIES, MODEL_TYPES
from grounding.families import NOT_GROUNDING

transformers = pytest.importorskip("transformers")

DOCS = Path(__file__).resolve().parents[2] / "docs" / "families.md"


def _qwen_class(value: object) -> bool:
    names = value.values() if isinstance(value, dict) else value if isinstance(value, (tuple, list)) else [value]
    return any(isinstance(name, str) and name.startswith("Qwen") for name in names)


def qwen_vision_model_types() -> set[str]:
    """Model types whose image processor, video processor or processor is one of Qwen's, per the installed
    transformers' auto mappings."""
    from transformers.models.auto.image_processing_auto import IMAGE_PROCESSOR_MAPPING_NAMES
    from transformers.models.auto.processing_auto import PROCESSOR_MAPPING_NAMES
    from transformers.models.auto.video_processing_auto import VIDEO_PROCESSOR_MAPPING_NAMES

    found = {t for t, v in IMAGE_PROCESSOR_MAPPING_NAMES.items() if _qwen_class(v)}
    found |= {t for t, v in VIDEO_PROCESSOR_MAPPING_NAMES.items() if _qwen_class(v)}
    # processors: only those that take images (Qwen2-Audio, Qwen3-ASR and the like do not)
    found |= {t for t, v in PROCESSOR_MAPPING_NAMES.items()
              if _qwen_class(v) and any(k in str(v) for k in ("VL", "Omni"))}
    return found


def test_the_walk_finds_the_known_qwen_vision_types():
    """A check on the walk itself: it sees the types this project was built for."""
    assert {"qwen2_vl", "qwen2_5_vl", "qwen3_vl", "qwen3_vl_moe", "qwen3_5", "qwen3_5_moe", "qwen2_5_omni",
            "qwen3_omni_moe"} <= qwen_vision_model_types()


def test_every_qwen_vision_model_type_has_a_row():
    missing = qwen_vision_model_types() - set(MODEL_TYPES) - set(NOT_GROUNDING)
    assert not missing, (f"transformers maps {sorted(missing)} to a Qwen image processor, but grounding/families.py "
                         "has no row for it: add a family (with its evidence in docs/families.md) or a NOT_GROUNDING line")


def _vision_config(model_type: str):
    config = transformers.AutoConfig.for_model(model_type)
    for holder in (config, getattr(config, "thinker_config", None)):
        vision = getattr(holder, "vision_config", None)
        if vision is not None:
            return vision
    raise AssertionError(f"{model_type} has no vision config")


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_family_sizes_are_the_vision_configs(family):
    for model_type in family.model_types:
        vision = _vision_config(model_type)
        assert vision.patch_size == family.patch_size, model_type
        assert getattr(vision, "spatial_merge_size", 2) == family.merge_size, model_type
        temporal = getattr(vision, "temporal_patch_size", None)
        assert temporal in (None, family.temporal_patch_size), model_type


def _docs_rows() -> dict[str, str]:
    rows = {}
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\|\s*`([a-z0-9_]+)`\s*\|", line)
        if match:
            rows[match.group(1)] = line
    return rows


def test_docs_table_has_one_row_per_model_type_with_its_convention_and_evidence():
    rows = _docs_rows()
    assert set(rows) == set(MODEL_TYPES) | set(NOT_GROUNDING)
    for model_type, family in MODEL_TYPES.items():
        row = rows[model_type]
        assert f"`{family.name}`" in row and family.coordinates.value in row, row
        if family.convention_known:
            assert "http" in row, f"{model_type}: a known convention needs its evidence linked: {row}"
        else:
            assert "assumed" in row, row

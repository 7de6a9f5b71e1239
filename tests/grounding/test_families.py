"""ModelFamily: one family per Qwen vision model type, by name and from a model's config.json."""

from __future__ import annotations

import json

import pytest

from grounding import (
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
    CoordinateConvention,
    ModelFamily,
    UnknownFamilyError,
    process_size,
)
from grounding.families import NOT_GROUNDING


@pytest.mark.parametrize(
    ("family", "patch", "factor", "min_pixels", "max_pixels", "convention"),
    [
        pytest.param(QWEN2_VL, 14, 28, 3136, 12845056, CoordinateConvention.RELATIVE_1000, id="qwen2-vl"),
        pytest.param(QWEN2_5_VL, 14, 28, 3136, 12845056, CoordinateConvention.ABSOLUTE_RESIZED, id="qwen2.5-vl"),
        pytest.param(QWEN3_VL, 16, 32, 65536, 16777216, CoordinateConvention.RELATIVE_1000, id="qwen3-vl"),
        pytest.param(QWEN3_VL_MOE, 16, 32, 65536, 16777216, CoordinateConvention.RELATIVE_1000, id="qwen3-vl-moe"),
        pytest.param(QWEN3_5, 16, 32, 65536, 16777216, CoordinateConvention.RELATIVE_1000, id="qwen3.5"),
        pytest.param(QWEN3_5_MOE, 16, 32, 65536, 16777216, CoordinateConvention.RELATIVE_1000, id="qwen3.5-moe"),
        pytest.param(QWEN2_5_OMNI, 14, 28, 3136, 12845056, CoordinateConvention.ABSOLUTE_RESIZED, id="qwen2.5-omni"),
        pytest.param(QWEN3_OMNI, 16, 32, 65536, 16777216, CoordinateConvention.RELATIVE_1000, id="qwen3-omni"),
    ],
)
def test_family_constants(family, patch, factor, min_pixels, max_pixels, convention):
    assert (family.patch_size, family.merge_size, family.factor) == (patch, 2, factor)
    assert (family.default_min_pixels, family.default_max_pixels) == (min_pixels, max_pixels)
    assert family.coordinates is convention
    assert family.convention_known


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("qwen2.5-vl", QWEN2_5_VL, id="canonical"),
        pytest.param("Qwen2.5-VL", QWEN2_5_VL, id="case"),
        pytest.param("qwen2_5_vl", QWEN2_5_VL, id="model-type"),
        pytest.param("qwen2-vl", QWEN2_VL, id="qwen2"),
        pytest.param("qwen3_vl_moe", QWEN3_VL_MOE, id="moe"),
        pytest.param("Qwen3.5", QWEN3_5, id="qwen3.5"),
        pytest.param("qwen3_5_moe", QWEN3_5_MOE, id="qwen3.5-moe-type"),
        pytest.param("qwen3-omni", QWEN3_OMNI, id="qwen3-omni"),
        pytest.param("qwen3_omni_moe", QWEN3_OMNI, id="qwen3-omni-type"),
        pytest.param("qwen2.5-omni", QWEN2_5_OMNI, id="qwen2.5-omni"),
    ],
)
def test_from_name(name, expected):
    assert ModelFamily.from_name(name) is expected


def test_names_and_model_types_are_unambiguous():
    """No family's name reads as another family's model type once separators are dropped."""
    keys = {}
    for family in FAMILIES:
        for key in {family.name, *family.model_types}:
            folded = key.lower().replace("_", "").replace("-", "").replace(".", "")
            assert keys.setdefault(folded, family.name) == family.name, key
    assert len({f.name for f in FAMILIES}) == len(FAMILIES)


def test_from_name_unknown_lists_the_known_families():
    with pytest.raises(UnknownFamilyError, match="qwen2-vl, qwen2.5-vl, qwen3-vl, .*qwen3.5"):
        ModelFamily.from_name("llava")


@pytest.mark.parametrize("model_type", sorted(MODEL_TYPES))
def test_from_config_file_and_folder(tmp_path, model_type):
    expected = MODEL_TYPES[model_type]
    (tmp_path / "config.json").write_text(json.dumps({"model_type": model_type, "text_config": {}}))
    assert ModelFamily.from_config({"model_type": model_type}) is expected
    assert ModelFamily.from_config(tmp_path) is expected
    assert ModelFamily.from_config(tmp_path / "config.json") is expected


@pytest.mark.parametrize(
    "config",
    [pytest.param({"model_type": "llava"}, id="other-model"), pytest.param({}, id="no-model-type")],
)
def test_from_config_rejects_other_models(config):
    with pytest.raises(UnknownFamilyError):
        ModelFamily.from_config(config)


def test_from_config_says_why_a_retrieval_model_cannot_ground():
    with pytest.raises(UnknownFamilyError, match="retrieval model.*writes no text"):
        ModelFamily.from_config({"model_type": "colqwen2"})
    assert "colqwen2" in NOT_GROUNDING


def test_from_config_bad_file(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(UnknownFamilyError, match="cannot read model config"):
        ModelFamily.from_config(tmp_path)


def test_the_first_families_keep_their_places():
    """Pages list the families in this order and pick FAMILIES[1] (Qwen2.5-VL) first."""
    assert [f.name for f in FAMILIES[:3]] == ["qwen2-vl", "qwen2.5-vl", "qwen3-vl"]


def test_thinking_and_trainer_templates():
    assert QWEN3_5.thinking_switch and QWEN3_5.thinks_by_default
    assert not QWEN3_VL.thinking_switch and not QWEN2_5_VL.thinks_by_default
    assert QWEN2_5_VL.trainer_templates == {"llamafactory": "qwen2_vl", "swift": "qwen2_5_vl"}
    assert QWEN3_OMNI.trainer_templates["llamafactory"] == "qwen3_omni_nothink"


@pytest.mark.parametrize(
    ("convention", "expected"),
    [("absolute-resized", (322.0, 238.0)), ("absolute-original", (320.0, 240.0)),
     ("relative-1000", (500.0, 500.0)), ("relative-1", (0.5, 0.5)),
     ("relative-1000-yx", (500.0, 500.0)), ("absolute-original-yx", (240.0, 320.0))],
)
def test_every_convention_maps_the_image_centre(convention, expected):
    from grounding import to_model, to_original

    image = process_size((640, 480), QWEN2_5_VL.with_convention(convention))
    assert to_model((320, 240), image) == pytest.approx(expected)
    assert to_original(expected, image) == pytest.approx((320.0, 240.0))


def test_with_convention_keeps_the_name_and_geometry():
    family = QWEN3_5.with_convention("absolute-original-yx")
    assert family.name == "qwen3.5" and family.factor == 32 and family.coordinates.y_first
    assert family.with_convention("absolute-original-yx") is family

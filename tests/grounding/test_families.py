"""ModelFamily: the three Qwen-VL generations, by name and from a model's config.json."""

from __future__ import annotations

import json

import pytest

from grounding import (
    FAMILIES,
    QWEN2_5_VL,
    QWEN2_VL,
    QWEN3_VL,
    CoordinateConvention,
    ModelFamily,
    UnknownFamilyError,
)


@pytest.mark.parametrize(
    ("family", "patch", "factor", "min_pixels", "max_pixels", "convention"),
    [
        pytest.param(QWEN2_VL, 14, 28, 3136, 12845056, CoordinateConvention.RELATIVE_1000, id="qwen2-vl"),
        pytest.param(QWEN2_5_VL, 14, 28, 3136, 12845056, CoordinateConvention.ABSOLUTE_RESIZED, id="qwen2.5-vl"),
        pytest.param(QWEN3_VL, 16, 32, 65536, 16777216, CoordinateConvention.RELATIVE_1000, id="qwen3-vl"),
    ],
)
def test_family_constants(family, patch, factor, min_pixels, max_pixels, convention):
    assert (family.patch_size, family.merge_size, family.factor) == (patch, 2, factor)
    assert (family.default_min_pixels, family.default_max_pixels) == (min_pixels, max_pixels)
    assert family.coordinates is convention


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("qwen2.5-vl", QWEN2_5_VL, id="canonical"),
        pytest.param("Qwen2.5-VL", QWEN2_5_VL, id="case"),
        pytest.param("qwen2_5_vl", QWEN2_5_VL, id="model-type"),
        pytest.param("qwen2-vl", QWEN2_VL, id="qwen2"),
        pytest.param("qwen3_vl_moe", QWEN3_VL, id="moe"),
    ],
)
def test_from_name(name, expected):
    assert ModelFamily.from_name(name) is expected


def test_from_name_unknown_lists_the_known_families():
    with pytest.raises(UnknownFamilyError, match="qwen2-vl, qwen2.5-vl, qwen3-vl"):
        ModelFamily.from_name("llava")


@pytest.mark.parametrize(
    ("model_type", "expected"),
    [("qwen2_vl", QWEN2_VL), ("qwen2_5_vl", QWEN2_5_VL), ("qwen3_vl", QWEN3_VL), ("qwen3_vl_moe", QWEN3_VL)],
)
def test_from_config_file_and_folder(tmp_path, model_type, expected):
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


def test_from_config_bad_file(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(UnknownFamilyError, match="cannot read model config"):
        ModelFamily.from_config(tmp_path)


def test_every_family_is_listed():
    assert {f.name for f in FAMILIES} == {"qwen2-vl", "qwen2.5-vl", "qwen3-vl"}

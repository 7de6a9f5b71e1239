"""A checkpoint's processor facts, read as transformers' own image processor reads the same files."""

from __future__ import annotations

import json

import pytest

from grounding import QWEN2_5_VL, QWEN3_5, ModelFamily, UnknownFamilyError, process_size
from grounding.checkpoint import image_processor_settings, processor_facts

transformers = pytest.importorskip("transformers")

SPELLINGS = [
    pytest.param({"min_pixels": 3136, "max_pixels": 1003520}, id="min-max-pixels"),
    pytest.param({"size": {"shortest_edge": 65536, "longest_edge": 16777216}, "patch_size": 16}, id="size-dict"),
    pytest.param({"size": {"shortest_edge": 4096, "longest_edge": 802816}, "min_pixels": 200704,
                  "max_pixels": 1003520}, id="both-top-level-wins"),
    pytest.param({"size": {"shortest_edge": 4096, "longest_edge": 802816}, "max_pixels": 2000000}, id="mixed"),
    pytest.param({}, id="class-defaults"),
    pytest.param({"patch_size": 16, "merge_size": 2, "temporal_patch_size": 2, "min_pixels": 100 * 28 * 28},
                 id="one-limit"),
]


@pytest.mark.parametrize("settings", SPELLINGS)
def test_facts_are_what_the_processor_loads(tmp_path, settings):
    from transformers import AutoImageProcessor

    (tmp_path / "preprocessor_config.json").write_text(
        json.dumps({"image_processor_type": "Qwen2VLImageProcessor", **settings}))
    processor = AutoImageProcessor.from_pretrained(tmp_path)
    facts = processor_facts(image_processor_settings(tmp_path))
    assert (facts.patch_size, facts.merge_size, facts.temporal_patch_size) == (
        processor.patch_size, processor.merge_size, processor.temporal_patch_size)
    assert (facts.min_pixels, facts.max_pixels) == (processor.size["shortest_edge"], processor.size["longest_edge"])


def test_checkpoint_family_carries_its_own_limits(tmp_path):
    """A UI-TARS-like fine-tune of Qwen2.5-VL with its own min_pixels: its geometry follows it."""
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "qwen2_5_vl"}))
    (tmp_path / "preprocessor_config.json").write_text(json.dumps(
        {"image_processor_type": "Qwen2VLImageProcessor", "min_pixels": 100 * 28 * 28, "max_pixels": 16384 * 28 * 28}))
    family = ModelFamily.from_checkpoint(tmp_path)
    assert family.name == "qwen2.5-vl" and family.coordinates is QWEN2_5_VL.coordinates
    assert (family.default_min_pixels, family.default_max_pixels) == (78400, 12845056)
    assert process_size((100, 100), family).resized_wh == (280, 280)  # scaled up to its own min_pixels


def test_transformers_5_processor_bundle_and_table_values(tmp_path):
    """processor_config.json (how transformers 5 saves) is read too; table values give the table's object."""
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "qwen3_5"}))
    (tmp_path / "processor_config.json").write_text(json.dumps({"image_processor": {
        "patch_size": 16, "merge_size": 2, "temporal_patch_size": 2,
        "size": {"shortest_edge": 65536, "longest_edge": 16777216}}}))
    assert ModelFamily.from_checkpoint(tmp_path) is QWEN3_5


def test_folder_without_processor_settings_is_the_table_row(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "qwen3_5"}))
    assert ModelFamily.from_checkpoint(tmp_path) is QWEN3_5


@pytest.mark.parametrize(
    ("settings", "message"),
    [({"patch_size": "16"}, "patch_size"), ({"size": {"height": 448, "width": 448}}, "shortest_edge"),
     ({"min_pixels": -1}, "min_pixels|shortest_edge")],
)
def test_bad_settings_say_what_is_wrong(settings, message):
    with pytest.raises(UnknownFamilyError, match=message):
        processor_facts(settings)


def test_not_a_folder(tmp_path):
    with pytest.raises(UnknownFamilyError, match="not a checkpoint folder"):
        ModelFamily.from_checkpoint(tmp_path / "nothing")

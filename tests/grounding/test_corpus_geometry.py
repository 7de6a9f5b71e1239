"""The real corpus: the sizes the models saw, and model-space boxes converted to the recorded originals.

Each case in ../shared/reference/qwen-outputs records the original size, (for Qwen2.5-VL) the resized size
the model saw, and the coordinates both as the model wrote them and in original pixels.
"""

from __future__ import annotations

import pytest

from grounding import ModelFamily, PixelLimits, process_size, round_half_up, to_original


def _family(case: dict) -> ModelFamily:
    name = case["model"].split()[0]
    # Qwen-VL (v1) writes 0-1000 like Qwen2-VL; its resize rule does not matter for relative coordinates.
    return ModelFamily.from_name("qwen2-vl" if name == "qwen-vl" else name)


def _is_model_generation(case: dict) -> bool:
    return not case["id"].startswith("supervision-")


def test_resized_sizes_match_what_the_models_saw(corpus):
    checked = 0
    for case in filter(_is_model_generation, corpus):
        if not (case["original_wh"] and case["resized_wh"] and case["min_pixels"]):
            continue
        limits = PixelLimits(case["min_pixels"], case["max_pixels"])
        image = process_size(tuple(case["original_wh"]), _family(case), limits)
        assert list(image.resized_wh) == case["resized_wh"], case["id"]
        checked += 1
    assert checked >= 10


def test_model_space_coordinates_convert_to_the_recorded_originals(corpus):
    checked = 0
    for case in filter(_is_model_generation, corpus):
        if not (case["original_wh"] and case["expected"] and case.get("expected_model_space")):
            continue
        family = _family(case)
        if family.is_relative:
            image = process_size(tuple(case["original_wh"]), family)
        elif case["resized_wh"] and case["min_pixels"]:
            image = process_size(tuple(case["original_wh"]), family,
                                 PixelLimits(case["min_pixels"], case["max_pixels"]))
        else:
            continue
        for model, expected in zip(case["expected_model_space"], case["expected"]):
            coords = model.get("bbox") or model.get("point")
            want = expected.get("bbox_original") or expected.get("point_original")
            got = to_original(coords, image)
            if family.is_relative:  # recorded as v/1000*size with 2 decimals
                assert got == pytest.approx(want, abs=0.006), case["id"]
            else:  # recorded as round-half-up of v*W/W'
                assert [round_half_up(v) for v in got] == want, case["id"]
            checked += 1
    assert checked >= 40


def test_corpus_images_probe_to_the_recorded_original_sizes(corpus, corpus_images):
    from grounding import read_image_size

    sizes = {}
    for case in corpus:
        for name in (p.name for p in corpus_images.iterdir()):
            if name in case["notes"] and case["original_wh"]:
                sizes.setdefault(name, set()).add(tuple(case["original_wh"]))
    assert sizes
    for name, recorded in sizes.items():
        assert read_image_size(corpus_images / name).wh in recorded, name

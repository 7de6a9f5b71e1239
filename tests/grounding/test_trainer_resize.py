"""Trainer pre-resize (LLaMA-Factory) composed with the Qwen resize, checked against the real processor."""

from __future__ import annotations

import pytest

from grounding import PixelLimits, process_size, to_model
from grounding.trainer_resize import llamafactory_resize_wh, trainer_geometry


@pytest.mark.parametrize(("size", "expected"), [
    pytest.param((640, 480), (640, 480), id="under-the-cap"),
    pytest.param((768, 768), (768, 768), id="exactly-the-cap"),
    pytest.param((2000, 1500), (886, 665), id="shrunk-to-768x768-area"),
    pytest.param((4032, 3024), (886, 665), id="phone-photo"),
    pytest.param((3000, 500), (1881, 313), id="wide"),
    pytest.param((20, 10), (45, 28), id="enlarged-then-28px-side"),
    pytest.param((10000, 20), (5040, 28), id="thin-widened-then-squeezed"),  # 10000x28, ratio 357 -> 28*180
])
def test_llamafactory_resize_by_hand(size, expected):
    # e.g. 3000x500: factor sqrt(589824 / 1.5e6) = 0.62707 -> int(1881.2) x int(313.5)
    assert llamafactory_resize_wh(size) == expected


def test_trainer_geometry_maps_original_pixels_through_both_resizes():
    # 2000x1500 -> 886x665 (LLaMA-Factory) -> 896x672 (Qwen2.5-VL checkpoint limits)
    image = trainer_geometry((2000, 1500), "qwen2.5-vl", pre_resize_wh=(886, 665))
    assert (image.original_wh, image.resized_wh) == ((2000, 1500), (896, 672))
    assert to_model((500, 375, 1500, 1125), image) == (224.0, 168.0, 672.0, 504.0)
    assert trainer_geometry((2000, 1500), "qwen2.5-vl").resized_wh == process_size((2000, 1500), "qwen2.5-vl").resized_wh


@pytest.mark.parametrize(("size", "family", "limits"), [
    pytest.param((2000, 1500), "qwen2.5-vl", PixelLimits(3136, 12845056), id="q25-checkpoint"),
    pytest.param((4032, 3024), "qwen2.5-vl", PixelLimits(784, 50176), id="q25-training-script"),
    pytest.param((3000, 500), "qwen3-vl", PixelLimits(65536, 16777216), id="q3-checkpoint"),
    pytest.param((20, 10), "qwen2-vl", PixelLimits(3136, 12845056), id="q2-tiny"),
])
def test_pre_resized_image_gets_the_grid_the_real_processor_gives(tmp_path, size, family, limits):
    """Resize a real image as LLaMA-Factory does, run transformers' Qwen2-VL image processor on it,
    and compare its image_grid_thw with our geometry."""
    np = pytest.importorskip("numpy")
    pytest.importorskip("torch")
    from PIL import Image
    from transformers import Qwen2VLImageProcessor

    factor = 16 if family == "qwen3-vl" else 14
    processor = Qwen2VLImageProcessor(patch_size=factor, merge_size=2, temporal_patch_size=2,
                                      size={"shortest_edge": limits.min_pixels, "longest_edge": limits.max_pixels})
    pre = llamafactory_resize_wh(size)
    image = Image.fromarray(np.full((size[1], size[0], 3), 127, np.uint8)).resize(pre)
    grid = processor(images=[image], return_tensors="np")["image_grid_thw"][0].tolist()
    seen = trainer_geometry(size, family, limits, pre_resize_wh=pre)
    assert grid == list(seen.grid_thw)


def test_trainer_resize_stays_pure():
    import subprocess
    import sys

    code = ("import grounding.trainer_resize as t, sys; t.trainer_geometry((640, 480), 'qwen2.5-vl'); "
            "print(sorted(m for m in ('torch', 'torchvision', 'gradio') if m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"

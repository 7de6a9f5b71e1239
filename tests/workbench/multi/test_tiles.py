"""Tiled grounding: a fake model that reads where each crop lies from its pixels answers with known
objects, so merging, refinement and the single-pass comparison are checked against exact answers;
then the tiny model, a real server and the CLI (wiring)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from grounding import process_size, to_model
from workbench.backends import (
    FakeBackend,
    LocalTransformersBackend,
    OpenAICompatibleBackend,
)
from workbench.cli import app
from workbench.errors import WorkbenchError
from workbench.multi.tiles import ground_tiled

IMAGE_WH = (3000, 800)
BUDGET = 300_000
OBJECTS = [  # label, box in image pixels; the small ones vanish when the whole image is shrunk to the budget
    ("car", (100.0, 100.0, 700.0, 400.0)),
    ("car", (640.0, 450.0, 1400.0, 780.0)),  # crosses tile edges
    ("tree", (1500.0, 50.0, 1560.0, 120.0)),
    ("tree", (2950.0, 10.0, 2990.0, 40.0)),  # small
    ("car", (2000.0, 300.0, 2900.0, 700.0)),
]
LOOSE = 6.0


def position_image(path, wh=IMAGE_WH):
    """Each pixel encodes its own position: R = x % 256, G = x // 256 + 16 * (y // 256), B = y % 256."""
    w, h = wh
    xs, ys = np.meshgrid(np.arange(w), np.arange(h))
    pixels = np.stack([xs % 256, xs // 256 + 16 * (ys // 256), ys % 256], axis=-1).astype(np.uint8)
    Image.fromarray(pixels, "RGB").save(path)
    return path


def where(crop: Image.Image) -> tuple[int, int]:
    r, g, b = crop.getpixel((0, 0))
    return (r + 256 * (g % 16), b + 256 * (g // 16))


def fake_model(request, geometry) -> str:
    """Sees the crop it was given: reports each object in view, clipped to the crop. On the user's
    question ("vehicle") boxes are a few pixels loose; asked for one label (a refinement crop) they are
    exact. Objects under 16 pixels across (as the model saw them) are missed, as small objects are in a shrunk image."""
    (crop,), (image,) = request.images, geometry
    ox, oy = where(crop)
    w, h = crop.size
    loose = LOOSE if "vehicle" in request.prompt else 0.0
    objects = []
    for label, (x1, y1, x2, y2) in OBJECTS:
        if not loose and label not in request.prompt:
            continue
        part = (max(x1 - loose, ox), max(y1 - loose, oy), min(x2 + loose, ox + w), min(y2 + loose, oy + h))
        if part[2] - part[0] < 1 or part[3] - part[1] < 1:
            continue
        model = to_model((part[0] - ox, part[1] - oy, part[2] - ox, part[3] - oy), image)
        if (x2 - x1) * image.resized_wh[0] / w < 16:  # the object's own width as the model saw it
            continue
        objects.append({"bbox_2d": [float(v) for v in model], "label": label})
    return json.dumps(objects)


@pytest.mark.parametrize("family", ["qwen2.5-vl", "qwen3-vl"])
def test_tiles_merge_back_refine_and_compare_with_the_single_pass(tmp_path, family):
    image = position_image(tmp_path / "big.png")
    calls: list[int] = []
    result = ground_tiled(FakeBackend(fake_model, family=family), image, target="vehicle", tile_max_pixels=BUDGET,
                          overlap=0.2, refine=True, on_progress=lambda done, total: calls.append(total))
    assert result["original"] == list(IMAGE_WH)
    assert len(result["tiles"]) > 1 and all(t["size"][0] * t["size"][1] <= BUDGET for t in result["tiles"])
    assert all(r[0] * r[1] <= BUDGET for r in (t["resized"] for t in result["tiles"]))
    found = sorted(result["detections"], key=lambda d: d["original"][0])
    expected = sorted(OBJECTS, key=lambda o: o[1][0])
    assert [d["label"] for d in found] == [label for label, _ in expected]
    for detection, (_, box) in zip(found, expected):
        assert detection["original"] == pytest.approx(list(box), abs=0.5)  # refined to the exact box
        assert detection["attributes"]["refined"]
        before = detection["attributes"]["before_refine"]
        assert before == pytest.approx([max(box[0] - LOOSE, 0), max(box[1] - LOOSE, 0),
                                        min(box[2] + LOOSE, IMAGE_WH[0]), min(box[3] + LOOSE, IMAGE_WH[1])], abs=0.5)
    assert any(len(d["attributes"].get("tiles", [])) > 1 for d in found)
    # the single pass saw the image shrunk to the budget: the small tree is missing there
    comparison = result["comparison"]
    single = result["single"]["detections"]
    assert comparison["tiled_boxes"] == 5 and comparison["single_boxes"] == len(single) == 4
    assert [result["detections"][i]["original"] for i in comparison["only_a"]] == [pytest.approx(list(OBJECTS[3][1]), abs=0.5)]
    assert comparison["only_b"] == [] and len(comparison["matched"]) == 4
    assert process_size(IMAGE_WH, family, None).resized_wh != tuple(result["single"]["resized"])
    assert result["single"]["resized"][0] * result["single"]["resized"][1] <= BUDGET
    assert calls and calls[-1] == len(result["tiles"]) + 5 + 1
    json.dumps(result)


def test_refinement_is_bounded_and_says_which_boxes_it_refined(tmp_path):
    image = position_image(tmp_path / "big.png")
    result = ground_tiled(FakeBackend(fake_model), image, target="vehicle", tile_max_pixels=BUDGET, refine=True,
                          max_refine=2, compare=False)
    refined = [d for d in result["detections"] if d["attributes"].get("refined")]
    assert len(refined) == 2 and len(result["detections"]) == 5
    assert "refined the first 2 of 5 boxes (one model call each)" in result["warnings"]


def test_without_refinement_the_merged_boxes_are_the_tiles_answers(tmp_path):
    image = position_image(tmp_path / "big.png")
    result = ground_tiled(FakeBackend(fake_model), image, target="vehicle", tile_max_pixels=BUDGET, compare=False)
    assert result["single"] is None and result["comparison"] is None
    for detection in result["detections"]:
        _label, box = next(o for o in OBJECTS if o[0] == detection["label"] and abs(o[1][0] - detection["original"][0]) < 10)
        assert detection["original"] == pytest.approx([max(box[0] - LOOSE, 0), max(box[1] - LOOSE, 0),
                                                       min(box[2] + LOOSE, IMAGE_WH[0]), min(box[3] + LOOSE, IMAGE_WH[1])], abs=0.5)


def test_an_image_the_model_cannot_take_whole_is_still_tiled(tmp_path):
    image = position_image(tmp_path / "strip.png", (4020, 20))  # aspect ratio 201: no single pass
    result = ground_tiled(FakeBackend(lambda r, g: "[]"), image, target="vehicle", tile_max_pixels=20_000)
    assert "aspect ratio" in result["single"]["error"] and result["comparison"] is None
    assert len(result["tiles"]) >= 3


def test_bad_tiling_settings_are_refused(tmp_path):
    image = position_image(tmp_path / "big.png", (100, 100))
    with pytest.raises(WorkbenchError, match="cannot tile the image: overlap"):
        ground_tiled(FakeBackend(lambda r, g: "[]"), image, target="x", overlap=0.95)


@pytest.mark.slow
@pytest.mark.parametrize("model_fixture", ["tiny_qwen25", "tiny_qwen3"])
def test_tiny_model_grounds_every_tile_within_the_budget(request, tmp_path, model_fixture):
    backend = LocalTransformersBackend(str(request.getfixturevalue(model_fixture)), local_files_only=True)
    image = position_image(tmp_path / "wide.png", (1600, 300))
    result = ground_tiled(backend, image, target="car", tile_max_pixels=120_000, max_new_tokens=3)
    family = backend.family()
    assert len(result["tiles"]) == len(result["plan"]["tiles"]) > 1
    for tile in result["tiles"]:
        limits = result["limits"]
        from grounding import PixelLimits

        expected = process_size(tuple(tile["size"]), family, PixelLimits(limits["min_pixels"], limits["max_pixels"]))
        assert tile["resized"] == list(expected.resized_wh)
    assert "resized" in result["single"]
    json.dumps(result)


@pytest.mark.slow
def test_real_server_and_cli(serve_url, tiny_qwen25, tmp_path):
    image = position_image(tmp_path / "wide.png", (1200, 200))
    backend = OpenAICompatibleBackend(str(tiny_qwen25), base_url=serve_url, family="qwen2.5-vl",
                                      limits_style="transformers", timeout=60, max_retries=0)
    result = ground_tiled(backend, image, prompt="Find the cars.", tile_max_pixels=60_000, max_new_tokens=2)
    assert len(result["tiles"]) > 1 and result["single"]["resized"][0] * result["single"]["resized"][1] <= 60_000
    cli = CliRunner().invoke(app, ["tile", str(image), "--target", "car", "--model", str(tiny_qwen25),
                                   "--tile-pixels", "60000", "--max-new-tokens", "2", "--no-compare"])
    assert cli.exit_code == 0, cli.output
    report = json.loads(cli.stdout)
    assert report["plan"]["grid"][0] > 1 and report["single"] is None

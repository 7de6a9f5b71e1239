"""``probe_order`` and ``workbench probe-order``: known answers through the real request/parse path (FakeBackend),
then the tiny model and a real ``transformers serve`` end to end (wiring, not quality)."""

from __future__ import annotations

import json

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
from workbench.multi.order_probe import probe_order

KNOWN = {"img1": (100.0, 50.0, 300.0, 250.0), "img2": (20.0, 40.0, 220.0, 240.0)}
SHIFTED = (20.0, 40.0, 220.0, 140.0)  # IoU 0.5 with KNOWN["img2"]


def model_answer(request, geometry) -> str:
    """img1 is found the same way in every order; img2 gets half its box when it is shown first."""
    objects = []
    for picture, (image_id, image) in enumerate(zip(request.image_ids, geometry), start=1):
        box = SHIFTED if (image_id == "img2" and picture == 1) else KNOWN[image_id]
        objects.append({"bbox_2d": [float(v) for v in to_model(box, image)], "label": "cat", "image": picture})
    return json.dumps(objects)


def test_known_answers_come_back_on_their_source_images_with_known_agreement(two_images):
    report = probe_order(FakeBackend(model_answer), two_images, target="cat")
    assert report["orders"] == [[1, 2], [2, 1]]
    one, two = report["images"]
    assert (one["agreement"], one["counts"], one["count_spread"]) == (1.0, [1, 1], 0)
    assert two["agreement"] == pytest.approx(0.5) and two["matched_iou"] == pytest.approx(0.5)
    assert two["boxes"][0][0]["box"] == pytest.approx(list(KNOWN["img2"]))
    assert two["boxes"][1][0]["box"] == pytest.approx(list(SHIFTED))
    assert two["boxes"][1][0]["picture"] == 1
    second = report["answers"][1]
    assert second["image_ids"] == ["img2", "img1"]
    assert "Picture 1 is img2, Picture 2 is img1" in second["prompt"]
    assert [(d["image"], d["image_id"], d["attributes"]["picture"]) for d in second["detections"]] == [
        (2, "img2", 1), (1, "img1", 2)]
    assert [i["original"] for i in second["images"]] == [[300, 500], [640, 480]]
    assert report["most_consistent_order"] == [1, 2]  # tied scores: the given order
    json.dumps(report)


def test_chosen_orders_and_bad_input_are_checked(two_images):
    backend = FakeBackend(model_answer)
    assert probe_order(backend, two_images, target="cat", orders=[[2, 1]])["orders"] == [[2, 1]]
    with pytest.raises(WorkbenchError, match="at least two images"):
        probe_order(backend, two_images[:1], target="cat")
    with pytest.raises(WorkbenchError, match=r"order \[1, 1\] must list each of the images 1..2 once"):
        probe_order(backend, two_images, target="cat", orders=[[1, 1]])
    with pytest.raises(WorkbenchError, match="either a target"):
        probe_order(backend, two_images)


@pytest.mark.slow
@pytest.mark.parametrize("model_fixture", ["tiny_qwen25", "tiny_qwen3"])
def test_tiny_model_runs_every_order_with_its_own_geometry(request, two_images, model_fixture):
    backend = LocalTransformersBackend(str(request.getfixturevalue(model_fixture)), local_files_only=True)
    seen: list[tuple[int, int]] = []
    report = probe_order(backend, two_images, target="cat", naming="ids", image_ids=["front", "back"],
                         max_new_tokens=3, on_progress=lambda done, total: seen.append((done, total)))
    family = backend.family()
    assert seen == [(1, 2), (2, 2)]
    for answer, sizes in zip(report["answers"], [[(640, 480), (300, 500)], [(300, 500), (640, 480)]]):
        assert [tuple(i["resized"]) for i in answer["images"]] == [process_size(s, family).resized_wh for s in sizes]
        assert answer["finish_reason"] == "length"
        assert "each written after its name" in answer["prompt"]
    assert len(report["images"]) == 2 and report["family"] == family.name
    json.dumps(report)


@pytest.mark.slow
def test_through_a_real_server_and_the_cli(serve_url, tiny_qwen25, two_images, tmp_path):
    backend = OpenAICompatibleBackend(str(tiny_qwen25), base_url=serve_url, family="qwen2.5-vl",
                                      limits_style="transformers", timeout=60, max_retries=0)
    report = probe_order(backend, two_images, prompt="Find the cats.", max_new_tokens=2)
    assert [a["images"][0]["original"] for a in report["answers"]] == [[640, 480], [300, 500]]
    result = CliRunner().invoke(app, ["probe-order", *map(str, two_images), "--target", "cat", "--model", str(tiny_qwen25),
                                      "--max-new-tokens", "2", "--order", "2,1", "--order", "1,2",
                                      "--plot", str(tmp_path / "plot.png")])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["orders"] == [[2, 1], [1, 2]]
    assert Image.open(tmp_path / "plot.png").format == "PNG"

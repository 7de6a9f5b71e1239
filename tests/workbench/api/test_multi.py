"""The checked functions behind the multi-image endpoints: arguments answered in words before any model runs,
the deployment's limits, and the caller's file names (never the server's paths) in answers and messages."""

from __future__ import annotations

import json

import pytest

from grounding import to_model
from tests.factories import write_image
from workbench.api import multi
from workbench.api.args import ArgumentError
from workbench.backends import FakeBackend
from workbench.deployment import Deployment, ResourceLimits
from workbench.errors import WorkbenchError
from workbench.services import Services


def whole_last_image(request, geometry) -> str:
    box = [float(v) for v in to_model((0, 0, *geometry[-1].original_wh), geometry[-1])]
    return json.dumps([{"bbox_2d": box, "label": "all"}])


@pytest.fixture
def services(tmp_path):
    calls: list[object] = []

    def factory(kind, **options):
        def answer(request, geometry):
            calls.append(request)
            return whole_last_image(request, geometry)

        return FakeBackend(answer, family=options.get("family", "qwen2.5-vl"), model=options.get("model", "fake"))

    services = Services.create(tmp_path / "data", backend_factory=factory)
    services.calls = calls  # type: ignore[attr-defined]
    return services


@pytest.fixture
def uploads(tmp_path):
    folder = tmp_path / "upload-folder-x1"
    folder.mkdir()
    paths = [write_image(folder, 640, 480, name="u1.png"), write_image(folder, 300, 500, name="u2.png", seed=2)]
    return [str(p) for p in paths], ["front.png", "back.png"]


def test_every_answer_names_the_callers_files(services, uploads):
    paths, names = uploads
    common = {"services": services, "names": names, "target": "cat", "base_url": "http://127.0.0.1:1/v1",
              "family": "qwen2.5-vl", "model": "m"}
    results = [
        multi.prompt_preview(paths, naming="ids", image_ids=["f", "b"], **common),
        multi.order_probe(paths, **common),
        multi.canvas(paths, layout="grid", **common),
        multi.steps(paths, **common),
    ]
    before = len(services.calls)
    results.append(multi.tiles(paths[0], services=services, name=names[0], target="cat", tile_max_pixels=100_000,
                               base_url="http://127.0.0.1:1/v1", model="m"))
    for result in results:
        assert "upload-folder-x1" not in json.dumps(result)
    preview, probe, merged, steps, tiled = results
    assert preview["naming"] == "ids" and '"f"' in preview["prompt"]
    assert [row["file"] for row in probe["answers"][1]["images"]] == ["back.png", "front.png"]
    assert [s["file"] for s in merged["sources"]] == names and merged["layout"]["layout"] == "grid"
    assert [row["file"] for row in steps["images"]] == names
    assert [d["original"] for d in steps["detections"]] == [[0.0, 0.0, 640.0, 480.0], [0.0, 0.0, 300.0, 500.0]]
    assert tiled["file"] == "front.png" and len(tiled["tiles"]) == len(services.calls) - before - 1  # + one pass


def test_the_canvas_is_kept_within_the_upload_pixel_limit_by_default(services, uploads):
    paths, names = uploads
    services.deployment = Deployment(limits=ResourceLimits(upload_pixels=400_000))  # each fits, both do not
    result = multi.canvas(paths, services=services, names=names, target="cat", base_url="http://127.0.0.1:1/v1",
                          model="m")
    width, height = result["layout"]["canvas"]
    assert 640 * 480 + 300 * 500 > 400_000 >= width * height


@pytest.mark.parametrize(("call", "message"), [
    (lambda s, p, n: multi.order_probe(p[:1], services=s, names=n[:1], target="cat"), "at least two images"),
    (lambda s, p, n: multi.order_probe(p, services=s, names=n, target="cat", orders=[[1, 2, 3]]),
     r"orders\[0\] must list each of the 2 image positions once"),
    (lambda s, p, n: multi.order_probe(p, services=s, names=n, target="cat", orders="1,2"),
     "orders must be a list of orders"),
    (lambda s, p, n: multi.order_probe(p, services=s, names=n, target="cat", max_orders=100),
     "max_orders must be at most 24"),
    (lambda s, p, n: multi.steps(p, services=s, names=n, target="cat", image_ids=["a"]), "one ID per image"),
    (lambda s, p, n: multi.steps(p, services=s, names=n, target="cat", naming="Picture"),
     "naming must be one of , none, picture, ids"),
    (lambda s, p, n: multi.canvas(p, services=s, names=n, target="cat", match_size="yes"),
     "match_size must be true or false, got text"),
    (lambda s, p, n: multi.canvas(p, services=s, names=n, target="cat", columns=5), "columns must be at most 2"),
    (lambda s, p, n: multi.prompt_preview(p, services=s, names=n), "give a target"),
    (lambda s, p, n: multi.prompt_preview(p, services=s, names=n, target="cat", task="masks"), "task must be one of"),
    (lambda s, p, n: multi.prompt_preview(p, services=s, names=n, target="cat", backend="local",
                                          base_url="http://127.0.0.1:1/v1"), "base_url is for the openai backend"),
    (lambda s, p, n: multi.tiles(p[0], services=s, name=n[0], target="cat", overlap=0.9),
     "overlap must be between 0 and 0.5, got 0.9"),
])
def test_bad_arguments_are_answered_in_words_before_any_model_runs(services, uploads, call, message):
    paths, names = uploads
    with pytest.raises(ArgumentError, match=message):
        call(services, paths, names)
    assert services.calls == []


@pytest.mark.parametrize(("budget", "message"), [
    (100, r"a tile needs at least 3136 pixels for qwen2.5-vl \(4·28²\), got 100"),
    (3136, r"front.png would need \d+ tiles of at most 3136 pixels; at most 64 here"),
])
def test_a_tile_budget_is_checked_against_the_family_before_any_model_runs(services, uploads, budget, message):
    paths, names = uploads
    with pytest.raises(WorkbenchError, match=message):
        multi.tiles(paths[0], services=services, name=names[0], target="cat", tile_max_pixels=budget,
                    base_url="http://127.0.0.1:1/v1", model="m")
    assert services.calls == []


def test_the_deployment_limits_apply(services, uploads):
    paths, names = uploads
    services.deployment = Deployment(limits=ResourceLimits(images_per_request=1, max_new_tokens=64, upload_pixels=1000))
    with pytest.raises(ArgumentError, match="at most 1 images per request here, got 2"):
        multi.steps(paths, services=services, names=names, target="cat")
    with pytest.raises(ArgumentError, match="front.png: 640 x 480 = .* at most"):
        multi.tiles(paths[0], services=services, name=names[0], target="cat")
    services.deployment = Deployment(limits=ResourceLimits(max_new_tokens=64))
    with pytest.raises(ArgumentError, match="max_new_tokens must be at most 64"):
        multi.canvas(paths, services=services, names=names, target="cat", max_new_tokens=65)
    assert services.calls == []


def test_a_file_that_fails_late_is_named_by_the_caller(services, tmp_path):
    good = write_image(tmp_path, 64, 48, name="whole.png")
    broken = tmp_path / "server-side-cut.png"
    broken.write_bytes(good.read_bytes()[:60])  # the header reads, the pixels do not
    with pytest.raises(WorkbenchError) as caught:
        multi.canvas([str(good), str(broken)], services=services, names=["a.png", "cut.png"], target="cat",
                     base_url="http://127.0.0.1:1/v1", model="m")
    assert "cut.png: unreadable image" in str(caught.value) and str(tmp_path) not in str(caught.value)


def test_a_public_deployment_gates_every_tool_like_ground(tmp_path, uploads):
    made: list[str] = []
    services = Services.create(tmp_path / "data", public=True,
                               backend_factory=lambda kind, **options: made.append(kind) or FakeBackend(whole_last_image))
    paths, names = uploads
    for call, message in (
        (lambda: multi.prompt_preview(paths, services=services, names=names, target="cat", backend="local",
                                      model=str(tmp_path)), "not offered here"),
        (lambda: multi.order_probe(paths, services=services, names=names, target="cat", backend="local",
                                   model=str(tmp_path)), "not offered here"),
        (lambda: multi.tiles(paths[0], services=services, name=names[0], target="cat",
                             base_url="http://127.0.0.1:9/v1"), "this app has no server backend"),
    ):
        with pytest.raises(WorkbenchError, match=message):
            call()
    assert made == []

"""The multi-image endpoints' plain functions: backends by kind and options from Services, JSON out."""

from __future__ import annotations

import json

import pytest

from grounding import to_model
from workbench.backends import FakeBackend
from workbench.multi.tools import (
    canvas_grounding,
    canvas_make,
    canvas_parse,
    order_probe,
    prompt_preview,
    step_grounding,
    tiled_grounding,
)
from workbench.services import Services


def whole_image_box(request, geometry) -> str:
    """A box over the whole of the last image, and the image key naming it."""
    box = [float(v) for v in to_model((0, 0, *geometry[-1].original_wh), geometry[-1])]
    return json.dumps([{"bbox_2d": box, "label": "all", "image": len(geometry)}])


@pytest.fixture
def services(tmp_path):
    made: list[tuple[str, dict]] = []

    def factory(kind, **options):
        made.append((kind, options))
        return FakeBackend(whole_image_box, family=options.get("family", "qwen2.5-vl"), model=options.get("model", "fake"))

    services = Services.create(tmp_path / "data", backend_factory=factory)
    services.made = made  # type: ignore[attr-defined]
    return services


def test_every_endpoint_returns_json_with_the_backend_it_was_asked_for(services, two_images, tmp_path):
    paths = [str(p) for p in two_images]
    common = {"services": services, "backend": "openai", "model": "m", "base_url": "http://127.0.0.1:1/v1",
              "family": "qwen3-vl"}
    preview = prompt_preview(paths, target="cat", naming="ids", image_ids=["front", "back"], **common)
    assert [p.get("text") for p in preview["messages"][0]["content"]][:1] == ["front: "]
    assert preview["prompt"].startswith('Locate every instance that belongs to the following categories: "cat"')
    probe = order_probe(paths, target="cat", **common)
    assert probe["orders"] == [[1, 2], [2, 1]] and probe["family"] == "qwen3-vl"
    steps = step_grounding(paths, target="cat", **common)
    assert [d["original"] for d in steps["detections"]] == [[0.0, 0.0, 640.0, 480.0], [0.0, 0.0, 300.0, 500.0]]
    merged = canvas_grounding(paths, target="cat", layout="v", canvas_max_pixels=100_000, **common)
    assert merged["layout"]["canvas"][0] * merged["layout"]["canvas"][1] <= 100_000
    tiled = tiled_grounding(paths[0], target="cat", tile_max_pixels=100_000, **common)
    assert tiled["plan"]["grid"][0] * tiled["plan"]["grid"][1] == len(tiled["tiles"]) > 1
    ((kind, options),) = services.made  # one backend for every call, with what was asked (plus the deployment's limits)
    assert kind == "openai" and {k: options[k] for k in ("model", "base_url", "family")} == {
        "model": "m", "base_url": "http://127.0.0.1:1/v1", "family": "qwen3-vl"}
    doc = canvas_make(paths, tmp_path / "canvas", layout="grid", gap=3)
    parsed = canvas_parse('[{"bbox_2d": [0, 0, 10, 10], "label": "x"}]', str(tmp_path / "canvas" / "layout.json"))
    assert doc["gap"] == 3 and parsed["detections"][0]["image"] == 1
    for result in (preview, probe, steps, merged, tiled, doc, parsed):
        json.dumps(result)

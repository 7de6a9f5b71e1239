"""Merged canvas: placements, the picture itself, and known answers split back to their sources."""

from __future__ import annotations

import itertools
import json
import random

import pytest
from PIL import Image

from grounding import GeometryError, process_size
from grounding.canvas import (
    CanvasLayout,
    compose_canvas,
    plan_canvas,
    snap_for,
    split_detections,
)
from grounding.parse import Detection, parse_grounding
from tests.grounding.known_answers import answer_text, model_unit_in_original

SIZES = {
    "one": [(640, 480)],
    "two-mixed": [(640, 480), (300, 500)],
    "three-wide": [(640, 480), (300, 500), (1024, 256)],
    "five-mixed": [(640, 480), (300, 500), (1024, 256), (97, 131), (800, 800)],
}
LAYOUTS = ["h", "v", "grid"]
BUDGETS = {"native": None, "limited": 200_000, "tight": 30_000}


def random_boxes(rng: random.Random, wh: tuple[int, int], count: int) -> list[tuple[float, float, float, float]]:
    w, h = wh
    boxes = []
    for _ in range(count):
        x1, y1 = rng.uniform(0, w * 0.8), rng.uniform(0, h * 0.8)
        boxes.append((x1, y1, rng.uniform(x1 + 1, w), rng.uniform(y1 + 1, h)))
    return boxes


def cases():
    for (name, sizes), kind, (budget_name, budget), match, gap in itertools.product(
        SIZES.items(), LAYOUTS, BUDGETS.items(), [True, False], [0, 7]
    ):
        yield pytest.param(sizes, kind, budget, match, gap, id=f"{name}-{kind}-{budget_name}-{'match' if match else 'native'}-gap{gap}")


@pytest.mark.parametrize(("sizes", "kind", "budget", "match", "gap"), list(cases()))
def test_placements_fit_the_canvas_and_the_budget_without_overlapping(sizes, kind, budget, match, gap):
    layout = plan_canvas(sizes, kind, max_pixels=budget, match_size=match, gap=gap)
    cw, ch = layout.canvas_wh
    assert budget is None or cw * ch <= budget
    rects = [p.rect for p in layout.placements]
    assert all(0 <= x1 < x2 <= cw and 0 <= y1 < y2 <= ch for x1, y1, x2, y2 in rects)
    for a, b in itertools.combinations(rects, 2):
        assert min(a[2], b[2]) - max(a[0], b[0]) <= -gap or min(a[3], b[3]) - max(a[1], b[1]) <= -gap
    for size, placement in zip(sizes, layout.placements):
        assert placement.source_wh == size
        sx, sy = placement.scale_xy
        assert sx == pytest.approx(sy, rel=0.05, abs=2 / min(placement.placed_wh))  # aspect ratio kept (rounding aside)
    if budget is None and not match:
        assert all(p.placed_wh == p.source_wh for p in layout.placements)
    assert CanvasLayout.from_dict(json.loads(json.dumps(layout.as_dict()))) == layout


@pytest.mark.parametrize("family", ["qwen2.5-vl", "qwen3-vl"])
@pytest.mark.parametrize(("sizes", "kind", "budget", "match", "gap"), list(cases()))
def test_known_answers_split_back_within_half_a_pixel(family, sizes, kind, budget, match, gap):
    rng = random.Random(f"{family}{sizes}{kind}{budget}{match}{gap}")
    layout = plan_canvas(sizes, kind, max_pixels=budget, match_size=match, gap=gap)
    geometry = process_size(layout.canvas_wh, family)
    known = [(f"obj{s}", box, s) for s, size in enumerate(sizes, start=1) for box in random_boxes(rng, size, 3)]
    points = [(f"pt{s}", (rng.uniform(0, w), rng.uniform(0, h)), s) for s, (w, h) in enumerate(sizes, start=1)]
    on_canvas = [(label, layout.placements[s - 1].to_canvas(coords), None) for label, coords, s in known + points]
    for exact in (True, False):
        parsed = parse_grounding(answer_text(on_canvas, geometry, exact=exact), family, geometry)
        split, warnings = split_detections(parsed.detections, layout, snap=0.0 if exact else snap_for(geometry))
        assert [d.image for d in split] == [s for _, _, s in known + points]
        assert [d.label for d in split] == [label for label, _, _ in known + points]
        for detection, (_, coords, s) in zip(split, known + points):
            placement = layout.placements[s - 1]
            if exact:
                tolerance = 0.5
            else:  # half a model unit on the canvas, in this source's pixels
                ux, uy = model_unit_in_original(geometry)
                tolerance = 0.5 * max(ux / placement.scale_xy[0], uy / placement.scale_xy[1]) + 1e-6
            assert detection.original == pytest.approx(coords, abs=tolerance)
            assert detection.attributes["canvas"] == list(parsed.detections[split.index(detection)].original)
        if exact:
            assert not any(d.attributes.get("clipped") for d in split) and warnings == ()


def test_a_box_across_a_seam_is_clipped_to_the_image_it_overlaps_most_and_flagged():
    layout = plan_canvas([(200, 100), (100, 100)], "h", gap=10)  # source 2 spans x 210..310 on the canvas
    across = Detection("box", "dog", 1, (), (150.0, 20.0, 260.0, 80.0), False)  # 50 px on source 1, 50 on 2
    mostly_right = Detection("box", "dog", 1, (), (180.0, 20.0, 300.0, 80.0), False)
    (first, second), warnings = split_detections([across, mostly_right], layout)
    assert (first.image, first.original, first.attributes["seam"], first.attributes["clipped"]) == (
        1, (150.0, 20.0, 200.0, 80.0), True, True)
    assert (second.image, second.original, second.attributes["seam"]) == (2, (0.0, 20.0, 90.0, 80.0), True)
    assert first.attributes["canvas"] == [150.0, 20.0, 260.0, 80.0] and first.outside
    assert warnings == ("2 box(es) crossed a seam between images: clipped to the image they overlap most",)


def test_seam_clipping_on_a_size_limited_canvas_lands_on_the_source_edge():
    layout = plan_canvas([(640, 480), (300, 500)], "h", max_pixels=100_000)
    p1, _p2 = layout.placements
    seam = p1.rect[2]
    box = Detection("box", "cat", 1, (), (seam - 40.0, 10.0, seam + 5.0, 60.0), False)
    (moved,), _ = split_detections([box], layout)
    assert moved.image == 1 and moved.attributes["seam"]
    assert moved.original[2] == pytest.approx(640.0, abs=1e-9)
    assert moved.original[:2] == pytest.approx(p1.to_source((seam - 40.0, 10.0)))


def test_detections_on_no_image_are_dropped_with_a_warning_and_boxes_off_the_canvas_are_clipped():
    layout = plan_canvas([(100, 100), (100, 50)], "h", gap=20, match_size=False)  # padding under source 2
    in_gap = Detection("box", "x", 1, (), (102.0, 10.0, 118.0, 20.0), False)
    in_padding = Detection("point", "p", 1, (), (150.0, 80.0), False)
    off_canvas = Detection("box", "y", 1, (), (-30.0, -5.0, 50.0, 50.0), True)
    kept, warnings = split_detections([in_gap, in_padding, off_canvas], layout)
    assert [(d.label, d.original, d.attributes.get("seam")) for d in kept] == [("y", (0.0, 0.0, 50.0, 50.0), None)]
    assert kept[0].attributes["clipped"]
    assert warnings == ("1 box(es) left their image on the canvas: clipped to it",
                        "2 detection(s) lie on no image of the canvas (gap or padding): dropped")


def test_composed_canvas_shows_each_image_at_its_placement():
    colours = ["red", "lime", "blue", "yellow"]
    sizes = [(64, 48), (30, 50), (80, 20), (40, 40)]
    images = [Image.new("RGB", size, colour) for size, colour in zip(sizes, colours)]
    layout = plan_canvas(sizes, "grid", gap=4, max_pixels=12_000)
    canvas = compose_canvas(images, layout, fill=(1, 2, 3))
    assert canvas.size == layout.canvas_wh
    for placement, image in zip(layout.placements, images):
        x1, y1, x2, y2 = placement.rect
        assert canvas.getpixel(((x1 + x2) // 2, (y1 + y2) // 2)) == image.getpixel((0, 0))
    assert canvas.getpixel((layout.placements[0].rect[2] + 1, 1)) == (1, 2, 3)  # the gap
    with pytest.raises(GeometryError, match="image 2 is 31x50, the layout says 30x50"):
        compose_canvas([images[0], Image.new("RGB", (31, 50)), *images[2:]], layout)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(lambda: plan_canvas([], "h"), "at least one image", id="no-images"),
        pytest.param(lambda: plan_canvas([(10, 10)], "diagonal"), "is not a valid CanvasKind", id="bad-kind"),
        pytest.param(lambda: plan_canvas([(0, 10)], "h"), "positive whole numbers", id="zero-size"),
        pytest.param(lambda: plan_canvas([(10, 10)], "h", gap=-1), "gap must not be negative", id="negative-gap"),
        pytest.param(lambda: plan_canvas([(10, 10)] * 201, "h", match_size=False), "over 200: use a grid", id="too-wide"),
        pytest.param(lambda: plan_canvas([(10, 10)] * 3, "h", gap=50, max_pixels=100), "too small", id="budget-too-small"),
        pytest.param(lambda: CanvasLayout.from_dict({"layout": "h"}), "not a canvas layout", id="missing-keys"),
        pytest.param(lambda: CanvasLayout.from_dict({"layout": "h", "canvas": [10, 10], "sources": [
            {"original": [10, 10], "offset": [5, 0], "placed": [10, 10]}]}), "beyond the 10x10 canvas", id="off-canvas"),
    ],
)
def test_bad_arguments_are_refused_in_words(call, message):
    with pytest.raises((GeometryError, ValueError), match=message):
        call()


def test_a_point_rounded_just_off_its_image_snaps_back_within_the_given_distance():
    layout = plan_canvas([(100, 100), (100, 50)], "h", gap=20, match_size=False)  # source 2: x 120..220, y 0..50
    near = Detection("point", "p", 1, (), (150.0, 51.5), False)
    far = Detection("point", "p", 1, (), (150.0, 70.0), False)
    assert split_detections([near, far], layout)[0] == ()
    (kept,), warnings = split_detections([near, far], layout, snap=2.0)
    assert (kept.image, kept.original) == (2, (30.0, 50.0))
    assert warnings == ("1 detection(s) lie on no image of the canvas (gap or padding): dropped",)

"""Tiles: the plan covers the image within the budget; known answers per tile merge back to the objects."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grounding import GeometryError, PixelLimits, process_size
from grounding.box_match import match_boxes
from grounding.parse import Detection, parse_grounding
from grounding.tiling import (
    crop_around,
    merge_tiles,
    pick_refined,
    plan_tiles,
    to_image,
)
from tests.budget import examples
from tests.grounding.known_answers import answer_text, model_unit_in_original


@settings(max_examples=examples(300), deadline=None)
@given(
    w=st.integers(1, 40_000), h=st.integers(1, 40_000), budget=st.integers(50_000, 4_000_000),
    overlap=st.sampled_from([0.0, 0.1, 0.25]), max_aspect=st.sampled_from([2.0, 4.0, 8.0]),
)
def test_tiles_cover_the_image_within_the_budget_and_overlap(w, h, budget, overlap, max_aspect):
    plan = plan_tiles((w, h), max_pixels=budget, overlap=overlap, max_aspect=max_aspect)
    columns, rows = plan.grid
    assert len(plan.tiles) == columns * rows
    tw, th = plan.tiles[0].size_wh
    assert all(t.size_wh == (tw, th) for t in plan.tiles) and tw * th <= budget
    assert all(t.rect[0] >= 0 and t.rect[1] >= 0 and t.rect[2] <= w and t.rect[3] <= h for t in plan.tiles)
    xs = sorted({t.offset_xy[0] for t in plan.tiles})
    ys = sorted({t.offset_xy[1] for t in plan.tiles})
    assert xs[0] == 0 and xs[-1] + tw == w and ys[0] == 0 and ys[-1] + th == h  # edge to edge
    for starts, side in ((xs, tw), (ys, th)):
        for a, b in itertools.pairwise(starts):
            assert a + side - b >= overlap * side - 1  # neighbours share at least the overlap (rounding aside)
    if w * h <= budget and max(w / h, h / w) <= max_aspect:
        assert plan.grid == (1, 1)
    if max(tw / th, th / tw) > max_aspect:  # only where no tile shape can keep the limit
        assert min(w, h) / max_aspect < 1 or tw * th * 4 > budget or min(tw, th) in (w, h)


def _objects(rng: random.Random, wh: tuple[int, int], count: int) -> list[tuple[str, tuple[float, ...]]]:
    """Non-overlapping boxes on a jittered grid; some are wider than a tile."""
    w, h = wh
    columns = 4
    rows = max(1, count // columns)
    cell_w, cell_h = w / columns, h / rows
    objects = []
    for r in range(rows):
        for c in range(columns):
            bw = rng.uniform(0.2, 0.95) * cell_w
            bh = rng.uniform(0.2, 0.95) * cell_h
            x1 = c * cell_w + rng.uniform(0, cell_w - bw)
            y1 = r * cell_h + rng.uniform(0, cell_h - bh)
            objects.append((rng.choice(["car", "tree"]), (x1, y1, x1 + bw, y1 + bh)))
    return objects


def _clipped_to(box: tuple[float, ...], rect: tuple[int, int, int, int]) -> tuple[float, ...] | None:
    x1, y1 = max(box[0], rect[0]), max(box[1], rect[1])
    x2, y2 = min(box[2], rect[2]), min(box[3], rect[3])
    if x2 - x1 < 1 or y2 - y1 < 1:
        return None  # a sliver the model would not report
    return (x1 - rect[0], y1 - rect[1], x2 - rect[0], y2 - rect[1])


@pytest.mark.parametrize("family", ["qwen2.5-vl", "qwen3-vl"])
@pytest.mark.parametrize(
    ("image_wh", "budget", "overlap"),
    [
        pytest.param((3000, 1000), 500_000, 0.2, id="wide"),
        pytest.param((2400, 2400), 400_000, 0.15, id="large-square-grid"),
        pytest.param((12000, 300), 300_000, 0.25, id="extreme-aspect"),
        pytest.param((900, 4000), 600_000, 0.1, id="tall"),
    ],
)
def test_known_answers_on_every_tile_merge_back_to_the_objects(family, image_wh, budget, overlap):
    rng = random.Random(f"{family}{image_wh}")
    plan = plan_tiles(image_wh, max_pixels=budget, overlap=overlap)
    assert len(plan.tiles) > 1
    objects = _objects(rng, image_wh, 16)
    limits = PixelLimits(PixelLimits.default_for(family).min_pixels, budget)
    for exact in (True, False):
        on_image = []
        tolerance = 0.5
        for tile in plan.tiles:
            geometry = process_size(tile.size_wh, family, limits)
            seen = [(label, part, None) for label, box in objects if (part := _clipped_to(box, tile.rect))]
            parsed = parse_grounding(answer_text(seen, geometry, exact=exact), family, geometry)
            assert len(parsed.detections) == len(seen)
            on_image += to_image(parsed.detections, tile)
            if not exact:
                tolerance = max(tolerance, 0.5 * max(model_unit_in_original(geometry)) + 1e-6)
        merged = merge_tiles(on_image, plan)
        assert len(merged) == len(objects)
        pairs = match_boxes([d.original for d in merged], [d.label for d in merged],
                            [box for _, box in objects], [label for label, _ in objects])
        assert len(pairs) == len(objects)
        for pair in pairs:
            assert merged[pair.a].original == pytest.approx(objects[pair.b][1], abs=tolerance)
        spanning = [d for d in merged if len(d.attributes.get("tiles", [])) > 1]
        assert spanning and all(d.attributes["merged"] >= 2 for d in spanning)


def test_boxes_from_one_tile_are_never_merged_but_duplicates_from_two_are():
    plan = plan_tiles((200, 100), max_pixels=12_000, overlap=0.2)  # tiles x 0..112 and 88..200
    a = Detection("box", "cat", 1, (), (90.0, 10.0, 110.0, 40.0), False, {"tile": 0})
    b = Detection("box", "cat", 1, (), (91.0, 11.0, 110.0, 40.0), False, {"tile": 0})
    c = Detection("box", "cat", 1, (), (90.0, 10.0, 110.0, 40.0), False, {"tile": 1})
    d = Detection("box", "dog", 1, (), (90.0, 10.0, 110.0, 40.0), False, {"tile": 1})
    merged = merge_tiles([a, b, c, d], plan)
    assert [(m.label, m.attributes.get("tiles")) for m in merged] == [("cat", [0, 1]), ("cat", None), ("dog", None)]
    assert merged[0].original == (90.0, 10.0, 110.0, 40.0)  # uncut duplicates: their mean


def test_points_from_neighbouring_tiles_merge_to_their_mean():
    plan = plan_tiles((200, 100), max_pixels=12_000, overlap=0.2)
    p = [Detection("point", "eye", 1, (), xy, False, {"tile": t}) for xy, t in
         [((100.0, 50.0), 0), ((104.0, 52.0), 1), ((30.0, 30.0), 0)]]
    merged = merge_tiles(p, plan)
    assert [(m.original, m.attributes.get("tiles")) for m in merged] == [((102.0, 51.0), [0, 1]), ((30.0, 30.0), None)]


def test_crop_around_stays_in_the_image_and_keeps_a_minimum_side():
    assert crop_around((0, 0, 10, 10), (1000, 800)).rect == (0, 0, 56, 56)
    assert crop_around((990, 790, 1000, 800), (1000, 800)).rect == (944, 744, 1000, 800)
    assert crop_around((100, 100, 300, 200), (1000, 800), margin=0.25).rect == (50, 75, 350, 225)
    assert crop_around((0, 0, 10, 10), (30, 20)).rect == (0, 0, 30, 20)
    with pytest.raises(GeometryError, match="outside"):
        crop_around((2000, 2000, 2100, 2100), (1000, 800))


def test_refinement_takes_the_best_same_label_box_or_keeps_the_original():
    before = Detection("box", "cat", 1, (), (100.0, 100.0, 200.0, 200.0), False)
    crop = crop_around(before.original, (1000, 1000))
    found = to_image([Detection("box", "cat", 1, (), (45.0, 48.0, 140.0, 152.0), False),
                      Detection("box", "dog", 1, (), (50.0, 50.0, 150.0, 150.0), False)], crop)
    refined = pick_refined(before, found)
    assert refined.original == (95.0, 98.0, 190.0, 202.0) and refined.attributes["refined"]
    assert refined.attributes["before_refine"] == [100.0, 100.0, 200.0, 200.0]
    far = to_image([Detection("box", "cat", 1, (), (0.0, 0.0, 10.0, 10.0), False)], crop)
    assert pick_refined(before, far) == Detection("box", "cat", 1, (), before.original, False, {"refined": False})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"image_wh": (0, 10), "max_pixels": 100}, "zero size", id="zero"),
        pytest.param({"image_wh": (10, 10), "max_pixels": 0}, "must be positive", id="no-budget"),
        pytest.param({"image_wh": (10, 10), "max_pixels": 100, "overlap": 0.95}, "overlap", id="overlap"),
        pytest.param({"image_wh": (10, 10), "max_pixels": 100, "max_aspect": 0.5}, "at least 1", id="aspect"),
    ],
)
def test_bad_plans_are_refused_in_words(kwargs, message):
    with pytest.raises(GeometryError, match=message):
        plan_tiles(kwargs.pop("image_wh"), **kwargs)

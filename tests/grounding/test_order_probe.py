"""Order-sensitivity statistics on synthetic answers whose agreement is known."""

from __future__ import annotations

import json
import math

import pytest

from grounding import process_size
from grounding.box_match import agreement, match_boxes
from grounding.order_probe import OrderAnswer, probe_orders, probe_report, to_sources
from grounding.parse import Detection, parse_grounding
from tests.grounding.known_answers import answer_text

SIZES = [(640, 480), (300, 500), (1024, 256)]
BOX = (10.0, 20.0, 110.0, 120.0)
HALF = (10.0, 20.0, 110.0, 70.0)  # IoU with BOX: exactly 0.5
OTHER = (400.0, 100.0, 500.0, 200.0)


@pytest.mark.parametrize("count", [1, 2, 3, 4])
def test_every_order_up_to_four_images_with_the_given_one_first(count):
    orders = probe_orders(count)
    assert len(orders) == len(set(orders)) == math.factorial(count)
    assert orders[0] == tuple(range(1, count + 1))


def test_a_seeded_sample_beyond_four_images():
    orders = probe_orders(6, max_orders=10, seed=3)
    assert len(orders) == len(set(orders)) == 10
    assert orders[:2] == [(1, 2, 3, 4, 5, 6), (6, 5, 4, 3, 2, 1)]
    assert all(sorted(o) == [1, 2, 3, 4, 5, 6] for o in orders)
    assert probe_orders(6, max_orders=10, seed=3) == orders
    assert probe_orders(6, max_orders=10, seed=4) != orders
    assert len(probe_orders(5, max_orders=500)) == 120  # capped at 5!
    with pytest.raises(ValueError, match="at least 2"):
        probe_orders(5, max_orders=1)
    with pytest.raises(ValueError, match="at least one image"):
        probe_orders(0)


def boxes_for(order_index: int, source: int) -> list[tuple[str, tuple[float, ...]]]:
    """Source 1: the same in every order. Source 2: order 0 gives a half-height box. Source 3:
    order 2 adds a second box. Source 3 also has a dog in every order."""
    if source == 1:
        return [("cat", BOX)]
    if source == 2:
        return [("cat", HALF if order_index == 0 else BOX)]
    extra = [("cat", OTHER)] if order_index == 2 else []
    return [("cat", BOX), ("dog", OTHER), *extra]


def answers_through_the_parser(family: str) -> list[OrderAnswer]:
    """Each order's answer written as a model would (an "image" key per object, picture numbers of
    that order, coordinates for that picture's geometry), read back by the real parser."""
    answers = []
    for k, order in enumerate(probe_orders(3)):
        geometry = [process_size(SIZES[source - 1], family) for source in order]
        items = [(label, box, picture) for picture, source in enumerate(order, start=1) for label, box in boxes_for(k, source)]
        parsed = parse_grounding(answer_text(items, geometry), family, geometry)
        assert not parsed.warnings
        answers.append(OrderAnswer(order, parsed.detections))
    return answers


@pytest.mark.parametrize("family", ["qwen2.5-vl", "qwen3-vl"])
def test_statistics_on_answers_with_known_agreement(family):
    report = probe_report(answers_through_the_parser(family), ["a", "b", "c"])
    one, two, three = report.images
    assert (one.agreement, one.count_spread, one.order_agreement, one.matched_iou) == (1.0, 0, (1.0,) * 6, pytest.approx(1.0))
    # source 2: 5 of the 15 pairs of orders involve order 0, whose box has IoU 0.5 with the others'
    assert two.agreement == pytest.approx((10 * 1.0 + 5 * 0.5) / 15)
    assert two.order_agreement == pytest.approx((0.5, 0.9, 0.9, 0.9, 0.9, 0.9))
    assert two.count_spread == 0 and two.counts == (1,) * 6
    # source 3: order 2 has 3 boxes where the others have 2 (both matched): agreement 2/3 in its pairs
    assert three.counts == (2, 2, 3, 2, 2, 2) and three.count_spread == 1
    assert three.order_agreement == pytest.approx((1 - 1 / 15,) * 2 + (2 / 3,) + (1 - 1 / 15,) * 3)
    assert three.matched_iou == pytest.approx(1.0)
    # order (1, 3, 2) (index 1) is the only one that never disagrees with the most
    assert report.order_scores[1] == max(report.order_scores)
    assert report.most_consistent_order == (1, 3, 2)
    # each order's boxes sit on their source image, in its own pixels, whatever picture they were
    for k, order in enumerate(report.orders):
        assert [(d.label, d.original) for d in two.boxes[k]] == [("cat", pytest.approx(HALF if k == 0 else BOX))]
        assert two.boxes[k][0].attributes["picture"] == order.index(2) + 1
    data = json.loads(json.dumps(report.as_dict()))
    assert data["most_consistent_order"] == [1, 3, 2]
    assert data["images"][1]["boxes"][0][0]["label"] == "cat"


def test_plot_data_is_an_image_by_order_grid():
    report = probe_report(answers_through_the_parser("qwen2.5-vl"), ["a", "b", "c"])
    plot = report.plot_data()
    assert plot["x"] == ["1,2,3", "1,3,2", "2,1,3", "2,3,1", "3,1,2", "3,2,1"] and plot["y"] == ["a", "b", "c"]
    assert plot["counts"][2] == [2, 2, 3, 2, 2, 2]
    assert plot["agreement"][1][0] == pytest.approx(0.5) and plot["best"] == "1,3,2"
    assert len(plot["rows"]) == 18 and plot["rows"][3] == {"image": "a", "order": "2,3,1", "boxes": 1, "agreement": 1.0}


def test_to_sources_moves_pictures_to_their_source_and_keeps_coordinates():
    found = [Detection("box", "x", 2, (1, 2, 3, 4), (1.0, 2.0, 3.0, 4.0), False), Detection("point", "y", 1, (5, 6), (5.0, 6.0), False)]
    moved = to_sources(found, (3, 1, 2))
    assert [(d.image, d.attributes["picture"], d.original) for d in moved] == [(1, 2, (1.0, 2.0, 3.0, 4.0)), (3, 1, (5.0, 6.0))]
    with pytest.raises(ValueError, match="each of the source positions"):
        to_sources(found, (1, 1, 2))
    with pytest.raises(ValueError, match="picture 2 is not in an order of 1"):
        to_sources(found, (1,))


def test_empty_answers_agree_and_bad_reports_are_refused():
    report = probe_report([OrderAnswer((1, 2), ()), OrderAnswer((2, 1), ())], ["a", "b"])
    assert [(i.agreement, i.matched_iou, i.counts) for i in report.images] == [(1.0, None, (0, 0))] * 2
    with pytest.raises(ValueError, match="at least one order"):
        probe_report([], ["a"])
    with pytest.raises(ValueError, match="only once"):
        probe_report([OrderAnswer((1, 2), ()), OrderAnswer((1, 2), ())], ["a", "b"])
    with pytest.raises(ValueError, match="source positions 1..3"):
        probe_report([OrderAnswer((1, 2), ())], ["a", "b", "c"])


def test_matching_is_one_to_one_by_label_and_optimal():
    # greedy (highest IoU first) pairs a0-b0 (8/12) and leaves a1 alone (IoU 0 with b1);
    # a0-b1 (6/14) + a1-b0 (4/16) sum to more, and both boxes are matched
    a = [(0, 0, 10, 10), (8, 0, 18, 10)]
    b = [(2, 0, 12, 10), (-4, 0, 6, 10)]
    pairs = match_boxes(a, ["t", "t"], b, ["t", "t"])
    assert [(m.a, m.b) for m in pairs] == [(0, 1), (1, 0)]
    assert [m.iou for m in pairs] == pytest.approx([6 / 14, 4 / 16])
    assert match_boxes(a, ["t", "t"], b, ["u", "u"]) == []
    assert [(m.a, m.b) for m in match_boxes(a, ["t", "t"], b, ["u", "u"], by_label=False)] == [(0, 1), (1, 0)]
    assert [(m.a, m.b) for m in match_boxes(a, ["t", "t"], b, ["t", "t"], min_iou=0.3)] == [(0, 0)]
    assert agreement(a, ["t", "t"], a, ["t", "t"]) == 1.0
    with pytest.raises(ValueError, match="one label per box"):
        match_boxes(a, ["t"], b, ["t", "t"])


def test_plot_picture_colours_each_cell_by_agreement_and_outlines_the_best_order():
    from grounding.probe_plot import (
        CELL_WH,
        MARGIN,
        agreement_colour,
        render_probe_plot,
    )

    plot = probe_report(answers_through_the_parser("qwen2.5-vl"), ["a", "b", "c"]).plot_data()
    picture = render_probe_plot(plot)
    cw, ch = CELL_WH
    right, bottom = picture.width - MARGIN, picture.height - MARGIN
    for i in range(3):
        for k in range(6):
            corner = (right - (6 - k) * cw + 4, bottom - (3 - i) * ch + 4)  # inside the cell, off its text
            if k != 1:  # column 1 (the best order) carries an outline at its edge
                assert picture.getpixel(corner) == agreement_colour(plot["agreement"][i][k]), (i, k)
    best_edge = (right - 5 * cw, bottom - 1)
    assert picture.getpixel(best_edge) == (0, 0, 0)
    with pytest.raises(ValueError, match="3 rows of 6 values"):
        render_probe_plot(plot | {"agreement": plot["agreement"][:2]})

"""Review as fast as the hands allow, in a real Chromium: keyboard geometry, carry-over, zoom and pan, and item
keys that never act on a stale version while an edit is still being stored."""

from __future__ import annotations

import itertools

import pytest

from tests.factories import write_image
from tests.ui.conftest import (
    create_dataset,
    drag,
    import_files,
    open_item,
    shapes,
    status,
    wait_status,
    wait_text,
    wait_version,
)
from workbench.store import AnnotationDraft

pytestmark = pytest.mark.slow

_names = itertools.count(1)


def _item(services, page):
    return services.store().item(int(status(page).split()[1]))


def _dataset(page, services, tmp_path, sizes, *, fmt="PNG") -> list[int]:
    name = f"hands-{next(_names)}"
    create_dataset(page, name)
    import_files(page, [write_image(tmp_path, w, h, fmt=fmt, seed=n, name=f"h{n}.{fmt.lower()}")
                        for n, (w, h) in enumerate(sizes)])
    return [item.id for item in services.store().items(name)]


def test_an_edge_is_fixed_with_the_keyboard_alone_and_a_burst_is_one_undo_step(page, live_app, tmp_path):
    _, services = live_app
    store = services.store()
    (item_id,) = _dataset(page, services, tmp_path, [(4032, 3024)], fmt="JPEG")
    store.set_annotations(item_id, 1, [AnnotationDraft.box((1000, 1000, 2000, 1800), "cat", provenance="model")])
    open_item(page, 0)
    wait_status(page, "1 box(es)")
    before = len(store.history(item_id))
    page.keyboard.press("Tab")  # no mouse from here on
    for _ in range(3):
        page.keyboard.press("Alt+Shift+ArrowLeft")  # pull the left edge in, 1 original pixel a press
    page.keyboard.press("Alt+ArrowDown")  # push the bottom edge out
    page.keyboard.press("Control+Shift+ArrowRight")  # move the whole box 10 pixels
    page.keyboard.press("Control+ArrowUp")
    wait_status(page, "1 by hand")
    (box,) = store.item(item_id).annotations
    assert box.coords == pytest.approx((1013, 999, 2010, 1800), abs=0.01)
    assert box.provenance == "human"
    assert len(store.history(item_id)) == before + 1  # the burst of six presses is one step
    page.keyboard.press("Control+z")
    wait_text(page, "#notice", "Undo")
    assert store.item(item_id).annotations[0].coords == pytest.approx((1000, 1000, 2000, 1800))


def test_item_keys_wait_for_the_edit_before_them(page, live_app, tmp_path):
    _, services = live_app
    store = services.store()
    ids = _dataset(page, services, tmp_path, [(640, 480)] * 4)
    open_item(page, 0)
    drag(page, (40, 40), (200, 160))
    page.keyboard.press("a")  # at once: the edit is still on its way to the server
    wait_text(page, "#notice", f"Item {ids[0]} accepted.")
    first = store.item(ids[0])
    assert first.status == "accepted" and len(first.annotations) == 1
    page.keyboard.press("Tab")
    page.keyboard.press("Control+ArrowRight")  # a nudge still waiting for the keys to pause...
    page.keyboard.press("x")  # ...is stored before the reject, and the reject acts on the item as nudged
    wait_text(page, "#notice", "rejected.")
    assert "was changed elsewhere" not in page.inner_text("#notice")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowLeft")  # three keys in a row: each acts on the item the one before opened
    wait_status(page, f"Item {ids[3]} ")


def test_carry_over_copies_the_previous_items_boxes_all_or_the_one_selected_there(page, live_app, tmp_path):
    _, services = live_app
    store = services.store()
    first, second, third = _dataset(page, services, tmp_path, [(400, 300), (800, 600), (400, 300)])
    store.set_annotations(first, 1, [AnnotationDraft.box((10, 20, 110, 120), "cat"),
                                     AnnotationDraft.box((200, 100, 300, 250), "dog")])
    open_item(page, 1)
    wait_status(page, f"Item {second} ")
    page.keyboard.press("c")
    wait_status(page, "2 box(es)")
    carried = store.item(second).annotations
    assert [(a.label, a.provenance) for a in carried] == [("cat", "human"), ("dog", "human")]
    assert carried[0].coords == pytest.approx((20, 40, 220, 240), abs=0.05)  # the same place, twice the size
    assert len(store.history(second)) == 1

    page.keyboard.press("ArrowLeft")  # select the dog on the item before, then Shift+C on the item after
    wait_status(page, f"Item {first} ")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("ArrowRight")
    wait_status(page, f"Item {second} ")
    page.keyboard.press("Shift+c")
    wait_status(page, "3 box(es)")
    assert [a.label for a in store.item(second).annotations] == ["cat", "dog", "dog"]
    page.keyboard.press("Escape")  # leave the second item with nothing selected
    page.keyboard.press("ArrowRight")
    wait_status(page, f"Item {third} ")
    page.keyboard.press("Shift+c")
    wait_text(page, "#editor .wb-info", f"select a box on item {second} first")
    page.keyboard.press("c")
    wait_status(page, "3 box(es)")
    assert [a.label for a in store.item(third).annotations] == ["cat", "dog", "dog"]


def _stage(page, name: str) -> str:
    return page.locator("#editor .wb-stage").get_attribute(f"data-{name}") or ""  # data-detail-size: detailSize


def test_zoom_serves_the_originals_pixels_and_handles_keep_their_screen_size(page, live_app, tmp_path):
    _, services = live_app
    store = services.store()
    (item_id,) = _dataset(page, services, tmp_path, [(4032, 3024)], fmt="JPEG")
    store.set_annotations(item_id, 1, [AnnotationDraft.box((1900, 1400, 2100, 1600), "cat")])
    open_item(page, 0)
    page.keyboard.press("Tab")
    handle = page.locator("#editor .wb-handle").first.bounding_box()
    stage = page.locator("#editor .wb-stage").bounding_box()
    page.mouse.move(stage["x"] + stage["width"] / 2, stage["y"] + stage["height"] / 2)
    for _ in range(4):
        page.mouse.wheel(0, -300)
    page.wait_for_function("() => document.querySelector('#editor .wb-stage').dataset.detail === 'ready'")
    zoom = float(_stage(page, "zoom"))
    assert zoom > 2
    w, h = (int(v) for v in _stage(page, "detail-size").split("x"))
    dpr = page.evaluate("window.devicePixelRatio")
    assert w <= stage["width"] * dpr + 2 and h <= stage["height"] * dpr + 2  # never more than the screen needs
    assert w > 1600 / zoom  # and more than the display copy had for that region
    zoomed = page.locator("#editor .wb-handle").first.bounding_box()
    assert zoomed["width"] == pytest.approx(handle["width"], abs=1)

    for _ in range(20):  # full zoom: one screen pixel shows at most one pixel of the original
        page.keyboard.press("+")
    page.wait_for_function("z => Number(document.querySelector('#editor .wb-stage').dataset.zoom) > z", arg=zoom)
    page.wait_for_function("() => { const s = document.querySelector('#editor .wb-stage'); return s.dataset.detail"
                           " === 'ready' && Number(s.dataset.zoom) * s.clientWidth / 4032 >= 1; }")
    w, h = (int(v) for v in _stage(page, "detail-size").split("x"))
    visible = 4032 / float(_stage(page, "zoom"))  # original pixels across the view
    assert w == pytest.approx(visible, abs=2)  # the original's own pixels, not enlarged, not shrunk

    before = page.locator("#editor svg.wb-overlay").get_attribute("viewBox")
    page.keyboard.down(" ")  # Space+drag pans
    page.mouse.move(stage["x"] + 100, stage["y"] + 100)
    page.mouse.down()
    page.mouse.move(stage["x"] + 300, stage["y"] + 200, steps=4)
    page.mouse.up()
    page.keyboard.up(" ")
    assert page.locator("#editor svg.wb-overlay").get_attribute("viewBox") != before
    assert len(store.item(item_id).annotations) == 1  # panning drew nothing
    page.keyboard.press("0")
    assert _stage(page, "zoom") == "1.000"
    assert shapes(page)[0]["selected"]
    wait_version(page, store.item(item_id).version)

"""The Several images page in a real Chromium: a two-picture item, its exact prompt, the order probe and a
merged canvas with the tiny local model (random weights: the wiring is checked, not the boxes)."""

from __future__ import annotations

import re

from tests.factories import write_image
from tests.ui.conftest import create_dataset, import_files, open_item, status, wait_text


def test_probe_and_canvas_on_a_two_picture_item(page, live_app, tmp_path, tiny_qwen25):
    _, services = live_app
    store = services.store()
    create_dataset(page, "multi-pictures")
    import_files(page, [write_image(tmp_path, 320, 240, name="front.png"),
                        write_image(tmp_path, 200, 300, fmt="JPEG", name="back.jpg", seed=2)])
    open_item(page, 0)
    page.get_by_text("Picture IDs and order").click()
    page.locator("#item-group").click()
    wait_text(page, "#notice", "now holds 2 pictures")
    item = store.item(int(status(page).split()[1]))
    ids = [image.image_id for image in item.images]
    assert len(ids) == 2 and store.proposals(item.id)[0] is None

    page.get_by_role("tab", name="Several images").click()
    wait_text(page, "#multi-item", f"Item {item.id}")
    assert "2 picture(s)" in page.inner_text("#multi-item")
    page.locator("#multi-backend").get_by_text("Local model (transformers)").click()
    page.locator("#multi-model textarea, #multi-model input").first.fill(str(tiny_qwen25))
    page.locator("#multi-target textarea, #multi-target input").first.fill("cat")
    tokens = page.locator("#multi-tokens input[type=number]")
    tokens.fill("32")
    tokens.press("Enter")

    page.locator("#multi-naming").get_by_text("the pictures' IDs").click()
    page.locator("#multi-show-prompt").click()
    wait_text(page, "#notice", "nothing was sent", timeout=120_000)
    shown = page.locator("#multi-exact textarea").input_value()
    assert shown.count("<|vision_start|>") == 2 and all(f"{i}: " in shown for i in ids)

    page.locator("#multi-probe").click()
    wait_text(page, "#notice", "Probed 2 orders of item", timeout=180_000)
    wait_text(page, "#probe-table", ids[1])
    table = page.inner_text("#probe-table")
    for n, image_id in enumerate(ids, 1):  # a row per picture: number, ID, boxes per order, agreement
        assert re.search(rf"\b{n}\s+{re.escape(image_id)}\s+\d+ · \d+\s+\d\.\d\d", table), table
    page.wait_for_selector("#probe-plot img")
    assert "Most consistent order" in page.inner_text("#multi-summary")
    assert store.proposals(item.id)[0] is None  # the probe stores nothing

    page.locator("#multi-canvas").click()
    wait_text(page, "#notice", f"Merged canvas on item {item.id}", timeout=180_000)
    run, proposals = store.proposals(item.id)
    assert run is not None and run.settings["tool"] == "canvas" and run.family == "qwen2.5-vl"
    assert len(proposals) == 2
    assert "stored as a model run" in page.inner_text("#notice") and "Review tab" in page.inner_text("#notice")
    assert "merged canvas" in page.inner_text("#multi-summary")
    after = store.item(item.id)
    assert after.status == "pre-annotated" and after.version > item.version
    page.get_by_role("tab", name="Review").click()  # the review screen already shows the item as it is now
    wait_text(page, "#item-status", f"version {after.version}")

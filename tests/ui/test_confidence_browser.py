"""Confidence in a real Chromium: the queue sorted by the weakest box, the editor's tint and Tab order, accept
every item above a threshold with its count shown first, then undo one of them."""

from __future__ import annotations

import itertools

from tests.factories import write_image
from tests.ui.conftest import choose, create_dataset, import_files, notice, status, wait_status, wait_text
from workbench.store import AnnotationDraft

_names = itertools.count(1)


def _seed(store, dataset_name, scores_per_item):
    """Model boxes with these scores on the dataset's items, in file order (as a run would leave them)."""
    items = store.items(dataset_name)
    run = store.run(items[0].dataset_id, model="m", family="qwen2.5-vl", settings={"prompt": "p"})
    for item, scores in zip(items, scores_per_item):
        drafts = [AnnotationDraft.box((20 + 60 * k, 20, 70 + 60 * k, 80), "cup", provenance="model", score=s)
                  for k, s in enumerate(scores)]
        store.record_proposals(run.id, item.id, [drafts], signals=[[{"logprob_min": 0.0}] * len(drafts)])
    return [item.id for item in items]


def _captions(page):
    return page.locator("#queue-gallery").inner_text()


def test_sort_by_confidence_tint_tab_accept_above_threshold_then_undo(page, live_app, tmp_path):
    _, services = live_app
    store = services.store()
    name = f"confidence-{next(_names)}"
    create_dataset(page, name)
    import_files(page, [write_image(tmp_path, 400, 300, seed=n, name=f"shelf{n}.png") for n in range(3)])
    first, weak, third = _seed(store, name, [(0.95, 0.97), (0.99, 0.4), (0.92,)])

    choose(page, "filter-order", "weakest box first")
    page.wait_for_function("() => /weakest 0.40/.test(document.querySelector('#queue-gallery').innerText)")
    captions = _captions(page)
    assert captions.index(f"#{weak} ") < captions.index(f"#{third} ") < captions.index(f"#{first} ")

    page.locator("#queue-gallery .thumbnail-item").nth(0).click()  # the weakest item, tinted and scored
    page.wait_for_selector("#editor svg.wb-overlay g[data-score]")
    wait_status(page, f"Item {weak} ")
    assert "raw 0.40" in page.locator("#editor svg.wb-overlay").evaluate("e => e.textContent")
    page.keyboard.press("Tab")  # the weakest box first, although it was drawn second
    page.wait_for_selector("#editor g.wb-shape.wb-selected")
    assert page.locator("#editor g.wb-shape.wb-selected").get_attribute("data-score") == "0.4"
    assert "raw signal 0.40 (not calibrated yet)" in page.locator("#editor .wb-info").inner_text()

    page.get_by_role("tab", name="Queue").click()
    page.locator("#confidence-panel").get_by_text("Confidence: review the likely-wrong boxes first").click()
    wait_text(page, "#confidence-status", "not calibrated yet")
    page.locator("#accept-count").click()
    preview = wait_text(page, "#accept-preview", "2 pre-annotated item(s)")
    assert "3 box(es)" in preview and "raw signals, not calibrated" in preview
    assert [store.item(i).status for i in (first, weak, third)] == ["pre-annotated"] * 3  # counted, not taken
    page.locator("#accept-confident").get_by_text("Accept these 2 item(s)").click()
    wait_text(page, "#notice", "Accepted 2 item(s)")
    assert [store.item(i).status for i in (first, weak, third)] == ["accepted", "pre-annotated", "accepted"]

    captions = _captions(page)
    order = sorted((captions.index(f"#{i} "), n) for n, i in enumerate((first, weak, third)))
    page.locator("#queue-gallery .thumbnail-item").nth([n for _, n in order].index(0)).click()
    wait_status(page, f"Item {first} ")
    page.keyboard.press("Control+z")  # each accept is the item's own history entry
    wait_text(page, "#notice", "Undo")
    assert store.item(first).status == "pre-annotated" and store.item(third).status == "accepted"
    assert "pre-annotated" in status(page) and "error" not in notice(page).lower()

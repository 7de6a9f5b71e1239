"""The Evaluate page in Chromium: accepted items, a fake server whose answers are known, two prompts -> the table
shows the expected numbers; the error browser opens the worst item in Review with the run's boxes dashed beside the
accepted ones; two cells compared; a split without accepted items said in the page."""

from __future__ import annotations

import pytest

from tests.fake_server import FakeServer, boxes_answer
from tests.ui.conftest import choose, fill_kept, open_page, wait_text
from tests.workbench.evaluate.known import build_known

pytestmark = pytest.mark.slow

NAME = "evaluate-in-the-page"
SHIFTED = "Locate every {target} in the image, shifted, and output the bbox coordinates in JSON format."
FAR = (250.0, 180.0, 300.0, 230.0)
"""Where the shifted prompt's answer puts the box of one item: no overlap with its truth (the worst item)."""


def table(page, selector: str) -> list[dict[str, str]]:
    headers = [h.strip() for h in page.locator(f"{selector} th").all_inner_texts()]
    rows = page.locator(f"{selector} [role=row]:not(:has(th))")
    out = []
    for n in range(rows.count()):
        cells = [c.strip() for c in rows.nth(n).locator("[role=gridcell]").all_inner_texts()]
        out.append(dict(zip(headers, cells)))
    return out


def test_two_prompts_in_the_page_then_the_worst_item_in_review(browser, live_app, tmp_path):
    url, services = live_app
    known = build_known(services.store(), tmp_path / "images", name=NAME)
    worst = known.val[2]
    worst_digest = services.store().item(worst).images[0].sha256

    def answer(request):
        text = known.answer(request)
        if "shifted" in request.prompt and worst_digest in request.digests:
            label = known.truth[worst_digest][0][0]
            text = boxes_answer({worst_digest: [(label, FAR)]}, "qwen2.5-vl", request)
        return text

    with FakeServer(answer, models=["good"]) as server:
        context, page = open_page(browser, url)
        try:
            choose(page, "dataset", NAME)
            wait_text(page, "#counts", NAME)
            page.get_by_role("tab", name="Evaluate").click()
            wait_text(page, "#eval-progress", "No evaluation has run")
            fill_kept(page, "#eval-models textarea", "good")
            page.locator("#eval-base-url textarea, #eval-base-url input").first.fill(server.url)

            page.locator("#eval-split input").click()  # first a split without accepted items: said, nothing runs
            page.locator('[data-testid="dropdown-option"][aria-label="test"]').first.click()
            page.locator("#eval-start").click()
            wait_text(page, "#notice", "no accepted item in the test split")
            assert server.requests == []

            page.locator("#eval-split input").click()
            page.locator('[data-testid="dropdown-option"][aria-label="val"]').first.click()
            page.locator("#eval-prompts textarea").first.fill(f"Find {{target}}.\n{SHIFTED}")
            page.locator("#eval-start").click()
            wait_text(page, "#notice", "Evaluation")
            wait_text(page, "#eval-progress", "every cell measured", timeout=120_000)
            page.wait_for_function("() => document.querySelectorAll('#eval-table [role=row]:not(:has(th))').length"
                                   " === 2 && document.querySelector('#eval-cell input').value.includes('cell 1')")
            exact, shifted = table(page, "#eval-table")
            # exact boxes: every target found at IoU 0.75; shifted by 20 px (IoU 2/3) with one box far off:
            # 4 of 5 targets at IoU 0.5, none at 0.75
            assert (exact["acc50"], exact["acc75"], exact["map50_95"]) == ("1", "1", "1")
            assert (shifted["acc50"], shifted["acc75"], shifted["items"]) == ("0.8", "0", "6")
            assert shifted["prompt"] == SHIFTED and shifted["model"] == "good"

            page.locator("#eval-cell input").click()
            page.locator('[data-testid="dropdown-option"]', has_text="cell 2").first.click()
            page.wait_for_function("() => document.querySelectorAll('#eval-errors [role=row]:not(:has(th))')"
                                   ".length === 6")
            first = table(page, "#eval-errors")[0]
            assert (first["item"], first["quality"], first["missed"], first["extra"]) == (str(worst), "0", "1", "1")
            page.wait_for_function("() => { const img = document.querySelector('#eval-plot img'); "
                                   "return img && img.naturalWidth > 0; }")

            page.locator("#eval-errors [role=row]:not(:has(th))").first.locator("[role=gridcell]").nth(1).click()
            wait_text(page, "#item-status", f"Item {worst} ")
            wait_text(page, "#proposals", "Measured run")
            counts = page.evaluate("() => [document.querySelectorAll('#editor g.wb-shape').length, "
                                   "document.querySelectorAll('#editor .wb-proposal').length]")
            assert counts == [1, 1]  # the accepted box solid, the run's box dashed beside it
            assert services.store().item(worst).status == "accepted"  # measuring changed nothing

            page.get_by_role("tab", name="Evaluate").click()
            page.locator("#eval-compare").click()
            wait_text(page, "#eval-comparison", "got worse")
            rows = {cells[0]: cells[1:] for cells in (
                [c.strip() for c in row.split("\t")] for row in page.inner_text("#eval-comparison table").splitlines())}
            assert rows["acc75"] == ["1.000", "0.000", "-1.000", "[-1.000, -1.000]"]  # every target lost, surely
            assert rows["acc50"][:3] == ["1.000", "0.800", "-0.200"]
            assert "5 item(s) got worse" in page.inner_text("#eval-comparison")
        finally:
            context.close()


def test_splits_from_content_then_by_hand_on_the_filtered_items(browser, live_app, tmp_path):
    url, services = live_app
    store = services.store()
    known = build_known(store, tmp_path / "images", name="split-in-the-page")
    store.set_split("split-in-the-page", [*known.val, *known.train, *known.new], "none")
    context, page = open_page(browser, url)
    try:
        choose(page, "dataset", "split-in-the-page")
        wait_text(page, "#counts", "split-in-the-page")
        page.locator("#splits-panel").get_by_text("Splits").first.click()
        fill_kept(page, "#split-fractions textarea, #split-fractions input", "0.5, 0.5, 0")
        page.locator("#split-assign").click()
        wait_text(page, "#notice", "9 item(s) without a split got one")
        splits = {item.id: item.split for item in store.items("split-in-the-page")}
        assert set(splits.values()) <= {"train", "val"} and store.split_fractions("split-in-the-page")["val"] == 0.5
        choose(page, "filter-split", "val")
        shown = sum(s == "val" for s in splits.values())
        assert 0 < shown < 9
        wait_text(page, "#pager", f"of {shown}")
        choose(page, "split-to", "test")
        page.locator("#split-set").click()
        wait_text(page, "#notice", f"{shown} of the {shown} filtered item(s) moved to test")
        after = {item.id: item.split for item in store.items("split-in-the-page")}
        assert {i for i, s in after.items() if s == "test"} == {i for i, s in splits.items() if s == "val"}
    finally:
        context.close()

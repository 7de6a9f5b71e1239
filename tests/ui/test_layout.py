"""The layout at 1400 x 900, in a real Chromium: the editor at the top of Review with a portrait photo whole on the
screen, the queue's captions whole."""

from __future__ import annotations

import pytest

from tests.factories import write_image
from tests.ui.conftest import create_dataset, import_files, open_item, open_page, wait_text

pytestmark = pytest.mark.slow


def test_at_1400_by_900_a_portrait_photo_fits_at_the_top_of_review_and_captions_are_whole(browser, live_app,
                                                                                         tmp_path):
    url, _ = live_app
    context, page = open_page(browser, url, width=1400, height=900)
    try:
        create_dataset(page, "layout-1400")
        long_name = "IMG_20240612_183512_holiday_at_the_lake_with_the_whole_family.jpg"
        import_files(page, [write_image(tmp_path, 3024, 4032, fmt="JPEG", name=long_name),
                            write_image(tmp_path, 640, 480, seed=1, name="b.png")])
        captions = page.evaluate("() => [...document.querySelectorAll('#queue-gallery .caption-label')].map(e => "
                                 "[e.innerText, e.scrollWidth - e.clientWidth, e.scrollHeight - e.clientHeight])")
        assert len(captions) == 2
        for text, wider, taller in captions:
            assert wider <= 1 and taller <= 1, text  # nothing cut off
        assert any(long_name in text for text, _, _ in captions)

        open_item(page, 0)
        page.wait_for_function("() => { const i = document.querySelector('#editor .wb-stage img'); "
                               "return i && i.complete && i.naturalWidth > 0; }")
        page.evaluate("window.scrollTo(0, 0)")
        image = page.locator("#editor .wb-stage img").bounding_box()
        status = page.locator("#item-status").bounding_box()
        assert image["y"] >= 0 and image["y"] + image["height"] <= 900  # the whole photo without scrolling
        assert image["height"] > image["width"] and image["height"] >= 0.6 * 900  # and as large as the room allows
        assert page.locator("#editor").bounding_box()["y"] <= status["y"] + 1  # the editor starts the screen
        accept = page.locator("#wb-accept").bounding_box()
        assert accept["y"] + accept["height"] <= 900

        wide = page.locator("#editor .wb-stage").bounding_box()["width"]
        page.get_by_role("tab", name="Queue").click()  # an item that arrives while Review is hidden...
        page.locator("#filter-name input, #filter-name textarea").first.press_sequentially("b.png")
        wait_text(page, "#pager", "items 1–1 of 1")
        page.get_by_role("tab", name="Review").click()  # ...is fitted to the screen once it shows
        wait_text(page, "#item-status", "1 of 1")
        page.wait_for_function("w => document.querySelector('#editor .wb-stage').getBoundingClientRect().width > w",
                               arg=wide)
    finally:
        context.close()

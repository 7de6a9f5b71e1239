"""Text people type (dataset names, labels, file names, picture IDs) is shown as text, never run as HTML."""

from __future__ import annotations

import pytest

from tests.factories import write_image
from tests.ui.conftest import choose, open_item, wait_loaded, wait_text
from workbench.store import AnnotationDraft, ImageSource

NAME = "<img src=x onerror=window.__pwned=1>"
LABEL = "<b id=injected>bold</b> **md**"


@pytest.mark.slow
def test_html_in_names_labels_and_files_is_shown_as_text(page, live_app, tmp_path):
    _, services = live_app
    store = services.store()
    dataset = store.create_dataset(NAME)
    photo = write_image(tmp_path, 320, 240, name="<svg onload=window.__pwned=2>.png")
    item = store.add_item(dataset, [ImageSource(photo, "pic1")])
    store.set_annotations(item.id, 1, [AnnotationDraft.box((10, 10, 100, 100), LABEL)])
    page.reload()
    wait_loaded(page)
    choose(page, "dataset", NAME)
    counts = wait_text(page, "#counts", "onerror")
    assert NAME in counts  # the very characters
    page.locator("#labels-panel").get_by_text("Label set").first.click()
    assert LABEL in wait_text(page, "#labels-table", "bold")
    caption = page.locator("#queue-gallery").inner_text()
    assert "<svg onload=window.__pwned=2>.png" in caption
    open_item(page, 0)
    assert LABEL in page.locator("#editor").inner_text()
    assert page.evaluate("() => window.__pwned === undefined && !document.getElementById('injected')")
    assert page.locator("#counts img, #labels-table b, #item-status img").count() == 0

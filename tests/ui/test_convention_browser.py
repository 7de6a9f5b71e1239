"""The convention probe from the Review and Batch pages, and a thinking answer's reasoning shown folded."""

from __future__ import annotations

import itertools

import pytest

from grounding import QWEN2_5_VL, CoordinateConvention
from tests.factories import write_image
from tests.ui.conftest import create_dataset, fill_kept, import_files, open_item, open_page, wait_text
from tests.workbench.seeing_server import Answering, seeing_server

pytestmark = pytest.mark.slow

_names = itertools.count(1)


def _server_fields(page, url: str) -> None:
    page.locator("#backend").get_by_text("OpenAI-compatible server").click()
    fill_kept(page, "#model textarea, #model input", "Qwen/Qwen2.5-VL-7B-Instruct")
    fill_kept(page, "#base-url textarea, #base-url input", url)


def test_review_probe_fills_the_reading_and_saving_applies_it(browser, live_app, tmp_path):
    url, services = live_app
    context, page = open_page(browser, url)
    try:
        name = f"probe-{next(_names)}"
        create_dataset(page, name)
        import_files(page, [write_image(tmp_path, 1000, 500, seed=3, name="wide.png")])
        open_item(page, 0)
        with seeing_server(Answering(QWEN2_5_VL, CoordinateConvention.ABSOLUTE_ORIGINAL_YX)) as server:
            _server_fields(page, server)
            page.locator("#probe-convention").click()
            message = wait_text(page, "#notice", "coordinates are absolute-original-yx", timeout=120_000)
        assert "press “Use these for the dataset”" in message
        assert page.locator("#review-convention input").input_value() == "absolute-original-yx"
        page.locator("#review-settings").click()
        wait_text(page, "#notice", "Coordinates are read as absolute-original-yx.")
        assert services.store().dataset_settings(name)["convention"] == "absolute-original-yx"

        page.locator("#backend").get_by_text("Paste a model's output").click()
        page.locator("#pasted textarea").fill(
            "The cup is near the top, I think around (10, 20).\n</think>\n\n"
            '```json\n[{"bbox_2d": [50, 100, 250, 300], "label": "cup"}]\n```')
        page.locator("#parse-item").click()
        wait_text(page, "#notice", "Read 1 box(es)/point(s).")
        assert page.locator("#notice details summary").inner_text() == "The model's reasoning"
        assert not page.locator("#notice details").evaluate("d => d.open")  # folded
        page.locator("#notice details summary").click()
        wait_text(page, "#notice details", "I think around (10, 20)")
        item = services.store().items(name)[0]
        assert item.annotations[0].coords == (100.0, 50.0, 300.0, 250.0)  # read y first, original pixels
    finally:
        context.close()


def test_batch_probe_saves_the_reading_for_the_dataset(browser, live_app, tmp_path):
    url, services = live_app
    context, page = open_page(browser, url)
    try:
        name = f"probe-batch-{next(_names)}"
        create_dataset(page, name)
        page.get_by_role("tab", name="Batch").click()
        with seeing_server(Answering(QWEN2_5_VL, CoordinateConvention.RELATIVE_1000)) as server:
            fill_kept(page, "#batch-model textarea, #batch-model input", "Qwen/Qwen2.5-VL-7B-Instruct")
            fill_kept(page, "#batch-base-url textarea, #batch-base-url input", server)
            page.locator("#batch-probe").click()
            message = wait_text(page, "#notice", "Saved as this dataset's reading settings", timeout=120_000)
        assert "coordinates are relative-1000" in message and "qwen2.5-vl is documented as absolute-resized" in message
        assert services.store().dataset_settings(name)["convention"] == "relative-1000"
    finally:
        context.close()

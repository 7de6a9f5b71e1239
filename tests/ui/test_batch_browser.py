"""Batch from the page: the tiny local model pre-annotates a dataset in the background; progress shows on return."""

from __future__ import annotations

import pytest

from tests.factories import write_image
from tests.ui.conftest import create_dataset, fill_kept, import_files, open_page, wait_loaded, wait_text

pytestmark = pytest.mark.slow


def test_a_batch_runs_in_the_server_and_its_progress_is_there_after_a_reload(browser, live_app, tmp_path,
                                                                             tiny_qwen25):
    url, services = live_app
    context, page = open_page(browser, url)
    try:
        create_dataset(page, "batch-from-ui")
        import_files(page, [write_image(tmp_path, 160 + 16 * n, 120, seed=n, name=f"b{n}.png") for n in range(4)])
        page.get_by_role("tab", name="Batch").click()
        page.locator("#batch-backend").get_by_text("Local model (transformers)").click()
        fill_kept(page, "#batch-model textarea, #batch-model input", str(tiny_qwen25))
        page.locator("#batch-labels textarea, #batch-labels input").first.fill("cat")
        page.locator("#batch-start").click()
        wait_text(page, "#notice", "started: it runs in the background")
        page.reload()  # closing or reloading the page does not stop the job; its progress is still shown
        wait_loaded(page)
        page.get_by_role("tab", name="Batch").click()
        wait_text(page, "#batch-progress", "done · 4 of 4 item(s) done", timeout=180_000)
        items = services.store().items("batch-from-ui")
        assert [i.status for i in items] == ["pre-annotated"] * 4
        run, _ = services.store().proposals(items[0].id)
        assert run.family == "qwen2.5-vl" and run.settings["prompt"].startswith("Locate every cat")
    finally:
        context.close()

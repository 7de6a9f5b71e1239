"""Two users at once, a real model run from the Ground tab (and a failing one), and the export panel."""

from __future__ import annotations

import zipfile

from tests.factories import write_image
from tests.ui.test_browser import _shot, _text, _wait_text


def _open(browser, url):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(url)
    page.wait_for_selector("#upload", state="attached")
    return context, page


def test_concurrent_users_never_see_each_others_images(browser, live_app, tmp_path):
    url, _ = live_app
    (ctx_a, a), (ctx_b, b) = _open(browser, url), _open(browser, url)
    try:
        a.locator("#upload input[type=file]").set_input_files([str(write_image(tmp_path, 640, 480, name="alice.png"))])
        b.locator("#upload input[type=file]").set_input_files(
            [str(write_image(tmp_path, 300, 200, seed=3, name="bob1.png")),
             str(write_image(tmp_path, 200, 300, seed=4, name="bob2.png"))])
        _wait_text(a, "#geometry-table", "alice.png")
        _wait_text(b, "#geometry-table", "bob2.png")
        assert "bob" not in _text(a, "#geometry-table") and "img2" not in _text(a, "#geometry-table")
        assert "alice" not in _text(b, "#geometry-table")
        a.get_by_role("tab", name="2 · Ground").click()
        a.locator("#model-output textarea").fill('[{"bbox_2d": [0, 0, 100, 100], "label": "alice-box"}]')
        a.locator("#parse").click()
        _wait_text(a, "#detections", "alice-box")
        b.get_by_role("tab", name="2 · Ground").click()
        assert "alice-box" not in _text(b, "#detections")
    finally:
        ctx_a.close()
        ctx_b.close()


def test_run_a_local_model_from_the_ground_tab_then_a_missing_one(page, tmp_path, tiny_qwen25):
    page.locator("#upload input[type=file]").set_input_files([str(write_image(tmp_path, 320, 240, name="a.png"))])
    _wait_text(page, "#geometry-table", "img1")
    page.get_by_role("tab", name="2 · Ground").click()
    page.get_by_label("Local model (transformers)").check()
    checkpoint = page.get_by_label("Checkpoint (Hub ID or local folder)")
    checkpoint.fill(str(tiny_qwen25))
    page.locator("#target textarea, #target input").first.fill("cat")
    page.locator("#write-prompt").click()
    _wait_text(page, "#prompt", "")
    page.wait_for_function("document.querySelector('#prompt textarea').value.includes('Locate every cat')")
    page.locator("#run").click()
    # random weights write junk, but the run completes: the drawn image and the warnings line appear
    page.wait_for_function("document.querySelectorAll('#drawn img').length >= 1", timeout=120_000)
    assert _text(page, "#warnings").strip() != ""
    assert page.locator("#model-output textarea").input_value() != ""

    checkpoint.fill(str(tmp_path / "no-such-model"))
    page.locator("#run").click()
    page.wait_for_selector("text=/paste an output instead/", timeout=60_000)
    # the session goes on: paste mode still works
    page.locator("#model-output textarea").fill('[{"bbox_2d": [10, 10, 100, 100], "label": "still-here"}]')
    page.locator("#parse").click()
    _wait_text(page, "#detections", "still-here")


def test_export_panel_writes_a_zip_the_user_can_download(page, live_app, tmp_path):
    _, services = live_app
    store = services.store()
    store.create_dataset("export-me")
    image = write_image(tmp_path, 640, 428, name="bowl.png")
    from workbench.store import AnnotationDraft

    sample = store.add_sample("export-me", [image], "find the bowl")
    store.add_annotations(sample.images[0].id, [AnnotationDraft.box((146, 137, 615, 415), "bowl")])
    page.reload()
    page.get_by_role("tab", name="4 · Dataset & export").click()
    page.locator("#dataset-select input").click()
    page.get_by_role("option", name="export-me").click()
    _wait_text(page, "#dataset-summary", "1 sample(s)")
    page.locator("#export-family input").click()
    page.get_by_role("option", name="qwen2-vl").click()
    page.wait_for_timeout(500)
    page.locator("#export").click()
    _wait_text(page, "#export-report", "Exported")
    _shot(page, "dataset-tab")
    with page.expect_download() as download_info:
        page.locator("#export-file a").first.click()
    path = download_info.value.path()
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        data = next(n for n in names if n.endswith(".json") and "manifest" not in n and "dataset_info" not in n)
        text = archive.read(data).decode()
    assert "<|box_start|>(228,320),(961,970)<|box_end|>" in text, text[:500]  # the official Qwen2-VL bowl example

"""The page follows the store and remembers each dataset's choices, in a real Chromium.

What changes outside the person's own actions (a batch job in the background, a dataset made on the command
line) shows without a reload; the filter a page shows after a reload is the one it applies; the model,
server and what to find set on one page are the dataset's, on every page, after a reload too.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO
from tests.factories import write_image
from tests.ui.conftest import (
    choose,
    create_dataset,
    drag,
    fill_kept,
    import_files,
    open_page,
    wait_loaded,
    wait_text,
    wait_version,
)
from workbench.store import AnnotationDraft

pytestmark = pytest.mark.slow

_names = itertools.count(1)


def _name(stem: str) -> str:
    return f"{stem}-{next(_names)}"


def _fill(page, elem_id: str, text: str) -> None:
    field = page.locator(f"#{elem_id} textarea, #{elem_id} input").first
    field.fill(text)
    field.blur()  # leaving the field keeps it, as a person tabbing or clicking away does


def _value(page, elem_id: str) -> str:
    return page.locator(f"#{elem_id} textarea, #{elem_id} input").first.input_value()


def _wait_value(page, elem_id: str, text: str) -> None:
    page.wait_for_function(
        "([id, text]) => { const el = document.querySelector(`#${id} textarea, #${id} input`); "
        "return el && el.value === text; }", arg=[elem_id, text])


def test_a_dataset_made_on_the_command_line_appears_in_the_dropdown_without_a_reload(page, live_app):
    _, services = live_app
    name = _name("from-the-cli")
    env = os.environ | {"WORKBENCH_DATA_DIR": str(services.data_dir), "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "workbench", "dataset", "create", name], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    page.locator("#dataset input").click()
    page.wait_for_selector(f'[data-testid="dropdown-option"][aria-label="{name}"]')  # no reload in between
    page.locator(f'[data-testid="dropdown-option"][aria-label="{name}"]').first.click()
    wait_text(page, "#counts", name)


def test_the_header_and_the_queue_follow_a_batch_job_without_a_reload(page, live_app, tmp_path, tiny_qwen25):
    name = _name("live-batch")
    create_dataset(page, name)
    import_files(page, [write_image(tmp_path, 160 + 16 * n, 120, seed=n, name=f"l{n}.png") for n in range(3)])
    wait_text(page, "#counts", "3 new")
    assert page.inner_text("#queue-gallery").count("○ new") == 3
    page.get_by_role("tab", name="Batch").click()
    page.locator("#batch-backend").get_by_text("Local model (transformers)").click()
    _fill(page, "batch-model", str(tiny_qwen25))
    _fill(page, "batch-labels", "cat")
    page.locator("#batch-start").click()
    wait_text(page, "#batch-progress", "done · 3 of 3 item(s) done", timeout=180_000)
    page.get_by_role("tab", name="Queue").click()  # no reload, no filter change: the page shows the store
    wait_text(page, "#counts", "3 pre-annotated")
    page.wait_for_function("() => document.querySelector('#queue-gallery').innerText.split('◐ pre-annotated')"
                           ".length === 4")


def test_the_filter_shown_after_a_reload_is_the_filter_in_force_and_each_dataset_keeps_its_own(browser, live_app,
                                                                                               tmp_path):
    url, services = live_app
    store = services.store()
    name, other = _name("filtered"), _name("unfiltered")
    folder = tmp_path
    dataset = store.create_dataset(name)
    store.create_dataset(other)
    items = [store.add_item(dataset, [write_image(folder, 96, 64, seed=n, name=f"f{n}.png")]) for n in range(5)]
    for item in items[:2]:
        store.set_status(item.id, "accepted")
    store.set_annotations(items[4].id, 1, [AnnotationDraft.box((1, 1, 20, 20), "cat")])
    context, page = open_page(browser, url)
    try:
        choose(page, "dataset", name)
        wait_text(page, "#pager", "of 5")
        choose(page, "filter-status", "accepted")
        wait_text(page, "#pager", "items 1–2 of 2")
        page.reload()
        wait_loaded(page)
        wait_text(page, "#pager", "items 1–2 of 2")
        _wait_value(page, "filter-status", "accepted")  # the widget says what applies
        page.get_by_role("tab", name="Review").click()
        wait_text(page, "#item-status", "1 of 2 (filter: status accepted)")  # and so does the review screen
        page.get_by_role("tab", name="Queue").click()

        choose(page, "dataset", other)
        wait_text(page, "#counts", other)
        _wait_value(page, "filter-status", "all")
        choose(page, "dataset", name)  # back: the filter last used on this dataset
        wait_text(page, "#pager", "items 1–2 of 2")
        _wait_value(page, "filter-status", "accepted")

        choose(page, "filter-status", "all")
        page.locator("#filter-name input, #filter-name textarea").first.press_sequentially("f4")  # as one types
        wait_text(page, "#pager", "items 1–1 of 1")
        assert "f4.png" in page.inner_text("#queue-gallery")
    finally:
        context.close()


def test_model_server_and_what_to_find_are_the_datasets_on_every_page_and_after_a_reload(browser, live_app):
    url, services = live_app
    first, second = _name("remembers"), _name("other")
    services.store().create_dataset(first)
    services.store().create_dataset(second)
    context, page = open_page(browser, url)
    try:
        choose(page, "dataset", first)
        wait_text(page, "#counts", first)
        page.get_by_role("tab", name="Review").click()
        page.locator("#backend").get_by_text("OpenAI-compatible server").click()
        _fill(page, "model", "Qwen/Qwen2.5-VL-7B-Instruct")
        _fill(page, "base-url", "http://127.0.0.1:8000/v1")
        _fill(page, "target", "cat, dog")
        page.get_by_role("tab", name="Batch").click()  # the same on the Batch page, at once
        _wait_value(page, "batch-model", "Qwen/Qwen2.5-VL-7B-Instruct")
        _wait_value(page, "batch-base-url", "http://127.0.0.1:8000/v1")
        _wait_value(page, "batch-labels", "cat, dog")
        _fill(page, "batch-model", "Qwen/Qwen3-VL-4B-Instruct")  # and back from Batch to the others
        page.get_by_role("tab", name="Several images").click()
        _wait_value(page, "multi-model", "Qwen/Qwen3-VL-4B-Instruct")

        page.reload()
        wait_loaded(page)
        wait_text(page, "#counts", first)
        for tab, elem_id in (("Review", "model"), ("Batch", "batch-model"), ("Several images", "multi-model"),
                             ("Evaluate", "eval-models")):
            page.get_by_role("tab", name=tab).click()
            _wait_value(page, elem_id, "Qwen/Qwen3-VL-4B-Instruct")
        _wait_value(page, "multi-target", "cat, dog")
        _wait_value(page, "eval-base-url", "http://127.0.0.1:8000/v1")  # Evaluate shares the server too
        page.get_by_role("tab", name="Review").click()
        assert page.locator("#backend input[type=radio]:checked").first.evaluate("e => e.value").startswith(
            "OpenAI-compatible")

        choose(page, "dataset", second)  # another dataset: its own (nothing chosen: the defaults)
        wait_text(page, "#counts", second)
        page.get_by_role("tab", name="Batch").click()
        _wait_value(page, "batch-labels", "")
        assert _value(page, "batch-model") != "Qwen/Qwen3-VL-4B-Instruct"
        choose(page, "dataset", first)
        wait_text(page, "#counts", first)
        _wait_value(page, "batch-model", "Qwen/Qwen3-VL-4B-Instruct")
    finally:
        context.close()


def test_nothing_changes_the_dataset_before_the_page_has_loaded(browser, live_app):
    """A load answered late (a busy server) used to overwrite the page an import had just shown, cursor and all:
    the dataset controls are usable only once the load has answered."""
    url, _ = live_app
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    held = []
    # the page's own load event (the one that enables the import field), found in the app's config: its ids
    # depend on how many Blocks the process built before this app
    config = context.request.get(url.rstrip("/") + "/config").json()
    files = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "import-files")
    load = next(d["id"] for d in config["dependencies"]
                if any(target[1] == "load" for target in d["targets"]) and files in d["outputs"])

    def hold_the_load(route):
        try:
            body = json.loads(route.request.post_data or "{}")
        except ValueError:
            body = {}
        if not held and body.get("fn_index") == load:  # answered when the test says so
            held.append(route)
            return
        route.continue_()

    try:
        page = context.new_page()
        page.route("**/gradio_api/run/predict*", hold_the_load)
        page.goto(url)
        page.wait_for_function("() => document.querySelector('#import-files') !== null")
        for _ in range(600):  # until the page sends its load (late on a busy machine); the route holds it
            if held:
                break
            page.wait_for_timeout(50)
        assert held, "the load event was not seen"
        page.wait_for_timeout(300)  # (a wait for something that must not happen while the load is held)
        assert page.locator("#import-files input[type=file]").count() == 0
        assert page.locator("#dataset input").is_disabled()
        held[0].continue_()
        wait_loaded(page)
        assert page.locator("#import-files input[type=file]").count() == 1
    finally:
        context.close()


def test_a_settings_field_being_typed_in_is_not_rewritten_by_the_edits_that_follow(page, tmp_path):
    create_dataset(page, _name("typing"))
    import_files(page, [write_image(tmp_path, 640, 480, name="t.png")])
    page.get_by_role("tab", name="Queue").click()
    page.locator("#queue-gallery .thumbnail-item").first.click()
    page.wait_for_selector("#editor svg.wb-overlay")
    fill_kept(page, "#review-max input", "100000")  # typed, not saved yet
    drag(page, (40, 40), (200, 160))  # an edit changes the status line...
    wait_version(page, 2)
    drag(page, (300, 200), (400, 300))
    wait_version(page, 3)
    assert page.locator("#review-max input").input_value() == "100000"  # ...and leaves the field as typed


def test_a_filter_typed_right_after_a_tab_switch_holds_and_the_tab_comes_back_after_a_reload(browser, live_app,
                                                                                             tmp_path):
    """The screen is kept in the cursor by the browser itself: switching tabs used to send the whole cursor to the
    server and write it back, so on a busy server a filter typed meanwhile was undone by the late answer."""
    url, services = live_app
    store = services.store()
    name = _name("tabs")
    dataset = store.create_dataset(name)
    for n in range(3):
        store.add_item(dataset, [write_image(tmp_path, 96, 64, seed=n, name=f"t{n}.png")])
    context, page = open_page(browser, url)
    try:
        choose(page, "dataset", name)
        wait_text(page, "#pager", "of 3")
        page.get_by_role("tab", name="Review").click()
        page.get_by_role("tab", name="Queue").click()
        page.locator("#filter-name input, #filter-name textarea").first.press_sequentially("t2")  # at once
        wait_text(page, "#pager", "items 1–1 of 1")
        kept = page.evaluate("() => new Promise(done => setTimeout(done, 1500))")  # a live tick or two later
        assert kept is None and "items 1–1 of 1" in page.inner_text("#pager")

        page.get_by_role("tab", name="Batch").click()
        page.reload()
        wait_loaded(page)
        page.wait_for_function("() => { const t = [...document.querySelectorAll('[role=tab]')]"
                               ".find(e => e.innerText.trim() === 'Batch'); return t && t.getAttribute('aria-selected') === 'true'; }")
        wait_text(page, "#pager", "items 1–1 of 1")  # and the filter is the one in force
    finally:
        context.close()

"""Every message the app writes for a person is visible in the page, in words (one test per message path).

Gradio 6 drops ``gr.Warning``/``gr.Error`` raised by handlers that skip the queue; the app shows its
messages in one notice area instead, replacing the previous one. Each case performs the action in
Chromium and reads the notice.
"""

from __future__ import annotations

import itertools

import pytest

from tests.factories import write_image
from tests.ui.conftest import choose, open_page, wait_text
from workbench.store import AnnotationDraft

_names = itertools.count(1)


@pytest.fixture(scope="module")
def messages_dataset(live_app, tmp_path_factory):
    """A dataset with three single-image items (boxes on the first), and another dataset to collide with."""
    _, services = live_app
    store = services.store()
    folder = tmp_path_factory.mktemp("messages")
    name = "messages"
    dataset = store.create_dataset(name)
    store.create_dataset("taken")
    first = store.add_item(dataset, [write_image(folder, 320, 240, name="one.png")])
    store.add_item(dataset, [write_image(folder, 320, 240, seed=1, name="two.png")])
    store.add_item(dataset, [write_image(folder, 320, 240, seed=2, name="three.png")])  # the one a paste changes
    store.set_annotations(first.id, 1, [AnnotationDraft.box((10, 10, 100, 100), "cat")])
    return name


@pytest.fixture
def on_dataset(browser, live_app, messages_dataset):
    url, _ = live_app
    context, page = open_page(browser, url)
    choose(page, "dataset", messages_dataset)
    wait_text(page, "#counts", messages_dataset)
    yield page
    context.close()


def _review(page, index: int = 0) -> None:
    page.get_by_role("tab", name="Queue").click()
    page.locator("#queue-gallery .thumbnail-item").nth(index).click()
    page.wait_for_selector("#editor svg.wb-overlay")


def _datasets_panel(page) -> None:
    if not page.locator("#dataset-name").is_visible():
        page.locator("#datasets-panel").get_by_text("Datasets").first.click()


def _fill(page, elem_id: str, text: str) -> None:
    page.locator(f"#{elem_id} textarea, #{elem_id} input").first.fill(text)


def create_empty(page):
    _datasets_panel(page)
    _fill(page, "dataset-name", "   ")
    page.locator("#dataset-create").click()


def create_existing(page):
    _datasets_panel(page)
    _fill(page, "dataset-name", "taken")
    page.locator("#dataset-create").click()


def rename_onto_another(page):
    _datasets_panel(page)
    _fill(page, "dataset-name", "taken")
    page.locator("#dataset-rename").click()


def delete_without_typing(page):
    _datasets_panel(page)
    page.locator("#dataset-delete").click()


def rename_missing_label(page):
    page.locator("#labels-panel").get_by_text("Label set").first.click()
    _fill(page, "label-name", "unicorn")
    _fill(page, "label-new", "horse")
    page.locator("#label-rename").click()


def undo_with_nothing(page):
    _review(page, 1)
    page.locator("#wb-undo").click()


def redo_with_nothing(page):
    _review(page, 1)
    page.locator("#wb-redo").click()


def previous_at_start(page):
    _review(page, 0)
    page.locator("#wb-prev").click()


def rename_picture_invalid(page):
    _review(page, 0)
    page.get_by_text("Picture IDs and order").click()
    _fill(page, "picture-id", "no spaces please")
    page.locator("#picture-rename").click()


def move_picture_at_end(page):
    _review(page, 0)
    page.get_by_text("Picture IDs and order").click()
    page.locator("#picture-earlier").click()


def parse_empty(page):
    _review(page, 0)
    page.locator("#parse-item").click()


def limits_min_over_max(page):
    _review(page, 0)
    page.locator("#review-min input").fill("5000000")
    page.locator("#review-max input").fill("100000")
    page.locator("#review-settings").click()


def parse_with_fields_not_saved(page):
    _review(page, 2)
    page.locator("#review-max input").fill("100000")  # typed, but “Use these for the dataset” not pressed
    _fill(page, "pasted", '[{"bbox_2d": [10, 10, 50, 50], "label": "cat"}]')
    page.locator("#parse-item").click()


def run_without_prompt(page):
    _review(page, 0)
    page.locator("#backend").get_by_text("Local model (transformers)").click()
    page.locator("#run-item").click()


def write_prompt_without_target(page):
    _review(page, 0)
    page.locator("#write-prompt").click()


def batch_without_labels_or_prompt(page):
    page.get_by_role("tab", name="Batch").click()
    page.locator("#batch-start").click()


def export_nothing_accepted(page):
    page.get_by_role("tab", name="Export").click()
    page.locator("#export").click()


def try_limits_min_over_max(page):
    page.get_by_role("tab", name="Try it").click()
    page.locator("#min-pixels input").fill("20000000")
    page.locator("#min-pixels input").press("Enter")


def try_rename_without_image(page):
    page.get_by_role("tab", name="Try it").click()
    _fill(page, "try-new-id", "front")
    page.locator("#try-rename").click()


def try_parse_without_images(page):
    page.get_by_role("tab", name="Try it").click()
    page.locator("#try-output textarea").fill("[]")
    page.locator("#try-parse").click()


def try_save_without_images(page):
    page.get_by_role("tab", name="Try it").click()
    page.locator("#try-save").click()


def try_broken_upload(page, tmp_path):
    page.get_by_role("tab", name="Try it").click()
    broken = tmp_path / "bad.png"
    broken.write_bytes(b"\x89PNG\r\n not a png")
    page.locator("#try-upload input[type=file]").set_input_files([str(broken)])


CASES = [
    pytest.param(create_empty, "error", "a dataset needs a name", id="create-dataset-empty-name"),
    pytest.param(create_existing, "error", "a dataset named 'taken' already exists", id="create-dataset-existing"),
    pytest.param(rename_onto_another, "error", "a dataset named 'taken' already exists", id="rename-dataset-onto-another"),
    pytest.param(delete_without_typing, "error", "type its name in the Name box first", id="delete-without-typing"),
    pytest.param(rename_missing_label, "error", "dataset has no label 'unicorn'", id="rename-unknown-label"),
    pytest.param(undo_with_nothing, "error", "nothing to undo on this item", id="nothing-to-undo"),
    pytest.param(redo_with_nothing, "error", "nothing to redo on this item", id="nothing-to-redo"),
    pytest.param(previous_at_start, "info", "This is the first item of the queue.", id="previous-at-start"),
    pytest.param(rename_picture_invalid, "error", "image ID 'no spaces please' must be", id="rename-picture-invalid"),
    pytest.param(move_picture_at_end, "info", "The picture is already at that end.", id="move-picture-at-end"),
    pytest.param(parse_empty, "error", "paste a model output first", id="parse-nothing"),
    pytest.param(limits_min_over_max, "error", "larger than max_pixels", id="review-limits-min-over-max"),
    pytest.param(parse_with_fields_not_saved, "warning", "Read with the dataset's settings, not the fields above "
                 "(max_pixels 100000 (the dataset: the family's))", id="parse-with-fields-not-saved"),
    pytest.param(run_without_prompt, "error", "write a prompt first", id="run-without-a-prompt"),
    pytest.param(write_prompt_without_target, "error", "say what to locate", id="prompt-without-target"),
    pytest.param(batch_without_labels_or_prompt, "error", "say what to find: give labels", id="batch-nothing-to-find"),
    pytest.param(export_nothing_accepted, "error", "has no accepted items to export", id="export-nothing-accepted"),
    pytest.param(try_limits_min_over_max, "error", "Pixel limits not applied", id="try-limits-min-over-max"),
    pytest.param(try_rename_without_image, "warning", "Choose an image first.", id="try-rename-without-image"),
    pytest.param(try_parse_without_images, "error", "add at least one image first", id="try-parse-without-images"),
    pytest.param(try_save_without_images, "error", "add images first", id="try-save-without-images"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("action", "kind", "text"), CASES)
def test_the_message_is_in_the_page(on_dataset, action, kind, text):
    page = on_dataset
    action(page)
    shown = wait_text(page, "#notice", text)
    assert page.locator(f"#notice .wb-{kind}").count() == 1, shown
    assert page.locator("#notice .wb-notice").count() == 1  # the new message replaced any earlier one


@pytest.mark.slow
def test_a_broken_upload_in_try_it_is_named_and_the_page_goes_on(on_dataset, tmp_path):
    page = on_dataset
    try_broken_upload(page, tmp_path)
    wait_text(page, "#notice", "bad.png")
    assert page.locator("#notice .wb-warning").count() == 1
    page.locator("#try-upload input[type=file]").set_input_files([str(write_image(tmp_path, 64, 48, name="ok.png"))])
    wait_text(page, "#notice", "Added 1 image(s).")
    wait_text(page, "#geometry-table", "ok.png")


@pytest.mark.slow
def test_min_pixels_above_max_keeps_the_table_and_says_why(on_dataset, tmp_path):
    page = on_dataset
    page.get_by_role("tab", name="Try it").click()
    page.locator("#try-upload input[type=file]").set_input_files([str(write_image(tmp_path, 640, 480, name="a.png"))])
    wait_text(page, "#geometry-table", "644×476")
    page.locator("#min-pixels input").fill("20000000")
    page.locator("#min-pixels input").press("Enter")
    shown = wait_text(page, "#notice", "Pixel limits not applied")
    assert "min_pixels 3136 and max_pixels 12845056" in shown
    assert "644×476" in page.inner_text("#geometry-table")  # the table says what the limits in force give

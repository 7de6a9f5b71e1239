"""The dataset-first workbench in a real Chromium: import, pre-annotate, review with the keyboard, reload, export."""

from __future__ import annotations

import itertools
import zipfile

import pytest

from grounding import process_size, to_original
from tests.factories import write_image
from tests.ui.conftest import (
    EXAMPLES,
    choose,
    create_dataset,
    drag,
    import_files,
    open_item,
    open_page,
    shapes,
    status,
    wait_loaded,
    wait_status,
    wait_text,
    wait_version,
)

_names = itertools.count(1)


def _dataset(page, stem: str) -> str:
    name = f"{stem}-{next(_names)}"
    create_dataset(page, name)
    return name


def _current(services, page):
    item_id = int(status(page).split()[1])
    return services.store().item(item_id)


def test_import_pre_annotate_review_by_keyboard_reload_and_export(page, live_app, tmp_path):
    _url, services = live_app
    name = _dataset(page, "walk")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff not really a jpeg")
    photos = sorted(EXAMPLES.glob("*.jpg"))
    message = import_files(page, [*photos, broken])
    assert f"Added {len(photos)} image(s) to '{name}'" in message and "1 file(s) could not be read" in message
    assert "broken.jpg" in message
    assert page.locator("#queue-gallery .thumbnail-item").count() == len(photos)

    open_item(page, 0)  # astronaut.jpg, 512 x 512: Qwen2.5-VL sees 504 x 504
    page.locator("#pasted textarea").fill('```json\n[{"bbox_2d": [100, 40, 400, 500], "label": "astronaut"}]\n```')
    page.locator("#parse-item").click()
    wait_text(page, "#notice", "Read 1 box(es)/point(s). They are the item's boxes now.")
    first = _current(services, page)
    assert first.status == "pre-annotated" and first.annotations[0].provenance == "model"
    assert first.annotations[0].coords == pytest.approx(tuple(v * 512 / 504 for v in (100, 40, 400, 500)))

    page.keyboard.press("a")  # accept, and the next unreviewed item opens
    wait_text(page, "#notice", f"Item {first.id} accepted.")
    second = _current(services, page)
    assert second.id != first.id and services.store().item(first.id).status == "accepted"
    drag(page, (50, 50), (200, 150))
    wait_version(page, 2)
    page.keyboard.press("a")
    wait_text(page, "#notice", f"Item {second.id} accepted.")
    third = _current(services, page)
    page.keyboard.press("x")
    wait_text(page, "#notice", f"Item {third.id} rejected.")
    fourth = _current(services, page)

    page.reload()  # a reload opens the same dataset and item

    wait_loaded(page)
    wait_status(page, f"Item {fourth.id} ")
    assert name in page.inner_text("#counts")
    page.keyboard.press("ArrowLeft")
    wait_status(page, f"Item {third.id} ")
    page.keyboard.press("Control+z")  # the reject is taken back
    wait_text(page, "#notice", "Undo")
    assert services.store().item(third.id).status == "new"
    page.keyboard.press("Control+y")
    wait_status(page, "rejected")

    page.get_by_role("tab", name="Export").click()
    page.locator("#export").click()
    wait_text(page, "#notice", "Exported 2 sample(s)")
    assert "Train with:" in page.inner_text("#export-report")
    link = page.locator("#export-file a").first
    with page.expect_download() as download:
        link.click()
    target = tmp_path / "export.zip"
    download.value.save_as(target)
    with zipfile.ZipFile(target) as zf:
        names = zf.namelist()
    assert any(n.endswith("manifest.json") for n in names)


def test_one_drawn_box_is_one_undo_step_and_a_press_inside_a_box_moves_it(page, live_app, tmp_path):
    _, services = live_app
    _dataset(page, "editor")
    import_files(page, [write_image(tmp_path, 800, 600, fmt="JPEG", name="room.jpg")])
    open_item(page, 0)
    store = services.store()
    drag(page, (100, 100), (300, 250))
    wait_version(page, 2)
    item = _current(services, page)
    assert [a.action for a in store.history(item.id)] == ["edit"]
    (box,) = item.annotations
    assert box.coords == pytest.approx((100, 100, 300, 250), abs=1.5)  # 800 x 600 is shown at its own size

    drag(page, (200, 175), (250, 225))  # a press inside the box moves it, it does not draw a new one
    wait_version(page, 3)
    (moved,) = store.item(item.id).annotations
    assert moved.coords == pytest.approx((150, 150, 350, 300), abs=1.5)

    drag(page, (160, 160), (220, 220), shift=True)  # Shift draws inside a box
    wait_version(page, 4)
    assert len(store.item(item.id).annotations) == 2
    page.locator("#editor .wb-newlabel").fill("lamp")
    page.locator("#editor .wb-newlabel").press("Enter")  # a new label, given to the selected box
    wait_version(page, 5)
    assert sorted(a.label for a in store.item(item.id).annotations) == ["lamp", "object"]
    page.locator("#editor .wb-info").click()  # focus leaves the label field
    page.keyboard.press("l")  # cycle the selected box's label
    wait_version(page, 6)
    assert sorted(a.label for a in store.item(item.id).annotations) == ["object", "object"]
    page.keyboard.press("Delete")
    wait_version(page, 7)
    assert len(store.item(item.id).annotations) == 1
    assert len(store.history(item.id)) == 6  # one entry per gesture or key, nothing in between
    page.keyboard.press("Control+z")
    wait_version(page, 8)
    assert len(store.item(item.id).annotations) == 2 and [s["label"] for s in shapes(page)] == ["object", "object"]

    page.keyboard.press("Escape")
    page.keyboard.press("Shift+Tab")  # nothing selected: Shift+Tab selects the last box, Tab the first
    assert [s["selected"] for s in shapes(page)] == [False, True]
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    assert [s["selected"] for s in shapes(page)] == [True, False]
    page.keyboard.press("Escape")  # nothing selected: a corner of a box still resizes that box
    drag(page, (350, 300), (380, 330))
    wait_version(page, 9)
    assert sorted(a.coords for a in store.item(item.id).annotations) == [
        pytest.approx((150, 150, 380, 330), abs=1.5), pytest.approx((160, 160, 220, 220), abs=1.5)]


def test_two_browsers_on_one_item_never_silently_overwrite_each_other(browser, live_app, tmp_path):
    url, services = live_app
    ctx_a, a = open_page(browser, url)
    try:
        name = _dataset(a, "two")
        import_files(a, [write_image(tmp_path, 640, 480, name="shared.png")])
        open_item(a, 0)
        ctx_b, b = open_page(browser, url)
        try:
            choose(b, "dataset", name)
            wait_text(b, "#counts", name)
            open_item(b, 0)
            drag(a, (10, 10), (100, 100))
            wait_version(a, 2)
            drag(b, (300, 300), (400, 400))  # b still shows version 1
            wait_text(b, "#notice", "was changed elsewhere")
            wait_version(b, 2)  # b now shows the item as a left it
            item = _current(services, a)
            assert [a_.coords for a_ in item.annotations] == [pytest.approx((10, 10, 100, 100), abs=1.5)]
            assert len(shapes(b)) == 1
        finally:
            ctx_b.close()
    finally:
        ctx_a.close()


def test_a_portrait_phone_photo_fits_the_window_with_its_buttons(browser, live_app, tmp_path):
    url, _services = live_app
    context, page = open_page(browser, url, width=1280, height=800)
    try:
        _dataset(page, "portrait")
        photo = write_image(tmp_path, 1600, 1200, fmt="JPEG", orientation=6, name="phone.jpg")  # shown 1200 x 1600
        import_files(page, [photo])
        open_item(page, 0)
        image = page.locator("#editor .wb-stage img").bounding_box()
        accept = page.locator("#wb-accept").bounding_box()
        assert image["height"] <= 800 * 0.7 and image["width"] < image["height"]
        assert accept["y"] + accept["height"] <= 800 and accept["y"] >= 0
        page.evaluate("window.scrollTo(0, document.querySelector('#editor').getBoundingClientRect().top)")
        top = page.locator("#editor .wb-stage img").bounding_box()
        assert top["y"] + top["height"] <= 800  # the whole picture on one screen
    finally:
        context.close()


@pytest.mark.parametrize(("stored", "orientation", "shown"), [
    pytest.param((4032, 3024), None, (4032, 3024), id="12-megapixel"),
    pytest.param((3024, 4032), 8, (4032, 3024), id="exif-8-portrait-shown-landscape"),
])
def test_boxes_drawn_on_large_and_rotated_photos_are_stored_in_original_pixels(page, live_app, tmp_path, stored,
                                                                             orientation, shown):
    _, services = live_app
    _dataset(page, "large")
    import_files(page, [write_image(tmp_path, *stored, fmt="JPEG", orientation=orientation, name="big.jpg")])
    open_item(page, 0)
    w, h = float(page.locator("#editor svg").get_attribute("data-w")), float(
        page.locator("#editor svg").get_attribute("data-h"))
    assert max(w, h) == 1600 and w / h == pytest.approx(shown[0] / shown[1], abs=0.01)
    drag(page, (400, 300), (800, 900))
    wait_version(page, 2)
    (box,) = _current(services, page).annotations
    factor = shown[0] / w
    assert box.coords == pytest.approx((400 * factor, 300 * factor, 800 * factor, 900 * factor), abs=4)


def test_a_model_run_keeps_human_work_and_shows_what_it_proposed(page, live_app, tmp_path):
    _, services = live_app
    _dataset(page, "proposals")
    import_files(page, [write_image(tmp_path, 640, 480, name="desk.png")])
    open_item(page, 0)
    drag(page, (10, 10), (100, 100))
    wait_version(page, 2)
    page.locator("#pasted textarea").fill('[{"bbox_2d": [322, 238, 644, 476], "label": "cat"}]')
    page.locator("#parse-item").click()
    wait_text(page, "#notice", "The item has work by hand, so they are shown beside it (dashed).")
    wait_text(page, "#proposals", "proposed 1 annotation(s)")
    assert page.locator("#editor .wb-proposal").count() == 1
    item = _current(services, page)
    assert [a.label for a in item.annotations] == ["object"]  # the person's box is untouched
    page.locator("#take-proposals").click()
    wait_text(page, "#notice", "The model's boxes are now the item's.")
    item = _current(services, page)
    assert [(a.label, a.provenance) for a in item.annotations] == [("cat", "model")]
    assert item.annotations[0].coords == pytest.approx((320, 240, 640, 480))


def test_the_export_page_asks_the_question_a_person_wrote_and_the_dataset_keeps_it(page, live_app, tmp_path):
    _url, services = live_app
    name = _dataset(page, "questions")
    import_files(page, [write_image(tmp_path, 640, 480, fmt="JPEG", name="desk.jpg")])
    open_item(page, 0)
    page.locator("#pasted textarea").fill('{"bbox_2d": [10, 10, 200, 200], "label": "mug"}')
    page.locator("#parse-item").click()
    wait_text(page, "#notice", "Read 1 box(es)/point(s).")
    page.keyboard.press("a")
    wait_text(page, "#notice", "accepted.")

    page.get_by_role("tab", name="Export").click()
    question = page.locator("#export-question textarea")
    assert "Locate every {labels}" in question.input_value()  # the family's own phrasing to start from
    page.locator("#export-task").get_by_text("One question per object (referring)").click()
    page.wait_for_function("() => document.querySelector('#export-question textarea').value.includes('{label}')")
    question.fill("Where is the {label}? Answer with its box in JSON.")
    page.locator("#export").click()
    wait_text(page, "#notice", "Exported 1 sample(s)")
    link = page.locator("#export-file a").first
    with page.expect_download() as download:
        link.click()
    target = tmp_path / "questions.zip"
    download.value.save_as(target)
    with zipfile.ZipFile(target) as zf:
        data = next(zf.read(n) for n in zf.namelist() if n.endswith(".json") and "manifest" not in n)
    assert "Where is the mug? Answer with its box in JSON." in data.decode()
    record = services.store().dataset(name)
    assert record.settings["question_templates"]["qwen2.5-vl"] == {
        "referring": "Where is the {label}? Answer with its box in JSON."}

    page.reload()  # the page offers the dataset's own question again

    wait_loaded(page)
    page.get_by_role("tab", name="Export").click()
    page.locator("#export-task").get_by_text("One question per object (referring)").click()
    page.wait_for_function(
        "() => document.querySelector('#export-question textarea').value.startsWith('Where is the {label}?')")
    question.fill("Where is {unknown}?")  # a placeholder the export cannot fill: said, nothing saved
    page.locator("#export").click()
    wait_text(page, "#notice", "{unknown}")
    assert services.store().dataset(name).settings["question_templates"]["qwen2.5-vl"]["referring"].startswith(
        "Where is the {label}?")


def test_answers_under_the_keys_the_prompt_named_are_read_once_the_dataset_knows_them(page, live_app, tmp_path):
    _, services = live_app
    name = _dataset(page, "keys")
    import_files(page, [write_image(tmp_path, 800, 600, fmt="JPEG", name="shelf.jpg")])
    open_item(page, 0)
    answer = '[{"position": [100, 100, 300, 250], "label": "jar"}]'
    page.locator("#pasted textarea").fill(answer)
    page.locator("#parse-item").click()
    wait_text(page, "#notice", "no box")  # an unknown key: nothing read, and the page says so
    assert _current(services, page).annotations == ()

    page.locator("#review-keys textarea, #review-keys input").first.fill("position, loc")
    page.locator("#review-settings").click()
    wait_text(page, "#notice", "Answers are also read under position, loc.")
    assert services.store().dataset(name).settings["coordinate_keys"] == ["position", "loc"]
    page.locator("#pasted textarea").fill(answer)
    page.locator("#parse-item").click()
    wait_text(page, "#notice", "Read 1 box(es)/point(s).")
    (jar,) = _current(services, page).annotations
    seen = process_size((800, 600), "qwen2.5-vl")  # the model's pixels, back to the photo's
    assert jar.label == "jar" and jar.coords == pytest.approx(to_original((100, 100, 300, 250), seen))

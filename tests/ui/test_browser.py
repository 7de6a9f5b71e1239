"""The workbench in a real Chromium: upload, live geometry, paste and parse, edit a box, undo.

Screenshots of the main screens are written to assets/screenshots/ (shown in the README).
"""

from __future__ import annotations

import re

import pytest

from grounding import PixelLimits, process_size
from tests.factories import write_image
from tests.ui.conftest import SCREENSHOTS

OUTPUT = (
    "```json\n"
    '[{"bbox_2d": [322, 238, 644, 476], "label": "cat", "image": 1},\n'
    ' {"bbox_2d": [10, 10, 200, 300], "label": "猫", "image": 2}]\n'
    "```"
)


def _text(page, selector: str) -> str:
    return page.inner_text(selector)


def _wait_text(page, selector: str, text: str, timeout: int = 30_000) -> None:
    page.wait_for_function(
        "([sel, text]) => { const el = document.querySelector(sel); return el && el.innerText.includes(text); }",
        arg=[selector, text], timeout=timeout,
    )


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _table_rows(page) -> list[str]:
    text = _text(page, "#geometry-table")
    return [line for line in text.splitlines() if line.strip()]


@pytest.fixture
def three_images(tmp_path):
    """Landscape JPEG, a rotated phone photo (stored 600x400, EXIF 6: shown 400x600), a wide PNG."""
    return [
        write_image(tmp_path, 640, 480, fmt="JPEG", name="kitchen.jpg"),
        write_image(tmp_path, 600, 400, fmt="JPEG", orientation=6, seed=1, name="phone.jpg"),
        write_image(tmp_path, 3000, 1000, fmt="PNG", seed=2, name="panorama.png"),
    ]


def _upload(page, paths) -> None:
    page.locator("#upload input[type=file]").set_input_files([str(p) for p in paths])
    _wait_text(page, "#geometry-table", "img3")


def test_upload_three_images_and_watch_the_table_follow_max_pixels(page, three_images):
    _upload(page, three_images)
    rows = " ".join(_table_rows(page))
    assert re.search(r"img1\s+kitchen\.jpg\s+640×480\s+644×476\s+\[1, 34, 46\]\s+391", rows), rows
    assert re.search(r"img2\s+phone\.jpg\s+400×600\s+392×588\s+\[1, 42, 28\]\s+294", rows), rows
    assert re.search(r"img3\s+panorama\.png\s+3000×1000\s+2996×1008", rows), rows
    _shot(page, "images-tab")

    page.locator("#max-pixels input").fill(str(1280 * 28 * 28))
    page.locator("#max-pixels input").press("Enter")
    smaller = process_size((3000, 1000), "qwen2.5-vl", PixelLimits(3136, 1280 * 28 * 28))
    w, h = smaller.resized_wh
    _wait_text(page, "#geometry-table", f"{w}×{h}")
    assert f"{smaller.tokens}" in _text(page, "#geometry-table")
    assert "of a 128000-token context" in _text(page, "#geometry-summary")


def test_reorder_and_rename_images(page, three_images):
    _upload(page, three_images)
    page.locator("#image-select input").click()
    page.get_by_role("option", name="img3").click()
    page.locator("#move-up").click()
    _wait_text(page, "#geometry-table", "img3")
    page.wait_for_function(
        "() => { const t = document.querySelector('#geometry-table').innerText;"
        " return t.indexOf('img3') < t.indexOf('img2'); }")
    page.locator("#new-id textarea, #new-id input").first.fill("pano")
    page.locator("#rename").click()
    page.wait_for_function("/\\bpano\\s+panorama/.test(document.querySelector('#geometry-table').innerText)")
    order = re.findall(r"\b(img1|img2|img3|pano)\s", _text(page, "#geometry-table"))
    assert order == ["img1", "pano", "img2"]


def test_paste_output_then_edit_a_box_and_undo(page, live_app, three_images):
    _, services = live_app
    _upload(page, three_images)
    page.get_by_role("tab", name="2 · Ground").click()
    page.locator("#model-output textarea").fill(OUTPUT)
    page.locator("#parse").click()
    _wait_text(page, "#detections", "猫")
    detections = " ".join(line.strip() for line in _text(page, "#detections").splitlines() if line.strip())
    assert re.search(r"img1\s+box\s+cat\s+\[322, 238, 644, 476\]\s+\[320, 240, 640, 480\]", detections), detections
    # picture 2 is shown 400x600 and seen as 392x588: x * 400/392, y * 600/588
    assert re.search(r"img2\s+box\s+猫\s+\[10, 10, 200, 300\]\s+\[10\.2, 10\.2, 204\.1, 306\.1\]", detections)
    page.wait_for_function("document.querySelectorAll('#drawn img').length >= 3")
    _shot(page, "ground-tab")
    # the drawn picture of img1 (640x480, drawn at full size): the cat box's left edge is at x = 320
    import io

    from PIL import Image

    from grounding.draw import PALETTE, label_color_index

    source = page.locator("#drawn img").first.get_attribute("src")
    drawn = Image.open(io.BytesIO(page.request.get(source).body())).convert("RGB")
    assert drawn.size == (640, 480)
    cat = PALETTE.by_idx(label_color_index("cat")).as_rgb()
    on_edge, outside = drawn.getpixel((320, 400)), drawn.getpixel((300, 400))
    assert max(abs(a - b) for a, b in zip(on_edge, cat)) < 40, (on_edge, cat)
    assert max(abs(a - b) for a, b in zip(outside, cat)) > 60, (outside, cat)

    page.get_by_role("tab", name="3 · Edit boxes").click()
    page.locator("#edit-select input").click()
    page.get_by_role("option", name="img2").click()
    _wait_text(page, "#edit-status", "img2")
    _wait_text(page, "#edit-status", "猫: [10.2, 10.2, 204.1, 306.1]")
    canvas = page.locator("#editor canvas").first
    page.wait_for_timeout(800)  # the canvas lays the image out after it loads
    box = canvas.bounding_box()
    scale = min(box["width"] / 400, box["height"] / 600)
    left = box["x"] + (box["width"] - 400 * scale) / 2
    top = box["y"] + (box["height"] - 600 * scale) / 2
    x, y = left + 100 * scale, top + 150 * scale  # inside the box
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 25 * scale, y + 15 * scale, steps=5)
    page.mouse.move(x + 50 * scale, y + 30 * scale, steps=5)
    page.mouse.up()
    _wait_text(page, "#edit-status", "edit 1 of 1")
    status = _text(page, "#edit-status")
    moved = re.search(r"猫: \[([\d.]+), ([\d.]+), ([\d.]+), ([\d.]+)\]", status)
    x1, y1, x2, y2 = map(float, moved.groups())
    assert (x1, y1) == pytest.approx((60.2, 40.2), abs=1.5) and (x2 - x1, y2 - y1) == pytest.approx((194, 296), abs=1.5)
    _shot(page, "edit-tab")

    page.get_by_role("tab", name="4 · Dataset & export").click()
    page.locator("#dataset-name textarea, #dataset-name input").first.fill("kitchen-cats")
    page.locator("#dataset-create").click()
    _wait_text(page, "#dataset-summary", "kitchen-cats")
    page.get_by_role("tab", name="3 · Edit boxes").click()
    page.locator("#accept").click()
    _wait_text(page, "#edit-status", "accepted: 1 box(es)")
    assert "saved 1 box(es) of img2 to dataset 'kitchen-cats'" in _text(page, "#edit-status")
    store = services.store()
    sample = store.samples("kitchen-cats")[-1]
    assert [i.image_id for i in sample.images] == ["img1", "img2", "img3"]
    saved = sample.images[1].annotations
    assert [(a.label, a.provenance, a.status) for a in saved] == [("猫", "human", "accepted")]
    assert saved[0].coords == pytest.approx((x1, y1, x2, y2), abs=0.051)  # the status shows one decimal
    page.locator("#undo").click()
    _wait_text(page, "#edit-status", "edit 0 of 1")
    assert "猫: [10.2, 10.2, 204.1, 306.1]" in _text(page, "#edit-status")
    page.locator("#redo").click()
    _wait_text(page, "#edit-status", "edit 1 of 1")


def test_a_broken_file_is_reported_and_the_others_are_kept(page, tmp_path, three_images):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(three_images[0].read_bytes()[:400])
    page.locator("#upload input[type=file]").set_input_files([str(three_images[0]), str(broken)])
    _wait_text(page, "#geometry-table", "img1")
    page.wait_for_selector("text=/broken.jpg: .*(damaged|truncated|unreadable)/", timeout=15_000)
    assert "img2" not in _text(page, "#geometry-table")


@pytest.mark.parametrize(
    ("stored", "orientation", "shown"),
    [pytest.param((4032, 3024), None, (4032, 3024), id="larger-than-canvas"),
     pytest.param((3000, 1200), 8, (1200, 3000), id="portrait-from-exif")],
)
def test_editing_large_and_portrait_images_keeps_original_coordinates(page, tmp_path, stored, orientation, shown):
    path = write_image(tmp_path, *stored, fmt="JPEG", orientation=orientation, name=f"big_{stored[0]}.jpg")
    page.locator("#upload input[type=file]").set_input_files([str(path)])
    _wait_text(page, "#geometry-table", f"{shown[0]}×{shown[1]}")
    geometry = process_size(shown, "qwen2.5-vl")
    mw, mh = geometry.resized_wh
    box_model = [mw // 4, mh // 4, mw // 2, mh // 2]
    page.get_by_role("tab", name="2 · Ground").click()
    page.locator("#model-output textarea").fill(f'[{{"bbox_2d": {box_model}, "label": "thing"}}]')
    page.locator("#parse").click()
    _wait_text(page, "#detections", "thing")
    page.get_by_role("tab", name="3 · Edit boxes").click()
    page.locator("#edit-select input").click()
    page.get_by_role("option", name="img1").click()
    _wait_text(page, "#edit-status", "thing: [")
    before = re.search(r"thing: \[([\d.]+), ([\d.]+), ([\d.]+), ([\d.]+)\]", _text(page, "#edit-status"))
    x1, y1, x2, y2 = map(float, before.groups())
    assert (x1, y1) == pytest.approx((box_model[0] * shown[0] / mw, box_model[1] * shown[1] / mh), abs=0.1)

    page.wait_for_timeout(800)
    canvas = page.locator("#editor canvas").first.bounding_box()
    display_long = 1600  # DISPLAY_MAX_SIDE: the editor gets a display copy
    factor = display_long / max(shown)
    dw, dh = shown[0] * factor, shown[1] * factor
    scale = min(canvas["width"] / dw, canvas["height"] / dh)
    left = canvas["x"] + (canvas["width"] - dw * scale) / 2
    top = canvas["y"] + (canvas["height"] - dh * scale) / 2
    cx = left + (x1 + x2) / 2 * factor * scale
    cy = top + (y1 + y2) / 2 * factor * scale
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx + 20, cy + 10, steps=4)
    page.mouse.move(cx + 40, cy + 20, steps=4)
    page.mouse.up()
    _wait_text(page, "#edit-status", "edit 1 of 1")
    after = re.search(r"thing: \[([\d.]+), ([\d.]+), ([\d.]+), ([\d.]+)\]", _text(page, "#edit-status"))
    nx1, ny1, nx2, ny2 = map(float, after.groups())
    per_canvas_px = 1 / (factor * scale)  # original pixels per screen pixel
    tolerance = 2 * per_canvas_px + 1 / factor
    assert nx1 - x1 == pytest.approx(40 * per_canvas_px, abs=tolerance)
    assert ny1 - y1 == pytest.approx(20 * per_canvas_px, abs=tolerance)
    assert (nx2 - nx1, ny2 - ny1) == pytest.approx((x2 - x1, y2 - y1), abs=2 / factor)
    assert 0 <= nx1 < nx2 <= shown[0] and 0 <= ny1 < ny2 <= shown[1]


def test_pasted_output_without_image_keys_goes_to_the_chosen_image(page, three_images):
    _upload(page, three_images)
    page.get_by_role("tab", name="2 · Ground").click()
    page.locator("#output-for input").click()
    page.get_by_role("option", name="img3").click()
    page.locator("#model-output textarea").fill('[{"bbox_2d": [0, 0, 1498, 504], "label": "left half"}]')
    page.locator("#parse").click()
    _wait_text(page, "#detections", "left half")
    detections = " ".join(_text(page, "#detections").split())
    # img3 is 3000x1000, seen as 2996x1008: x * 3000/2996, y * 1000/1008
    assert re.search(r"img3 box left half \[0, 0, 1498, 504\] \[0, 0, 1500, 500\]", detections), detections

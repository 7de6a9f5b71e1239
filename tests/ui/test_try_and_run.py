"""Try it (upload, live geometry, paste, drawn boxes, one click into a dataset) and a real model run on an item."""

from __future__ import annotations

import io
import re
import zipfile

from PIL import Image

from grounding.draw import PALETTE, label_color_index
from tests.factories import write_image
from tests.ui.conftest import choose, create_dataset, import_files, open_item, wait_loaded, wait_text

OUTPUT = (
    "```json\n"
    '[{"bbox_2d": [322, 238, 644, 476], "label": "cat", "image": 1},\n'
    ' {"bbox_2d": [10, 10, 200, 300], "label": "猫", "image": 2}]\n'
    "```"
)


def test_try_it_geometry_paste_drawn_boxes_and_one_click_into_a_dataset(page, live_app, tmp_path):
    _, services = live_app
    page.get_by_role("tab", name="Try it").click()
    files = [write_image(tmp_path, 640, 480, fmt="JPEG", name="kitchen.jpg"),
             write_image(tmp_path, 600, 400, fmt="JPEG", orientation=6, seed=1, name="phone.jpg")]  # shown 400 x 600
    page.locator("#try-upload input[type=file]").set_input_files([str(p) for p in files])
    table = wait_text(page, "#geometry-table", "img2")
    assert "640×480" in table and "644×476" in table and "400×600" in table and "392×588" in table
    page.locator("#max-pixels input").fill(str(128 * 28 * 28))
    page.locator("#max-pixels input").press("Enter")
    wait_text(page, "#geometry-table", "364×252")  # 640 x 480 under 100,352 pixels

    page.locator("#max-pixels input").fill(str(16384 * 28 * 28))
    page.locator("#max-pixels input").press("Enter")
    wait_text(page, "#geometry-table", "644×476")
    page.locator("#try-output textarea").fill(OUTPUT)
    page.locator("#try-parse").click()
    detections = wait_text(page, "#try-detections", "猫")
    flat = " ".join(line.strip() for line in detections.splitlines() if line.strip())
    assert re.search(r"img1\s+box\s+cat\s+\[322, 238, 644, 476\]\s+\[320, 240, 640, 480\]", flat), flat
    assert re.search(r"img2\s+box\s+猫\s+\[10, 10, 200, 300\]\s+\[10\.2, 10\.2, 204\.1, 306\.1\]", flat), flat
    page.wait_for_function("document.querySelectorAll('#try-drawn img').length >= 2")
    source = page.locator("#try-drawn img").first.get_attribute("src")
    drawn = Image.open(io.BytesIO(page.request.get(source).body())).convert("RGB")
    assert drawn.size == (640, 480)
    cat = PALETTE.by_idx(label_color_index("cat")).as_rgb()
    on_edge, outside = drawn.getpixel((320, 400)), drawn.getpixel((300, 400))
    assert max(abs(a - b) for a, b in zip(on_edge, cat)) < 40, (on_edge, cat)
    assert max(abs(a - b) for a, b in zip(outside, cat)) > 60, (outside, cat)

    page.locator("#try-dataset textarea, #try-dataset input").first.fill("from-try-it")
    page.locator("#try-save").click()
    wait_text(page, "#notice", "Added 2 item(s) with 2 detection(s) to 'from-try-it'")
    store = services.store()
    items = store.items("from-try-it")
    assert [(i.status, [(a.label, a.provenance) for a in i.annotations]) for i in items] == [
        ("pre-annotated", [("cat", "model")]), ("pre-annotated", [("猫", "model")])]
    assert items[1].annotations[0].coords == (10.2040816326530612, 10.2040816326530612, 204.08163265306123,
                                              306.1224489795918)


def test_run_the_tiny_local_model_on_an_item_then_a_missing_one(page, live_app, tmp_path, tiny_qwen25):
    _, services = live_app
    create_dataset(page, "tiny-run")
    import_files(page, [write_image(tmp_path, 320, 240, name="a.png")])
    open_item(page, 0)
    page.locator("#backend").get_by_text("Local model (transformers)").click()
    page.locator("#model textarea, #model input").first.fill(str(tiny_qwen25))
    page.locator("#target textarea, #target input").first.fill("cat")
    page.locator("#write-prompt").click()
    page.wait_for_function("document.querySelector('#prompt textarea').value.includes('Locate every cat')")
    page.locator("#run-item").click()
    # random weights write junk, but the run completes and lands on the item as a run
    wait_text(page, "#notice", "Read ", timeout=120_000)
    item = services.store().items("tiny-run")[0]
    run, _ = services.store().proposals(item.id)
    assert run is not None and run.family == "qwen2.5-vl" and item.status == "pre-annotated"
    assert page.locator("#model-output textarea").input_value() != ""

    page.locator("#model textarea, #model input").first.fill(str(tmp_path / "no-such-model"))
    page.locator("#run-item").click()
    wait_text(page, "#notice", "no-such-model", timeout=60_000)
    assert page.locator("#notice .wb-error").count() == 1
    page.locator("#backend").get_by_text("Paste a model's output").click()  # the page goes on: paste still works
    page.locator("#pasted textarea").fill('[{"bbox_2d": [10, 10, 100, 100], "label": "still-here"}]')
    page.locator("#parse-item").click()
    wait_text(page, "#notice", "Read 1 box(es)/point(s)")


def test_export_for_qwen2_vl_writes_the_official_bowl_target(page, live_app, tmp_path):
    _, services = live_app
    store = services.store()
    from workbench.store import AnnotationDraft

    dataset = store.create_dataset("bowl-export")
    item = store.add_item(dataset, [write_image(tmp_path, 640, 428, name="bowl.png")], "find the bowl")
    store.set_annotations(item.id, 1, [AnnotationDraft.box((146, 137, 615, 415), "bowl")])
    store.set_status(item.id, "accepted")
    page.reload()
    wait_loaded(page)
    choose(page, "dataset", "bowl-export")
    wait_text(page, "#counts", "1 accepted")
    page.get_by_role("tab", name="Export").click()
    choose(page, "export-family", "qwen2-vl")
    page.locator("#export").click()
    wait_text(page, "#export-report", "Exported")
    with page.expect_download() as download_info:
        page.locator("#export-file a").first.click()
    with zipfile.ZipFile(download_info.value.path()) as archive:
        data = next(n for n in archive.namelist() if n.endswith("qwen_finetune.json"))
        text = archive.read(data).decode()
    assert "<|box_start|>(228,320),(961,970)<|box_end|>" in text, text[:500]  # the official Qwen2-VL bowl example

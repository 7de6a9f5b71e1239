"""Refresh the README's screenshots: ``make screenshots`` (or ``python -m tests.ui.screenshots [FOLDER]``).

Runs the real app on a temporary data folder with the sample photos of ``assets/examples`` (their
licences are in its README), pre-annotates them as a model would, and photographs the Queue, the
Review screen with the editor, Export and Try it in Debian's Chromium. Tests never write these files;
only this command does.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tests.ui.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    EXAMPLES,
    choose,
    free_port,
    open_item,
    open_page,
    wait_text,
)

OUT = Path(__file__).resolve().parents[2] / "assets" / "screenshots"

# What a Qwen2.5-VL run proposed for each sample photo (original pixels; hand-checked against the pictures).
PROPOSALS = {
    "astronaut.jpg": [((150, 40, 430, 512), "astronaut"), ((0, 0, 115, 230), "flag"), ((360, 0, 450, 270), "rocket")],
    "cat.jpg": [((60, 0, 400, 300), "cat")],
    "coffee.jpg": [((150, 40, 460, 300), "cup"), ((80, 170, 560, 395), "saucer"), ((330, 200, 470, 330), "spoon")],
    "rocket.jpg": [((300, 70, 360, 380), "rocket")],
}


def main(out: Path = OUT) -> None:
    from playwright.sync_api import sync_playwright

    from ui import create_app
    from workbench.importers import import_images
    from workbench.services import Services
    from workbench.store import AnnotationDraft

    data = Path(tempfile.mkdtemp(prefix="wb-screens-"))
    services = Services.create(data, public=False)
    store = services.store()
    report = import_images(store, "sample-photos", sorted(EXAMPLES.glob("*.jpg")))
    run = store.run("sample-photos", model="Qwen/Qwen2.5-VL-7B-Instruct", family="qwen2.5-vl",
                    settings={"prompt": "Locate every object in the image and output the bbox coordinates in JSON."})
    for item_id in report.items:
        item = store.item(item_id)
        boxes = PROPOSALS.get(item.images[0].original_name, [])
        store.record_proposals(run.id, item_id, [[AnnotationDraft.box(xyxy, label) for xyxy, label in boxes]])
    store.set_status(report.items[1], "accepted")
    pair = import_images(store, "two-pictures", [EXAMPLES / "cat.jpg", EXAMPLES / "coffee.jpg"])
    store.group_items(pair.items)  # one multi-image item, for the Several images page
    demo = create_app(services)
    port = free_port()
    demo.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    out.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            context, page = open_page(browser, f"http://127.0.0.1:{port}/", width=1400, height=900)
            page.wait_for_selector("#queue-gallery .thumbnail-item")
            page.screenshot(path=str(out / "queue.png"), full_page=True)
            open_item(page, 2)
            page.locator("#editor g.wb-shape").first.click()
            page.screenshot(path=str(out / "review.png"))
            page.get_by_role("tab", name="Export").click()
            page.locator("#export").click()
            wait_text(page, "#export-report", "Exported")
            page.screenshot(path=str(out / "export.png"), full_page=True)
            page.get_by_role("tab", name="Try it").click()
            page.locator("#try-upload input[type=file]").set_input_files([str(EXAMPLES / "coffee.jpg")])
            wait_text(page, "#geometry-table", "coffee.jpg")
            page.locator("#try-output textarea").fill(
                '```json\n[{"bbox_2d": [151, 41, 459, 300], "label": "cup"}, '
                '{"bbox_2d": [330, 199, 470, 330], "label": "spoon"}]\n```')
            page.locator("#try-parse").click()
            page.wait_for_function("document.querySelectorAll('#try-drawn img').length >= 1")
            page.screenshot(path=str(out / "try-it.png"), full_page=True)
            choose(page, "dataset", "two-pictures")
            wait_text(page, "#counts", "two-pictures")
            open_item(page, 0)
            page.get_by_role("tab", name="Several images").click()
            page.locator("#multi-base-url textarea, #multi-base-url input").first.fill("http://127.0.0.1:8000/v1")
            page.locator("#multi-target textarea, #multi-target input").first.fill("the cat")
            page.locator("#multi-show-prompt").click()
            wait_text(page, "#notice", "The exact prompt for item")  # nothing is sent: the server is not asked
            page.screenshot(path=str(out / "several-images.png"), full_page=True)
            context.close()
            browser.close()
    finally:
        demo.close()
    print(f"wrote {', '.join(sorted(p.name for p in out.glob('*.png')))} to {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)

"""Browser latency of the workbench, in Debian Chromium, against the same work done in-process.

    python -m bench.ui_latency [--images 10] [--size 4032 3024] [--repeats 3]

1. upload N photos -> the geometry table lists them all (peer: ``load_upload`` + ``geometry_table``
   on the same files in this process, i.e. the work without browser, HTTP and Gradio);
2. a box edit in the editor -> the edit is recorded (status shows it), then Accept -> saved in the
   store (peer: ``Workspace.edit`` + ``save_accepted`` in this process).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bench._record import Row, write_record
from tests.factories import write_image
from tests.ui.conftest import CHROMIUM, CHROMIUM_ARGS, free_port


def _wait(page, selector: str, text: str) -> None:
    page.wait_for_function(
        "([s, t]) => { const e = document.querySelector(s); return e && e.innerText.includes(t); }",
        arg=[selector, text], timeout=120_000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=10)
    parser.add_argument("--size", type=int, nargs=2, default=(4032, 3024))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from ui import create_app
    from workbench.box_history import EditorBox
    from workbench.dataset_session import save_accepted
    from workbench.services import Services
    from workbench.uploads import load_upload
    from workbench.workspace import Workspace

    tmp = Path(tempfile.mkdtemp())
    photos = [write_image(tmp, *args.size, fmt="JPEG", seed=i, name=f"photo{i:02d}.jpg") for i in range(args.images)]
    services = Services.create(tmp / "data")
    services.store().create_dataset("bench")
    demo = create_app(services)
    port = free_port()
    demo.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)

    upload_ui, upload_peer, edit_ui, save_ui, save_peer = [], [], [], [], []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for repeat in range(args.repeats):
                # peer: the same work in this process (fresh display folder, so nothing is cached)
                t0 = time.perf_counter()
                ws = Workspace()
                entries = [load_upload(path, tmp / f"peer{repeat}") for path in photos]
                ws = ws.with_images(ws.images.add(entries))
                ws.table()
                upload_peer.append(time.perf_counter() - t0)
                ws = ws.with_output('[{"bbox_2d": [10, 10, 200, 200], "label": "thing"}]', target_image=1)
                t0 = time.perf_counter()
                ws = ws.edit("img1", [EditorBox("thing", (60, 40, 260, 240))])
                save_accepted(services.store(), ws, "img1", "bench")
                save_peer.append(time.perf_counter() - t0)

                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(f"http://127.0.0.1:{port}/")
                page.wait_for_selector("#upload")
                t0 = time.perf_counter()
                page.locator("#upload input[type=file]").set_input_files([str(p) for p in photos])
                _wait(page, "#geometry-table", f"img{args.images}")
                upload_ui.append(time.perf_counter() - t0)

                page.get_by_role("tab", name="2 · Ground").click()
                page.locator("#model-output textarea").fill('[{"bbox_2d": [10, 10, 400, 400], "label": "thing"}]')
                page.locator("#parse").click()
                _wait(page, "#detections", "thing")
                page.get_by_role("tab", name="3 · Edit boxes").click()
                page.locator("#edit-select input").click()
                page.get_by_role("option", name="img1", exact=True).click()
                _wait(page, "#edit-status", "thing: [")
                page.wait_for_timeout(800)
                box = page.locator("#editor canvas").first.bounding_box()
                canvas_scale = min(box["width"] / 1600, box["height"] / 1200)
                x = box["x"] + (box["width"] - 1600 * canvas_scale) / 2 + 100 * canvas_scale
                y = box["y"] + (box["height"] - 1200 * canvas_scale) / 2 + 100 * canvas_scale
                page.mouse.move(x, y)
                page.mouse.down()
                page.mouse.move(x + 20, y + 10, steps=3)
                t0 = time.perf_counter()
                page.mouse.up()
                _wait(page, "#edit-status", "edit 1 of 1")
                edit_ui.append(time.perf_counter() - t0)
                page.get_by_role("tab", name="4 · Dataset & export").click()
                page.locator("#dataset-select input").click()
                page.get_by_role("option", name="bench").click()
                page.get_by_role("tab", name="3 · Edit boxes").click()
                t0 = time.perf_counter()
                page.locator("#accept").click()
                _wait(page, "#edit-status", "saved 1 box(es)")
                save_ui.append(time.perf_counter() - t0)
                page.close()
            browser.close()
    finally:
        demo.close()

    def med(values: list[float]) -> float:
        return statistics.median(values)

    print(f"upload {args.images} x {args.size[0]}x{args.size[1]} -> table: browser {med(upload_ui):.2f} s, "
          f"in-process {med(upload_peer):.2f} s, ratio {med(upload_ui) / med(upload_peer):.2f}x")
    print(f"box edit -> recorded: browser {med(edit_ui) * 1000:.0f} ms")
    print(f"accept -> saved: browser {med(save_ui) * 1000:.0f} ms, in-process edit+save "
          f"{med(save_peer) * 1000:.1f} ms, ratio {med(save_ui) / med(save_peer):.0f}x")
    path = write_record("ui_latency", {
        "images": args.images, "size": list(args.size), "repeats": args.repeats,
        "upload_to_table_s": upload_ui, "upload_peer_s": upload_peer, "edit_to_recorded_s": edit_ui,
        "accept_to_saved_s": save_ui, "save_peer_s": save_peer,
    }, ("gradio", "gradio_image_annotation", "playwright"), rows=[
        Row(f"browser: {args.images} x {args.size[0]}x{args.size[1]} upload -> table", ours=med(upload_ui),
            peer=med(upload_peer), units="s", notes="peer: the same work in-process"),
        Row("browser: accept -> saved", ours=med(save_ui) * 1000, peer=med(save_peer) * 1000, units="ms",
            notes=f"peer: in-process edit + save; box edit -> recorded {med(edit_ui) * 1000:.0f} ms"),
    ])
    print(f"record: {path}")


if __name__ == "__main__":
    main()

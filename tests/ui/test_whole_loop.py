"""The whole job in a real Chromium, as a person does it: fifty photos in, pre-annotated, reviewed with the keyboard
over a reload, exported, and the export read by the loaders that train on it."""

from __future__ import annotations

import json
import zipfile

import pytest

from tests.factories import write_image
from tests.ui.conftest import (
    choose,
    create_dataset,
    fill_kept,
    import_files,
    open_item,
    open_page,
    status,
    wait_loaded,
    wait_status,
    wait_text,
)
from workbench.export.registry import FORMATS

pytestmark = pytest.mark.slow

PHOTOS = 50
PASTED = 3


def _zip_of_photos(folder):
    """50 pictures of many sizes, JPEG and PNG, one a phone photo stored sideways, in one zip."""
    folder.mkdir()
    paths = []
    for n in range(PHOTOS):
        fmt = "JPEG" if n % 3 else "PNG"
        paths.append(write_image(folder, 200 + 37 * (n % 9), 150 + 23 * (n % 7), fmt=fmt, seed=n,
                                 orientation=6 if n == 7 else None, name=f"photo-{n:02d}.{fmt.lower()}"))
    archive = folder.parent / "photos.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in paths:
            zf.write(path, f"shoot/{path.name}")
    return archive


def _download(page, folder, name):
    with page.expect_download() as download:
        page.locator("#export-file a").first.click()
    target = folder / name
    download.value.save_as(target)
    out = folder / name.removesuffix(".zip")
    with zipfile.ZipFile(target) as zf:
        zf.extractall(out)
    return out


def _item_id(page) -> int:
    return int(status(page).split()[1])


def test_fifty_photos_pre_annotated_reviewed_by_keyboard_over_a_reload_and_exported(browser, live_app, tmp_path,
                                                                                      tiny_qwen25):
    url, services = live_app
    store = services.store()
    context, page = open_page(browser, url)
    try:
        create_dataset(page, "fifty")
        message = import_files(page, [_zip_of_photos(tmp_path / "shoot")])
        assert f"Added {PHOTOS} image(s) to 'fifty'" in message
        wait_text(page, "#counts", f"{PHOTOS} new")

        for index in range(PASTED):  # a few pre-annotated by pasting what a model wrote elsewhere
            open_item(page, index)
            page.locator("#pasted textarea").fill('[{"bbox_2d": [20, 20, 120, 100], "label": "cat"}]')
            page.locator("#parse-item").click()
            wait_text(page, "#notice", "Read 1 box(es)/point(s).")

        page.get_by_role("tab", name="Batch").click()  # the rest by the tiny model, in the background
        page.locator("#batch-backend").get_by_text("Local model (transformers)").click()
        fill_kept(page, "#batch-model textarea, #batch-model input", str(tiny_qwen25))
        page.locator("#batch-labels textarea, #batch-labels input").first.fill("cat")
        page.locator("#batch-tokens input[type=number]").fill("16")
        page.locator("#batch-tokens input[type=number]").press("Enter")
        page.locator("#batch-start").click()
        wait_text(page, "#batch-progress", f"done · {PHOTOS - PASTED} of {PHOTOS - PASTED} item(s) done",
                  timeout=300_000)
        assert {item.status for item in store.items("fifty")} == {"pre-annotated"}

        open_item(page, 0)  # review with the keyboard only
        decided = []
        for n in range(6):
            if n == 3:
                here = _item_id(page)
                page.reload()  # in the middle: the page opens the same item, and the work goes on
                wait_loaded(page)
                wait_status(page, f"Item {here} ")
            here = _item_id(page)
            page.keyboard.press("x" if n == 4 else "a")
            wait_text(page, "#notice", f"Item {here} {'rejected' if n == 4 else 'accepted'}.")
            decided.append(here)
        assert len(set(decided)) == 6
        statuses = {item.id: item.status for item in store.items("fifty")}
        assert sorted(statuses[i] for i in decided) == ["accepted"] * 5 + ["rejected"]
        accepted = list(store.items("fifty", statuses=["accepted"]))
        boxes = sum(len(image.annotations) for item in accepted for image in item.images)
        with_boxes = sum(1 for item in accepted if any(image.annotations for image in item.images))
        assert with_boxes >= PASTED  # the pasted items come first in the queue and were accepted

        page.get_by_role("tab", name="Export").click()  # accepted items only, read by the real loaders
        choose(page, "export-format", f"{FORMATS['coco'].title} (coco)")
        page.locator("#export").click()
        wait_text(page, "#notice", f"Exported {with_boxes} sample(s)")
        coco_dir = _download(page, tmp_path, "coco.zip")
        pycocotools = pytest.importorskip("pycocotools.coco")
        annotations = next(coco_dir.rglob("annotations.json"))
        coco = pycocotools.COCO(str(annotations))
        assert len(coco.getImgIds()) == with_boxes and len(coco.getAnnIds()) == boxes
        names = {image["file_name"].rsplit("/", 1)[-1] for image in coco.loadImgs(coco.getImgIds())}
        originals = {image.original_name.rsplit(".", 1)[0] for item in accepted for image in item.images
                     if image.annotations}  # the photos' own names, after a sample tag
        assert {name.split("-", 2)[-1].rsplit(".", 1)[0] for name in names} == originals

        choose(page, "export-format", f"{FORMATS['hf_datasets'].title} (hf_datasets)")
        page.locator("#export").click()
        wait_text(page, "#export-report", "hf_datasets")
        hf_dir = _download(page, tmp_path, "hf.zip")
        datasets = pytest.importorskip("datasets")
        folder = next(path.parent for path in hf_dir.rglob("dataset_info.json"))
        rows = datasets.load_from_disk(str(folder))
        assert len(rows) == with_boxes and set(rows["status"]) == {"accepted"}
        manifest = json.loads(next(hf_dir.rglob("manifest.json")).read_text())
        assert manifest["counts"]["boxes"] == boxes
    finally:
        context.close()

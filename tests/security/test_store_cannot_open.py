"""Issue 20, item 7: a store that cannot be opened (garbage, truncated, written by a newer version) does not
break the app: it starts, the page says why saving is off and loads without an error, Try it still works,
and the damaged file is never written to; the CLI says the same in words. A version-1 store holding a
sample with no image opens, and that item says so instead of raising.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3

import pytest
from typer.testing import CliRunner

from tests.factories import write_image
from tests.security.live import LiveApp
from tests.ui.conftest import open_page, wait_text
from tests.workbench.store.test_migrations import V1_SCHEMA
from workbench.cli import app as cli
from workbench.store import AnnotationDraft, DatasetStore
from workbench.store.blobs import ImageBlobs
from workbench.store.schema import SCHEMA_VERSION

pytestmark = pytest.mark.slow

DB = "workbench.sqlite3"


def healthy_store(data, tmp_path, items: int = 60) -> None:
    with DatasetStore.open(data) as store:
        record = store.create_dataset("pets")
        for n in range(items):
            item = store.add_item(record, [write_image(tmp_path, 32 + n, 24, name=f"p{n}.png")], "Find the cat." * 20)
            store.set_annotations(item.id, 1, [AnnotationDraft.box((1, 1, 9, 9), f"cat {n}")] * 20)


def prepare(kind: str, data, tmp_path) -> None:
    data.mkdir(parents=True)
    path = data / DB
    if kind == "garbage":
        path.write_bytes(os.urandom(64 << 10))
    elif kind == "truncated":
        healthy_store(data, tmp_path)
        size = path.stat().st_size
        assert size > 64 << 10
        os.truncate(path, size // 2)
    elif kind == "newer":
        healthy_store(data, tmp_path, items=2)
        with sqlite3.connect(path) as conn:
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
        conn.close()
    else:
        raise AssertionError(kind)


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


WORDS = {"garbage": "is not an SQLite database", "truncated": "is damaged",
         "newer": f"was written by a newer workbench (schema {SCHEMA_VERSION + 1}"}


@pytest.mark.parametrize("kind", ["garbage", "truncated", "newer"])
def test_the_app_starts_says_why_keeps_try_it_and_leaves_the_file(kind, browser, tmp_path):
    data = tmp_path / "app" / "data"
    prepare(kind, data, tmp_path)
    before = digest(data / DB)
    app = LiveApp(tmp_path / "app", {"SPACE_ID": "someone/workbench"})
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        _, page = open_page(browser, app.url, context=context)
        banner = page.inner_text("#storage-banner")
        assert "Saving is off: the dataset store cannot be used" in banner and WORDS[kind] in banner, banner
        assert "left as it is" in banner and "Try it" in banner
        wait_text(page, "#counts", "No dataset yet")
        assert "went wrong" not in page.inner_text("#notice") and "Error" not in page.inner_text("#notice")
        page.get_by_role("tab", name="Try it").click()
        page.locator("#try-upload input[type=file]").set_input_files([str(write_image(tmp_path, 640, 480,
                                                                                      name="kitchen.png"))])
        wait_text(page, "#geometry-table", "kitchen.png")
        page.get_by_role("tab", name="Queue").click()
        page.locator("#import-files input[type=file]").set_input_files([str(write_image(tmp_path, 64, 48))])
        wait_text(page, "#notice", "Saving is off")
    finally:
        context.close()
        app.stop()
    assert digest(data / DB) == before, "the damaged file was written to"
    assert "Traceback" not in app.log.read_text()


@pytest.mark.parametrize("kind", ["garbage", "truncated", "newer"])
def test_the_cli_says_the_same_in_words(kind, tmp_path):
    data = tmp_path / "data"
    prepare(kind, data, tmp_path)
    before = digest(data / DB)
    for args in (["dataset", "list"], ["items", "pets"], ["dataset", "create", "dogs"]):
        done = CliRunner().invoke(cli, [*args, "--data-dir", str(data)])
        assert done.exit_code == 1, done.output
        assert "cannot open the dataset store" in done.output and WORDS[kind] in done.output, done.output
    assert digest(data / DB) == before


def v1_with_an_imageless_sample(root, tmp_path) -> None:
    blobs = ImageBlobs(root / "images")
    photo = blobs.put_file(write_image(tmp_path, 64, 48, name="a.png"))
    conn = sqlite3.connect(root / DB)
    conn.executescript(V1_SCHEMA)
    conn.execute("PRAGMA user_version=1")
    conn.execute("INSERT INTO datasets VALUES (1, 'old', '2026-11-01T10:00:00+00:00')")
    conn.execute("INSERT INTO images VALUES (?,?,?,?,?)",
                 (photo.sha256, photo.file.relative_to(root / "images").as_posix(), 64, 48, "PNG"))
    conn.executemany("INSERT INTO samples VALUES (?,?,?,?)", [(1, 1, 1, "a sample with no image"), (2, 1, 2, "")])
    conn.execute("INSERT INTO sample_images VALUES (1, 2, 1, 'img1', ?, 'a.png')", (photo.sha256,))
    conn.commit()
    conn.close()


def test_a_version_1_sample_with_no_image_is_said_not_raised(browser, tmp_path):
    data = tmp_path / "app" / "data"
    data.mkdir(parents=True)
    v1_with_an_imageless_sample(data, tmp_path)
    app = LiveApp(tmp_path / "app", {})  # local: the one-user workbench opens the migrated dataset
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        _, page = open_page(browser, app.url, context=context)
        wait_text(page, "#counts", "old")
        page.get_by_role("tab", name="Review").click()
        wait_text(page, "#item-status", "has no picture")
        page.locator("#wb-next").click()
        wait_text(page, "#item-status", "Item 2")
        assert "went wrong" not in page.inner_text("#notice")
    finally:
        context.close()
        app.stop()
    assert "IndexError" not in app.log.read_text()
    assert (data / f"{DB}.v1.bak").is_file()  # the migration's copy of version 1, as always

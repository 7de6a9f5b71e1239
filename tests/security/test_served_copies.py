"""Issue 20, item 14: on a public deployment a dataset's thumbnails and display copies are served only through
URLs its owner's pages carry (a folder named by a keyed hash of the dataset), never at a path anyone who knows
the image's content hash can build; a deleted dataset's copies go with it.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.factories import write_image
from tests.ui.conftest import free_port, import_files, open_page
from ui.box_editor import file_url
from workbench.review import owner_key
from workbench.services import Services

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def public_app(tmp_path_factory):
    from ui import create_app

    services = Services.create(tmp_path_factory.mktemp("public-data"), public=True)
    demo = create_app(services)
    port = free_port()
    demo.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/", services
    finally:
        demo.close()


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_a_thumbnail_is_not_reachable_from_the_images_hash(public_app, browser, tmp_path):
    url, services = public_app
    context, page = open_page(browser, url)
    try:
        assert "Added 1 image(s)" in import_files(page, [write_image(tmp_path, 640, 480, name="private.png")])
        page.wait_for_function("document.querySelectorAll('#queue-gallery img').length >= 1")
        shown = page.locator("#queue-gallery img").first.get_attribute("src")
    finally:
        context.close()
    record = next(d for d in services.store().list_datasets(owner=None) if d.owner.startswith("anon:"))
    image = services.store().items(record.id)[0].images[0]
    guessed = services.served_dir / "thumbs" / image.sha256[:2] / f"{image.sha256}-256.jpg"
    assert status_of(url + file_url(guessed)) in (403, 404)
    assert not guessed.exists()
    assert image.sha256 in shown and "/owned/" in urllib.parse.unquote(shown)
    assert status_of(urllib.parse.urljoin(url, shown)) == 200  # the owner's page carries a working URL


def test_a_deleted_datasets_copies_go_with_it(tmp_path):
    services = Services.create(tmp_path, public=True)
    owner = owner_key(True, None, "token")
    record = services.store().create_dataset("pets", owner=owner)
    item = services.store().add_item(record, [write_image(tmp_path, 64, 48)])
    image = item.images[0]
    copy = services.served(record.id).thumbnail(image.file, image.sha256, image.wh)
    assert copy.path.is_file() and services.served_dir / "owned" in copy.path.parents
    assert services.served(record.id + 1).root != services.served(record.id).root
    services.forget_served(record.id)
    assert not copy.path.exists()

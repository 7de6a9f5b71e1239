"""On a public deployment each visitor owns their datasets: nobody else lists, opens or changes them."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.factories import write_image
from tests.ui.conftest import (
    create_dataset,
    free_port,
    import_files,
    open_page,
    wait_text,
)
from workbench.review import Cursor, owner_key
from workbench.services import Services


@pytest.fixture(scope="module")
def public_app(tmp_path_factory):
    from ui import create_app

    services = Services.create(tmp_path_factory.mktemp("public-data"), public=True)
    demo = create_app(services)
    port = free_port()
    demo.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/", services, demo
    finally:
        demo.close()


@pytest.mark.slow
def test_anonymous_visitors_never_see_each_others_datasets(browser, public_app, tmp_path):
    url, services, _ = public_app
    ctx_a, alice = open_page(browser, url)
    ctx_b, bob = open_page(browser, url)
    try:
        create_dataset(alice, "alice-private")
        import_files(alice, [write_image(tmp_path, 64, 48, name="a.png")])
        wait_text(bob, "#counts", "No dataset yet")
        bob.reload()
        wait_text(bob, "#counts", "No dataset yet")
        bob.locator("#dataset input").click()
        assert bob.locator('[data-testid="dropdown-option"][aria-label="alice-private"]').count() == 0
        create_dataset(bob, "alice-private")  # the same name is another dataset: bob's own
        wait_text(bob, "#counts", "0 item(s)")
        owners = {d.owner for d in services.store().list_datasets(owner=None) if d.name == "alice-private"}
        assert len(owners) == 2 and all(o.startswith("anon:") for o in owners)
    finally:
        ctx_a.close()
        ctx_b.close()


def test_a_crafted_cursor_reaches_nothing_that_is_not_the_visitors(tmp_path):
    from ui.context import AppContext

    services = Services.create(tmp_path, public=True)
    store = services.store()
    alice, mallory = Cursor(token="alice-token"), Cursor(token="mallory-token")
    owned = store.create_dataset("photos", owner=owner_key(True, None, alice.token))
    item = store.add_item(owned, [write_image(tmp_path, 64, 48)])
    ctx = AppContext(services, None, None, None, None, None, None)
    forged = {**mallory.to_json(), "dataset": owned.id, "item": item.id}
    assert ctx.cursor_of(forged).dataset is None and ctx.cursor_of(forged).item is None
    mine = {**alice.to_json(), "dataset": owned.id, "item": item.id}
    assert (ctx.cursor_of(mine).dataset, ctx.cursor_of(mine).item) == (owned.id, item.id)
    signed_in = SimpleNamespace(request=SimpleNamespace(scope={"session": {"oauth_info": {"userinfo": {
        "preferred_username": "alice"}}}}))  # a gr.Request: the Starlette request and its scope
    assert ctx.owner(alice, signed_in) == "hf:alice"  # the Hugging Face sign-in wins over the browser token

"""Issue 20, items 3 and 5: a Hugging Face sign-in owns its datasets in every browser, and the per-visitor
gate is keyed on the visitor (the signed-in user, else the browser session, else the client's address for
raw API calls), not on a session hash that is new on every ``/call``.

The app runs as a Space with ``hf_oauth: true`` runs (``SYSTEM=spaces``, Gradio's real OAuth routes); a
sign-in is the signed ``session`` cookie Gradio's OAuth callback sets (``live.signed_session``). Its
configured server stays silent until a test lets it answer, so a model request holds its slot.
"""

from __future__ import annotations

import threading
import time

import pytest

from tests.factories import write_image
from tests.security.live import OAUTH_ENV, call_as, error_text, signed_session
from tests.security.misbehaving import MisbehavingServer
from tests.ui.conftest import create_dataset, open_page, wait_text

pytestmark = pytest.mark.slow

MODEL = "Qwen/Qwen2.5-VL-3B-Instruct"
BUSY = "you already have a model request running or waiting"


@pytest.fixture(scope="module")
def silent():
    server = MisbehavingServer("silent", give_up_s=300)
    yield server
    server.close()


@pytest.fixture(scope="module")
def app(start_app, silent):
    return start_app({**OAUTH_ENV, "WORKBENCH_MODEL": MODEL, "WORKBENCH_BASE_URL": silent.url,
                      "WORKBENCH_PROXY_HOPS": "0", "WORKBENCH_REQUEST_SECONDS": "600"})


def ground(image) -> list:
    return [[image], "Locate the cat.", "openai", MODEL, "", "", [], 0, 0, 8]


def wait_for(condition, what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"waited {timeout:.0f} s for {what}"
        time.sleep(0.05)


def run_calls(app, calls: list[dict]) -> tuple[list, list[threading.Thread]]:
    results: list = []
    threads = [threading.Thread(target=lambda kw=kw: results.append(call_as(app.url, "ground", **kw)), daemon=True)
               for kw in calls]
    for thread in threads:
        thread.start()
    return results, threads


def finish(silent: MisbehavingServer, threads: list[threading.Thread]) -> None:
    silent.release()
    for thread in threads:
        thread.join(timeout=120)
    silent.hold()


def test_parallel_calls_from_one_client_hold_one_slot_and_another_client_gets_its_own(app, silent, tmp_path):
    image = app.upload(write_image(tmp_path, 64, 48))
    before = silent.requests
    results, threads = run_calls(app, [{"data": ground(image)} for _ in range(6)])
    try:
        wait_for(lambda: len(results) >= 5, "five of six parallel calls to be refused")
        assert all(BUSY in error_text(outcome) for outcome in results[:5])
        wait_for(lambda: silent.requests - before >= 1, "the one call to reach the server")
        other, more = run_calls(app, [{"data": ground(image), "source": "127.0.0.2"}])
        threads += more
        wait_for(lambda: silent.requests - before >= 2, "another client's call to reach the server")
        assert silent.requests - before == 2 and other == []
    finally:
        finish(silent, threads)


def test_a_signed_in_user_is_one_visitor_from_any_address(app, silent, tmp_path):
    image = app.upload(write_image(tmp_path, 64, 48))
    cookie = signed_session("alice")
    before = silent.requests
    _, threads = run_calls(app, [{"data": ground(image), "cookie": cookie, "source": "127.0.0.3"}])
    try:
        wait_for(lambda: silent.requests - before >= 1, "alice's first call to reach the server")
        second, more = run_calls(app, [{"data": ground(image), "cookie": cookie, "source": "127.0.0.4"}])
        threads += more
        wait_for(lambda: second, "alice's second call to be answered")
        assert BUSY in error_text(second[0])
        assert silent.requests - before == 1
    finally:
        finish(silent, threads)


def signed_in_context(browser, app, user: str | None, **cookie):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    if user is not None:
        context.add_cookies([{"name": "session", "value": signed_session(user, **cookie), "url": app.url}])
    return context


def test_a_signed_in_users_datasets_follow_them_to_a_second_browser(app, browser):
    first = signed_in_context(browser, app, "alice")
    second = signed_in_context(browser, app, "alice")
    stranger = signed_in_context(browser, app, None)
    expired = signed_in_context(browser, app, "alice", expires_in=-60)
    try:
        _, page = open_page(browser, app.url, context=first)
        create_dataset(page, "alice-cats")
        _, elsewhere = open_page(browser, app.url, context=second)  # its own local storage: only the sign-in is shared
        wait_text(elsewhere, "#counts", "alice-cats")
        for context in (stranger, expired):
            _, other = open_page(browser, app.url, context=context)
            wait_text(other, "#counts", "No dataset yet")
            other.locator("#dataset input").click()
            assert other.locator('[data-testid="dropdown-option"][aria-label="alice-cats"]').count() == 0
    finally:
        for context in (first, second, stranger, expired):
            context.close()

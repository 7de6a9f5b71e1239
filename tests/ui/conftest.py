"""A live app on 127.0.0.1 and a real headless Chromium (Debian's) driven by Playwright, plus page helpers.

Browser tests are marked slow (they are part of CI, not of the everyday fast tier). They wait for what
the page shows, with a deadline; they never sleep a fixed time.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("WORKBENCH_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
EXAMPLES = Path(__file__).resolve().parents[2] / "assets" / "examples"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """The real app (create_app) served on loopback; yields (url, services)."""
    from ui import create_app
    from workbench.services import Services

    services = Services.create(tmp_path_factory.mktemp("data"), public=False)
    demo = create_app(services)
    port = free_port()
    demo.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                        show_error=True)
    try:
        yield f"http://127.0.0.1:{port}/", services
    finally:
        demo.close()


def open_page(browser, url: str, *, width: int = 1400, height: int = 1000, context=None):
    """A new browser context (a new visitor, with its own local storage) on the app; returns (context, page)."""
    context = context or browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(url)
    wait_loaded(page)
    return context, page


def wait_loaded(page) -> None:
    """Wait for the page's load event to have answered, not only to have started.

    While an event is pending Gradio shows its timer ("0.6s") in its output components, so text in
    ``#counts`` alone does not say the load is done; the upload field becomes usable only with its answer.
    """
    page.wait_for_selector("#import-files input[type=file]", state="attached", timeout=60_000)
    page.wait_for_function("() => /item\\(s\\)|No dataset yet/.test((document.querySelector('#counts') || {}).innerText)",
                           timeout=30_000)


@pytest.fixture
def page(browser, live_app):
    url, _ = live_app
    context, page = open_page(browser, url)
    yield page
    context.close()


# -- helpers ------------------------------------------------------------------------------------

def wait_text(page, selector: str, text: str, timeout: int = 30_000) -> str:
    """Wait until the element's text contains ``text``; returns the text."""
    page.wait_for_function(
        "([sel, text]) => { const el = document.querySelector(sel); return el && el.innerText.includes(text); }",
        arg=[selector, text], timeout=timeout)
    return page.inner_text(selector)


def fill_kept(page, selector: str, text: str) -> None:
    """Fill a field and make sure the page keeps the text.

    A panel or tab opened the moment before may still be mounting its components, and their first render puts the
    field's initial value back over what was typed: seen on a loaded machine, where the splits' fractions and
    Review's max_pixels were filled into a field that was then drawn again with its default. A person types after
    the field has appeared; this waits until the text has stayed for a few frames, filling again if it was lost.
    """
    field = page.locator(selector).first
    for _ in range(40):
        field.fill(text)
        kept = page.evaluate("""([sel, text]) => new Promise(done => {
            let frames = 0;
            const look = () => {
              const el = document.querySelector(sel);
              if (!el || el.value !== text) return done(false);
              if (++frames >= 6) return done(true);
              requestAnimationFrame(look);
            };
            requestAnimationFrame(look);
        })""", [selector, text])
        if kept:
            return
    raise AssertionError(f"{selector} did not keep {text!r}")


def notice(page) -> str:
    return page.inner_text("#notice")


def status(page) -> str:
    return page.inner_text("#item-status")


def wait_status(page, text: str) -> str:
    return wait_text(page, "#item-status", text)


def choose(page, elem_id: str, option: str) -> None:
    """Pick ``option`` in a Gradio dropdown."""
    page.locator(f"#{elem_id} input").click()
    page.locator(f'[data-testid="dropdown-option"][aria-label="{option}"]').first.click()


def create_dataset(page, name: str) -> None:
    """Create a dataset on the Queue tab (it becomes the current one)."""
    page.get_by_role("tab", name="Queue").click()
    panel = page.locator("#datasets-panel")
    if not page.locator("#dataset-name").is_visible():
        panel.get_by_text("Datasets").first.click()
    page.locator("#dataset-name textarea, #dataset-name input").first.fill(name)
    page.locator("#dataset-create").click()
    wait_text(page, "#counts", name)


def import_files(page, paths) -> str:
    """Add files on the Queue tab; returns the notice once the import has answered."""
    page.get_by_role("tab", name="Queue").click()
    page.locator("#import-files input[type=file]").set_input_files([str(p) for p in paths])
    page.wait_for_function("() => /Added|could not|no image/.test(document.querySelector('#notice').innerText)",
                           timeout=60_000)
    return notice(page)


def open_item(page, index: int = 0) -> str:
    """Click the ``index``-th thumbnail of the queue; returns the review status line."""
    page.get_by_role("tab", name="Queue").click()
    page.locator("#queue-gallery .thumbnail-item").nth(index).click()
    page.wait_for_selector("#editor svg.wb-overlay")
    return status(page)


def editor_box(page) -> dict:
    return page.locator("#editor svg.wb-overlay").bounding_box()


def display_size(page) -> tuple[float, float]:
    svg = page.locator("#editor svg.wb-overlay")
    return float(svg.get_attribute("data-w")), float(svg.get_attribute("data-h"))


def to_screen(page, x: float, y: float) -> tuple[float, float]:
    """Display-copy pixels -> page coordinates of the editor."""
    box = editor_box(page)
    w, h = display_size(page)
    return box["x"] + x / w * box["width"], box["y"] + y / h * box["height"]


def drag(page, start: tuple[float, float], end: tuple[float, float], *, shift: bool = False) -> None:
    """Drag in display-copy pixels (from ``start`` to ``end``), as a person does with the mouse."""
    page.locator("#editor svg.wb-overlay").scroll_into_view_if_needed()
    sx, sy = to_screen(page, *start)
    ex, ey = to_screen(page, *end)
    if shift:
        page.keyboard.down("Shift")
    page.mouse.move(sx, sy)
    page.mouse.down()
    page.mouse.move((sx + ex) / 2, (sy + ey) / 2, steps=3)
    page.mouse.move(ex, ey, steps=3)
    page.mouse.up()
    if shift:
        page.keyboard.up("Shift")


def shapes(page) -> list[dict]:
    """The shapes the editor shows: label and whether selected."""
    return page.evaluate("() => [...document.querySelectorAll('#editor g.wb-shape')].map(g => ({label: "
                         "g.getAttribute('data-label'), selected: g.classList.contains('wb-selected')}))")


def wait_version(page, version: int) -> str:
    return wait_status(page, f"version {version}")

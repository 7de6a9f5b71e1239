"""Found by the load benchmark (issue 20's memory goal): Gradio keeps each session's copy of every component's
config (about 0.7 MB here) until 10 000 sessions exist, and every raw ``/call`` (or crafted page event) is a new
session, so a flood held gigabytes. Sessions that never were an open page and closed pages are now dropped; an
open page (its heartbeat stream open) is kept.
"""

from __future__ import annotations

import datetime
import time

import pytest

from tests.security.live import call
from tests.ui.conftest import free_port, open_page
from ui.launch import API_SESSION_IDLE_S, build_demo, launch_options, sweep_sessions

pytestmark = pytest.mark.slow


def test_idle_api_sessions_and_closed_pages_are_dropped_open_pages_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("SPACE_ID", "someone/workbench")
    demo = build_demo(str(tmp_path / "data"))
    port = free_port()
    demo.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                        **launch_options(demo))
    try:
        url = f"http://127.0.0.1:{port}/"
        for _ in range(20):
            assert call(url, "parse", ["[]", "qwen2.5-vl", [[640, 480]], 0, 0, None, None])[0] == "complete"
        holder = demo.state_holder
        assert len(holder.session_data) >= 20, "each raw call is a session Gradio keeps"
        state_id = next(k for k, block in holder.blocks.blocks.items() if getattr(block, "stateful", False))
        for name in ("open-page", "closed-page"):
            holder[name].state_data[state_id] = []  # what a page's events leave in its session
        holder.session_data["closed-page"].is_closed = True
        later = datetime.datetime.now() + datetime.timedelta(seconds=API_SESSION_IDLE_S + 1)
        sessions = len(holder.session_data)
        assert sweep_sessions(holder, closed_s=30, now=later) == sessions - 1
        assert list(holder.session_data) == ["open-page"]
        assert sweep_sessions(holder, closed_s=30, now=later + datetime.timedelta(hours=5)) == 0
    finally:
        demo.close()


def test_with_heartbeats_only_open_pages_are_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("SPACE_ID", "someone/workbench")
    demo = build_demo(str(tmp_path / "data"))
    holder = demo.state_holder if hasattr(demo, "state_holder") else None
    if holder is None:  # the holder is made when the app is launched
        from gradio.state_holder import StateHolder

        holder = StateHolder()
        holder.set_blocks(demo)
    state_id = next(k for k, block in holder.blocks.blocks.items() if getattr(block, "stateful", False))
    pages = demo.workbench_pages
    for name in ("open-page", "closed-page", "crafted-event"):
        holder[name].state_data[state_id] = []
    pages.opened("open-page")
    pages.opened("closed-page")
    pages.closed("closed-page")
    later = datetime.datetime.now() + datetime.timedelta(seconds=API_SESSION_IDLE_S + 1)
    assert sweep_sessions(holder, closed_s=120, now=later, pages=pages) == 1  # the crafted event's: never a page
    assert sorted(holder.session_data) == ["closed-page", "open-page"]
    assert sweep_sessions(holder, closed_s=120, now=later + datetime.timedelta(seconds=120), pages=pages) == 1
    assert list(holder.session_data) == ["open-page"]


def test_a_page_in_a_browser_counts_as_open_until_its_tab_closes(tmp_path, monkeypatch, browser):
    monkeypatch.setenv("SPACE_ID", "someone/workbench")
    demo = build_demo(str(tmp_path / "data"))
    port = free_port()
    demo.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                        **launch_options(demo))
    pages = demo.workbench_pages
    try:
        context, _ = open_page(browser, f"http://127.0.0.1:{port}/")
        deadline = time.monotonic() + 60
        while not pages._open:
            assert time.monotonic() < deadline, "the page's heartbeat was not seen"
            time.sleep(0.05)
        (session,) = pages._open
        later = datetime.datetime.now() + datetime.timedelta(hours=1)
        sweep_sessions(demo.state_holder, closed_s=120, now=later, pages=pages)
        assert session in demo.state_holder.session_data, "an open page lost its session"
        context.close()
        deadline = time.monotonic() + 60
        while pages.is_open(session):
            assert time.monotonic() < deadline, "the closed tab still counts as open"
            time.sleep(0.05)
        assert pages.was_page(session)
    finally:
        demo.close()

"""Found by the load benchmark (issue 20's memory goal): Gradio keeps each session's copy of every component's
config (about 0.7 MB here) until 10 000 sessions exist, and every raw ``/call`` is a new session, so an API
flood held gigabytes. Idle API sessions and closed pages are now dropped; an open page is kept.
"""

from __future__ import annotations

import datetime

import pytest

from tests.security.live import call
from tests.ui.conftest import free_port
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

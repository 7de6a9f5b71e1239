"""What ``ui.launch`` sets around the Blocks for a long-running app: upload limit, cache deletion, stale files."""

from __future__ import annotations

import os
import time

from ui.launch import CACHE_AGE_S, build_demo, launch_options


def test_build_demo_bounds_uploads_and_cleans_gradios_cache(tmp_path, monkeypatch):
    cache = tmp_path / "gradio"
    (cache / "old").mkdir(parents=True)
    (cache / "new").mkdir()
    os.utime(cache / "old", (time.time() - CACHE_AGE_S - 60,) * 2)
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(cache))
    monkeypatch.setenv("WORKBENCH_MAX_UPLOAD_BYTES", "1000000")
    monkeypatch.delenv("SPACE_ID", raising=False)
    monkeypatch.setenv("WORKBENCH_PUBLIC", "0")
    demo = build_demo(str(tmp_path / "data"))
    assert demo.delete_cache == (600, CACHE_AGE_S)
    options = launch_options(demo)
    assert options["max_file_size"] == 1_000_000
    guard = options["app_kwargs"]["middleware"][0]
    assert guard.cls.__name__ == "RequestGuard" and guard.kwargs["ledger"] is None  # uploads are rationed in public
    assert (cache / "old").exists(), "locally the cache may be another Gradio app's: left alone"
    public = build_demo(str(tmp_path / "data"), public=True)  # serve --public
    assert not (cache / "old").exists() and (cache / "new").exists()
    # public is this app's deployment, passed down; the process's environment is left as it was
    assert public.workbench_services.public and not demo.workbench_services.public
    assert os.environ["WORKBENCH_PUBLIC"] == "0"
    assert launch_options(public)["app_kwargs"]["middleware"][0].kwargs["ledger"] is not None


def test_the_app_sends_no_usage_analytics_unless_the_operator_asks(tmp_path, monkeypatch):
    """Gradio's default is on; the workbench's is off, without writing the process environment."""
    monkeypatch.delenv("GRADIO_ANALYTICS_ENABLED", raising=False)
    assert not build_demo(str(tmp_path / "off")).analytics_enabled
    assert "GRADIO_ANALYTICS_ENABLED" not in os.environ
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "True")
    assert build_demo(str(tmp_path / "on")).analytics_enabled


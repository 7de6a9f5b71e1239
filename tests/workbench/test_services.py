"""Services: one local model in memory at a time, server clients bounded, allowlists for public deployments."""

from __future__ import annotations

import pytest

from workbench.errors import BackendError, StoreError
from workbench.services import MAX_SERVER_CLIENTS, Services


class Made:
    def __init__(self, kind, **options):
        self.kind, self.options = kind, options


def test_backends_are_reused_and_only_one_local_model_is_kept(tmp_path):
    services = Services.create(tmp_path, backend_factory=Made)
    first = services.backend("local", model="a")
    assert services.backend("local", model="a") is first
    second = services.backend("local", model="b")
    assert second is not first
    assert [dict(k[1])["model"] for k in services._backends if k[0] == "local"] == ["b"]
    for n in range(MAX_SERVER_CLIENTS + 2):
        services.backend("openai", model="m", base_url=f"http://127.0.0.1:{8000 + n}/v1")
    assert len([k for k in services._backends if k[0] == "openai"]) == MAX_SERVER_CLIENTS
    assert services.backend("local", model="b") is second


def test_allowlists(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_ALLOWED_MODELS", "Qwen/Qwen2.5-VL-3B-Instruct")
    monkeypatch.setenv("WORKBENCH_ALLOWED_BASE_URLS", "http://127.0.0.1:8000/")
    services = Services.create(tmp_path, backend_factory=Made)
    assert services.backend("local", model="Qwen/Qwen2.5-VL-3B-Instruct").kind == "local"
    with pytest.raises(BackendError, match="not offered here"):
        services.backend("local", model="someone/huge-model")
    with pytest.raises(BackendError, match="not offered here"):
        services.backend("openai", model="Qwen/Qwen2.5-VL-3B-Instruct", base_url="http://169.254.169.254/")
    assert services.backend("openai", model="Qwen/Qwen2.5-VL-3B-Instruct",
                            base_url="http://127.0.0.1:8000/v1").kind == "openai"


def test_public_deployments_offer_the_configured_server_and_model_only(tmp_path, monkeypatch):
    monkeypatch.setenv("SPACE_ID", "me/app")
    monkeypatch.setenv("WORKBENCH_BASE_URL", "http://10.1.2.3:8000/v1")
    services = Services.create(tmp_path, backend_factory=Made)
    made = services.backend("openai", model="", base_url="")
    assert made.options["base_url"] == "http://10.1.2.3:8000/v1" and made.options["echo_errors"] is False
    with pytest.raises(BackendError, match="its own server"):
        services.backend("openai", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(BackendError, match="not offered here"):
        services.backend("local", model=str(tmp_path))


def test_session_folders_of_dead_processes_are_removed_at_start(tmp_path):
    import os
    import subprocess
    import sys

    first = Services.create(tmp_path)
    mine = first.session_dir("alive")
    # a folder owned by a process that has ended (a crash): its owner file names a dead pid
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    orphan = tmp_path / "served" / "sessions" / "crashed"
    (orphan / "s1").mkdir(parents=True)
    (orphan / ".owner").write_text(dead.stdout.strip())
    legacy = tmp_path / "served" / "sessions" / "0123abcd"  # a session folder from before instances existed
    legacy.mkdir()
    reused = tmp_path / "served" / "sessions" / "pid-reused"  # our pid, but another start time: an earlier container run
    reused.mkdir()
    (reused / ".owner").write_text(f"{os.getpid()}:1")
    second = Services.create(tmp_path)
    assert not orphan.exists() and not legacy.exists() and not reused.exists()
    assert mine.is_dir(), "a running process keeps its sessions"
    assert second.sessions_root != first.sessions_root
    second.drop_session_dir(second.session_dir("x"))
    assert list(second.sessions_root.iterdir()) == [second.sessions_root / ".owner"]
    second.drop_session_dir(tmp_path)  # anything that is not one of its session folders is left alone
    assert tmp_path.is_dir()


def test_exports_are_reclaimed_beyond_the_newest_and_by_age(tmp_path):
    import os
    import time

    from workbench.deployment import Deployment, ResourceLimits

    now = [time.time()]
    services = Services.create(tmp_path, deployment=Deployment(limits=ResourceLimits(exports_kept=3,
                                                                                      exports_max_age_s=3600)))
    services._clock = lambda: now[0]
    folder = services.exports_dir()
    for n in range(5):
        export = folder / f"export{n}"
        export.mkdir()
        (export / "data.zip").write_bytes(b"zip")
        os.utime(export, (now[0] - 100 + n, now[0] - 100 + n))
    stale = folder / "export4" / "data.zip.partial"
    stale.write_bytes(b"half")
    os.utime(stale, (now[0] - 700, now[0] - 700))
    services.exports_dir()
    assert sorted(p.name for p in folder.iterdir()) == ["export2", "export3", "export4"]
    assert not stale.exists()
    now[0] += 7200
    services.exports_dir()
    assert list(folder.iterdir()) == []


def test_a_data_folder_that_cannot_be_written_leaves_the_app_usable(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the data folder should be")
    services = Services.create(blocker / "data")
    assert services.storage_problem and services.storage_problem.startswith("Saving is off")
    assert services.store().list_datasets() == []
    with pytest.raises(StoreError, match="Saving is off"):
        services.store().create_dataset("cats")
    folder = services.session_dir("s1")  # uploads still have a place to go
    (folder / "x").write_text("ok")
    assert services.exports_dir() is not None

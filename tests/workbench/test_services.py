"""Services: one local model in memory at a time, server clients bounded, allowlists for public deployments."""

from __future__ import annotations

import pytest

from workbench.errors import BackendError
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

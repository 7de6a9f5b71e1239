"""Fixtures of the attack suite: loopback servers that record connections, live apps (see ``live.py``)."""

from __future__ import annotations

import pytest

from tests.security.live import LiveApp, Recorder


@pytest.fixture
def recorder():
    servers: list[Recorder] = []

    def make(mode: str = "500", location: str = "") -> Recorder:
        servers.append(Recorder(mode, location))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


@pytest.fixture(scope="module")
def start_app(tmp_path_factory):
    apps: list[LiveApp] = []

    def start(env: dict[str, str]) -> LiveApp:
        apps.append(LiveApp(tmp_path_factory.mktemp("app"), env))
        return apps[-1]

    yield start
    for app in apps:
        app.stop()

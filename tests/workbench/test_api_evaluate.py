"""``/evaluate``'s plain function: arguments checked in words, the caller's own datasets only, and on a public
deployment the configured server and model only, in bounded calls."""

from __future__ import annotations

import pytest

from tests.fake_server import FakeServer
from tests.workbench.evaluate.known import build_known
from workbench.api.args import ArgumentError
from workbench.api.evaluate import evaluate_dataset
from workbench.deployment import Deployment
from workbench.errors import StoreError
from workbench.services import Services


@pytest.fixture
def known_server(tmp_path):
    services = Services.create(tmp_path / "local", public=False)
    known = build_known(services.store(), tmp_path / "images")
    with FakeServer(known.answer, models=["good"]) as server:
        yield services, known, server
    services.store().close()


def test_a_local_call_measures_the_grid(known_server):
    services, _, server = known_server
    result = evaluate_dataset(services, "shelf", owner="", split="val", models=["good"],
                              prompts=["Find {target}.", "Find {target}, shifted."], base_url=server.url)
    assert [c["state"] for c in result["cells"]] == ["done", "done"]
    assert [c["metrics"]["acc75"] for c in result["cells"]] == [1.0, 0.0]
    again = evaluate_dataset(services, "shelf", owner="", split="val", models=["good"],
                             prompts=["Find {target}.", "Find {target}, shifted."], base_url=server.url)
    assert again["evaluation"] != result["evaluation"]  # finished: measured afresh


@pytest.mark.parametrize(("kwargs", "message"), [
    pytest.param({"split": "holdout"}, "split must be one of", id="split"),
    pytest.param({"models": "good"}, "models must be a list", id="models"),
    pytest.param({"max_pixels": [0]}, r"max_pixels\[0\] must be at least 1", id="budget"),
    pytest.param({"max_new_tokens": 10**9}, "max_new_tokens", id="tokens"),
    pytest.param({"models": [f"m{i}" for i in range(13)]}, "at most 12 items", id="cells"),
])
def test_bad_arguments_are_refused_before_anything_runs(known_server, kwargs, message):
    services, _, server = known_server
    with pytest.raises(ArgumentError, match=message):
        evaluate_dataset(services, "shelf", owner="", base_url=server.url, **kwargs)
    assert server.requests == []


def test_only_the_callers_own_datasets(known_server):
    services, _, server = known_server
    with pytest.raises(StoreError):
        evaluate_dataset(services, "shelf", owner="hf:someone-else", models=["good"], base_url=server.url)
    assert server.requests == []


def test_a_public_deployment_keeps_its_server_model_and_bounds(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_MODEL", "good")
    local = Services.create(tmp_path / "data", public=False)
    known = build_known(local.store(), tmp_path / "images")
    local.store().close()
    with FakeServer(known.answer, models=["good"]) as server, FakeServer(known.answer) as other:
        monkeypatch.setenv("WORKBENCH_BASE_URL", server.url)
        services = Services.create(tmp_path / "data", deployment=Deployment.from_env(public=True))
        refused = evaluate_dataset(services, "shelf", owner="", models=["good"], base_url=other.url)
        assert refused["cells"][0]["state"] == "failed" and "uses its own server" in refused["cells"][0]["error"]
        assert other.requests == []  # never asked
        result = evaluate_dataset(services, "shelf", owner="", split="val", models=["good"], base_url="")
        assert result["cells"][0]["state"] == "done" and result["cells"][0]["metrics"]["acc50"] == 1.0
        monkeypatch.setattr("workbench.api.evaluate.PUBLIC_MAX_ANSWERS", 5)
        asked = len(server.requests)
        with pytest.raises(ArgumentError, match="needs 6 model answers; at most 5 per call"):
            evaluate_dataset(services, "shelf", owner="", split="val", models=["good"], fresh=True)
        assert len(server.requests) == asked

"""Deployment rules: what a public deployment lets visitors use, where the key goes, the limits."""

from __future__ import annotations

import pytest

from workbench.deployment import Deployment, ResourceLimits, is_public
from workbench.errors import BackendError

SERVER = "http://operator:pa55@10.1.2.3:8000/v1"


def space(**env: str) -> Deployment:
    return Deployment.from_env({"SPACE_ID": "me/app", "WORKBENCH_BASE_URL": SERVER,
                                "WORKBENCH_API_KEY": "sk-space", "WORKBENCH_MODEL": "Qwen/Qwen2.5-VL-3B-Instruct",
                                **env})


@pytest.mark.parametrize("env, public", [
    pytest.param({}, False, id="local"),
    pytest.param({"SPACE_ID": "me/app"}, True, id="space"),
    pytest.param({"WORKBENCH_PUBLIC": "1"}, True, id="flag"),
    pytest.param({"WORKBENCH_PUBLIC": "yes"}, True, id="flag-yes"),
    pytest.param({"WORKBENCH_PUBLIC": "0"}, False, id="flag-off"),
])
def test_public_or_not(env, public):
    assert is_public(env) is public
    assert Deployment.from_env(env).public is public


@pytest.mark.parametrize("asked", ["", None, SERVER, "http://***@10.1.2.3:8000/v1", "http://10.1.2.3:8000/other"])
def test_a_public_deployment_uses_the_configured_server(asked):
    assert space().server_for(asked) == SERVER


@pytest.mark.parametrize("asked", [
    pytest.param("http://127.0.0.1:9/v1", id="another-server"),
    pytest.param("http://10.1.2.3:8001/v1", id="another-port"),
    pytest.param("http://10.1.2.3.evil.example:8000/v1", id="longer-host"),
    pytest.param("http://10.1.2.3:8000@127.0.0.1:9/v1", id="userinfo-trick"),
    pytest.param("http://169.254.169.254/latest/meta-data", id="metadata-service"),
    pytest.param("file:///etc/passwd", id="file-url"),
])
def test_a_public_deployment_refuses_every_other_server(asked):
    with pytest.raises(BackendError) as caught:
        space().server_for(asked)
    assert "pa55" not in str(caught.value)


def test_allowlisted_servers_resolve_to_their_entry_not_the_visitors_string():
    deployment = space(WORKBENCH_ALLOWED_BASE_URLS="http://10.9.9.9:8000/v1, https://api.example/v1")
    assert deployment.server_for("http://10.9.9.9:8000/v1/../../admin") == "http://10.9.9.9:8000/v1"
    assert deployment.server_for("https://api.example:443/whatever") == "https://api.example/v1"
    with pytest.raises(BackendError, match="user name or password"):
        deployment.server_for("http://x@10.9.9.9:8000/v1")
    with pytest.raises(BackendError, match="not offered here"):
        deployment.server_for("https://api.example.evil/v1")


def test_locally_any_server_unless_an_allowlist_is_set():
    assert Deployment.from_env({}).server_for("http://127.0.0.1:9/v1") == "http://127.0.0.1:9/v1"
    listed = Deployment.from_env({"WORKBENCH_ALLOWED_BASE_URLS": "http://127.0.0.1:8000/"})
    assert listed.server_for("http://127.0.0.1:8000/v1") == "http://127.0.0.1:8000/"
    for asked in ("http://127.0.0.1:8000@127.0.0.1:9/", "http://127.0.0.1:80001/", "http://127.0.0.1:8001/"):
        with pytest.raises(BackendError):
            listed.server_for(asked)


def test_models_on_a_public_deployment():
    deployment = space(WORKBENCH_ALLOWED_MODELS="Qwen/Qwen3-VL-4B-Instruct")
    assert deployment.model_for("local", "") == "Qwen/Qwen2.5-VL-3B-Instruct"
    assert deployment.model_for("local", "Qwen/Qwen3-VL-4B-Instruct") == "Qwen/Qwen3-VL-4B-Instruct"
    for asked in ("/tmp", ".", "../models/x", "someone/huge-model", "Qwen/Qwen2.5-VL-3B-Instruct "[:-1] + "x"):
        with pytest.raises(BackendError, match="not offered here"):
            deployment.model_for("local", asked)


def test_a_folder_refusal_says_nothing_about_whether_it_exists(tmp_path):
    deployment = space()
    messages = set()
    for asked in (str(tmp_path), str(tmp_path / "no-such-folder")):
        with pytest.raises(BackendError) as caught:
            deployment.model_for("local", asked)
        messages.add(str(caught.value).replace(asked, "<asked>"))
    assert len(messages) == 1


def test_the_key_goes_to_the_configured_server_only():
    deployment = space()
    assert deployment.api_key_for(SERVER) == "sk-space"
    assert deployment.api_key_for("http://10.1.2.3:8000/other") == "sk-space"
    assert deployment.api_key_for("http://10.1.2.3:8001/v1") == "EMPTY"
    assert deployment.api_key_for("http://10.1.2.3:8000@127.0.0.1:9/") == "EMPTY"
    local = Deployment.from_env({"WORKBENCH_API_KEY": "sk-mine"})
    assert local.api_key_for("http://127.0.0.1:9/v1") == "sk-mine"  # no server configured: the owner points it
    assert Deployment.from_env({"WORKBENCH_API_KEY": "sk", "WORKBENCH_PUBLIC": "1"}).api_key_for("http://h/") == "EMPTY"


def test_secrets_are_not_in_repr_or_description():
    deployment = space()
    for text in (repr(deployment), deployment.describe(), deployment.shown_base_url):
        assert "pa55" not in text and "sk-space" not in text


def test_backend_options_bound_server_requests_and_hide_bodies_in_public():
    options = space().backend_options("openai", {"base_url": "", "model": ""})
    assert options["base_url"] == SERVER and options["echo_errors"] is False
    assert options["timeout"] == 60.0 and options["max_retries"] == 1
    assert Deployment.from_env({}).backend_options("openai", {"base_url": "http://h:1/v1"})["echo_errors"] is True
    with pytest.raises(BackendError, match="local backend takes no server URL"):
        Deployment.from_env({}).backend_options("local", {"base_url": "http://h:1/v1"})


def test_limits_from_the_environment():
    limits = ResourceLimits.from_env({"WORKBENCH_MAX_UPLOAD_PIXELS": "1e6", "WORKBENCH_SESSION_BYTES": "0"})
    assert limits.upload_pixels == 1_000_000 and limits.session_bytes == 0
    assert limits.variables()["WORKBENCH_MAX_UPLOAD_PIXELS"] == 1_000_000
    with pytest.raises(ValueError, match="WORKBENCH_MAX_NEW_TOKENS must be a whole number"):
        ResourceLimits.from_env({"WORKBENCH_MAX_NEW_TOKENS": "lots"})

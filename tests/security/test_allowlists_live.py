"""A local app with allowlists: prefix tricks, redirects and the key, against a live app on loopback."""

from __future__ import annotations

import pytest

from tests.factories import write_image
from tests.security.live import API_KEY, Recorder, error_text

pytestmark = pytest.mark.slow

MODEL = "Qwen/Qwen2.5-VL-3B-Instruct"


@pytest.fixture(scope="module")
def servers():
    sink = Recorder("ok")  # where a redirect points: must receive nothing
    configured = Recorder("redirect", location=f"{sink.url}/v1/chat/completions")
    allowed = Recorder("ok")
    yield {"sink": sink, "configured": configured, "allowed": allowed}
    for server in (sink, configured, allowed):
        server.close()


@pytest.fixture(scope="module")
def app(start_app, servers):
    return start_app({"WORKBENCH_BASE_URL": f"{servers['configured'].url}/v1", "WORKBENCH_API_KEY": API_KEY,
                      "WORKBENCH_ALLOWED_BASE_URLS": f"{servers['allowed'].url}/v1",
                      "WORKBENCH_ALLOWED_MODELS": MODEL})


def ground(image, base_url: str, backend: str = "openai", model: str = MODEL):
    return [[image], "Locate the cat.", backend, model, base_url, "", [], 0, 0, 8]


@pytest.mark.parametrize("trick", [
    pytest.param("http://127.0.0.1:{allowed_port}@127.0.0.1:{sink_port}/v1", id="userinfo"),
    pytest.param("http://127.0.0.1:{allowed_port}{sink_suffix}/v1", id="longer-port"),
    pytest.param("http://127.0.0.1:{sink_port}/v1#http://127.0.0.1:{allowed_port}/v1", id="fragment"),
    pytest.param("http://127.0.0.1:{sink_port}/v1", id="plain"),
])
def test_prefix_tricks_reach_nothing(app, servers, tmp_path, trick):
    allowed_port = servers["allowed"].server_address[1]
    sink_port = servers["sink"].server_address[1]
    asked = trick.format(allowed_port=allowed_port, sink_port=sink_port, sink_suffix=str(sink_port)[-1])
    image = app.upload(write_image(tmp_path, 64, 48))
    error_text(app.call("ground", ground(image, asked)))
    assert servers["sink"].connections == []


def test_redirects_are_not_followed_and_the_key_stays_with_the_configured_server(app, servers, tmp_path):
    image = app.upload(write_image(tmp_path, 64, 48))
    text = error_text(app.call("ground", ground(image, "")))
    assert "redirect" in text and API_KEY not in text
    configured = servers["configured"].requests
    assert configured and configured[-1].auth == [f"Bearer {API_KEY}"]
    assert servers["sink"].connections == []


def test_an_allowlisted_server_that_is_not_the_configured_one_never_gets_the_key(app, servers, tmp_path):
    image = app.upload(write_image(tmp_path, 64, 48))
    event, payload = app.call("ground", ground(image, f"{servers['allowed'].url}/v1"))
    assert event == "complete", payload
    result = payload[0]
    assert result["images"][0]["file"].endswith(".png") and result["text"] == "[]"
    assert servers["allowed"].requests[-1].auth == ["Bearer EMPTY"]


def test_models_and_special_files_with_allowlists(app, tmp_path):
    image = app.upload(write_image(tmp_path, 64, 48))
    assert "not offered here" in error_text(app.call("ground", ground(image, "", backend="local", model=str(tmp_path))))
    assert "not a file uploaded" in error_text(app.call("ground", [["/dev/zero"], "Find.", "local", MODEL, "", "", [],
                                                                   0, 0, 8]))

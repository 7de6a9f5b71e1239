"""Attacks a stranger can send to a public app, each performed against a live app on loopback.

The app runs as on a Space (``SPACE_ID``) with a configured server whose URL holds a password
and an API key. Loopback servers record every connection: those a visitor names must receive
nothing; files outside the uploads must never be read (a FIFO tells whether it was opened);
secrets must appear in no answer, page or log line.
"""

from __future__ import annotations

import base64
import errno
import os
import time

import pytest

from tests.factories import write_black_png, write_image
from tests.security.live import API_KEY, BODY_SECRET, PASSWORD, Recorder, error_text

pytestmark = pytest.mark.slow

MODEL = "Qwen/Qwen2.5-VL-3B-Instruct"


@pytest.fixture(scope="module")
def configured():
    server = Recorder("500")
    yield server
    server.close()


@pytest.fixture(scope="module")
def app(start_app, configured):
    host_port = configured.url.removeprefix("http://")
    return start_app({"SPACE_ID": "someone/workbench", "WORKBENCH_MODEL": MODEL,
                      "WORKBENCH_BASE_URL": f"http://operator:{PASSWORD}@{host_port}/v1", "WORKBENCH_API_KEY": API_KEY})


@pytest.fixture(scope="module")
def secret_image(tmp_path_factory):
    """A real image outside the uploads, with a size no answer may reveal."""
    return write_image(tmp_path_factory.mktemp("outside"), 1234, 567, name="secret.png")


def assert_no_secret(text: str) -> None:
    for secret in (PASSWORD, API_KEY, BODY_SECRET):
        assert secret not in text


def ground(images, *, backend="local", model="", base_url="", max_new_tokens=8, **extra):
    return [images, "Locate the cat.", backend, model, base_url, extra.get("family", ""), [],
            extra.get("min_pixels", 0), extra.get("max_pixels", 0), max_new_tokens]


def test_the_page_config_and_api_info_hold_no_secret(app):
    for path in ("", "config", "gradio_api/info", "gradio_api/info?all_endpoints=true"):
        assert_no_secret(app.get(path))
    assert "operator:" not in app.get("config")


@pytest.mark.parametrize("form", ["string", "dict", "relative", "upload-folder-escape"])
def test_a_server_path_is_refused_unread_and_the_answer_does_not_say_whether_it_exists(app, secret_image, form):
    missing = secret_image.with_name("no-such-file.png")
    messages = set()
    for path in (secret_image, missing):
        value = {"string": str(path), "dict": {"path": str(path), "orig_name": "x.png"},
                 "relative": os.path.relpath(path, app.upload_dir),
                 "upload-folder-escape": {"path": f"{app.upload_dir}/../../{path.relative_to(path.anchor)}"}}[form]
        for endpoint, data in (("geometry", [[value], "qwen2.5-vl", 0, 0]), ("ground", ground([value]))):
            text = error_text(app.call(endpoint, data))
            assert "1234" not in text and "567" not in text
            messages.add(text.replace(str(path), "<path>"))
    assert len(messages) == 1, messages


def test_a_file_data_outside_the_uploads_is_refused_by_gradio(app, secret_image):
    event, payload = app.call("geometry", [[{"path": str(secret_image), "meta": {"_type": "gradio.FileData"}}],
                                           "qwen2.5-vl", 0, 0])
    assert event == "error" and "1234" not in str(payload)


def test_a_fifo_outside_the_uploads_is_never_opened(app, tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    for endpoint, data in (("geometry", [[str(fifo)], "qwen2.5-vl", 0, 0]),
                           ("ground", ground([{"path": str(fifo)}])),
                           ("ground", ground([str(fifo)], backend="openai"))):
        error_text(app.call(endpoint, data, timeout=60))
        with pytest.raises(OSError) as caught:  # a reader would be blocked in open() if the app had opened it
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        assert caught.value.errno == errno.ENXIO


def test_dev_zero_is_refused_and_the_app_keeps_answering(app):
    started = time.monotonic()
    for images in (["/dev/zero"], [{"path": "/dev/zero"}]):
        assert "not a file uploaded to this app" in error_text(app.call("ground", ground(images), timeout=60))
    assert time.monotonic() - started < 60
    assert app.call("parse", ["[]", "qwen2.5-vl", [[640, 480]], 0, 0, None, None])[0] == "complete"


@pytest.mark.parametrize("url", [
    "{target}/v1",
    "http://127.0.0.1:{configured_port}@{target_hostport}/v1",
    "http://operator:x@{target_hostport}/v1",
    "{target}/v1?redirect={configured}",
    "http://localhost:{target_port}/v1",
])
def test_a_visitor_server_url_receives_nothing(app, configured, recorder, tmp_path, url):
    target = recorder("ok")
    target_hostport = target.url.removeprefix("http://")
    asked = url.format(target=target.url, target_hostport=target_hostport, target_port=target.server_address[1],
                       configured_port=configured.server_address[1], configured=configured.url)
    image = app.upload(write_image(tmp_path, 64, 48))
    text = error_text(app.call("ground", ground([image], backend="openai", model=MODEL, base_url=asked)))
    assert "not offered here" in text or "its own server" in text or "user name or password" in text
    assert_no_secret(text)
    assert target.connections == []


def test_a_url_given_as_an_image_is_not_fetched_from_loopback(app, recorder):
    target = recorder("ok")
    event, _ = app.call("geometry", [[{"path": f"{target.url}/cat.png", "meta": {"_type": "gradio.FileData"}}],
                                     "qwen2.5-vl", 0, 0])
    assert event == "error" and target.connections == []


def test_the_configured_server_gets_the_key_and_its_error_body_is_not_shown(app, configured, tmp_path):
    image = app.upload(write_image(tmp_path, 64, 48))
    before = len(configured.requests)
    text = error_text(app.call("ground", ground([image], backend="openai", model=MODEL)))
    assert "answered 500" in text and "not shown" in text
    assert_no_secret(text)
    assert "127.0.0.1" in text and "***@" in text  # the server, shown without its password
    sent = configured.requests[before:]
    # the configured credentials go to the configured server (httpx sends a URL's user:password as Basic auth)
    basic = "Basic " + base64.b64encode(f"operator:{PASSWORD}".encode()).decode()
    assert sent and all(set(seen.auth) <= {basic, f"Bearer {API_KEY}"} and seen.auth for seen in sent), sent
    assert len(sent) <= 2, "bounded retries"
    assert_no_secret(app.log.read_text())


@pytest.mark.parametrize("model", ["{folder}", "{folder}/../x", ".", "someone/other-model"])
def test_no_other_model_and_no_local_folder(app, tmp_path, model):
    image = app.upload(write_image(tmp_path, 64, 48))
    messages = set()
    for folder in (tmp_path, tmp_path / "missing"):
        asked = model.format(folder=folder)
        text = error_text(app.call("ground", ground([image], model=asked)))
        assert "not offered here" in text
        messages.add(text.replace(asked, "<m>"))
    assert len(messages) == 1


@pytest.mark.parametrize("data, words", [
    pytest.param(ground("x"), "images must be a list", id="images-text"),
    pytest.param(ground([]), "at least one image", id="no-images"),
    pytest.param(["upload", "p", "local", "", "", "", [], 0, 0, "many"], "max_new_tokens must be a whole number",
                 id="tokens-text"),
    pytest.param(["upload", "p", "local", "", "", "", [], 0, 0, 10**12], "max_new_tokens must be at most", id="tokens"),
    pytest.param(["upload", "p", "local", "", "", "", [], 50_000_000, 0, 8], "min_pixels must be at most",
                 id="min-pixels"),
    pytest.param(["upload", ["p"], "local", "", "", "", [], 0, 0, 8], "prompt must be text", id="prompt-list"),
    pytest.param(["upload", "p", 3, "", "", "", [], 0, 0, 8], "backend must be text", id="backend-number"),
    pytest.param(["upload", "p", "local", "", "", "", "front", 0, 0, 8], "image_ids must be a list", id="ids"),
])
def test_wrong_arguments_are_answered_in_words(app, tmp_path, data, words):
    if data[0] == "upload":
        data = [[app.upload(write_image(tmp_path, 64, 48))], *data[1:]]
    assert words in error_text(app.call("ground", data))


@pytest.mark.parametrize("data, words", [
    pytest.param([5, "qwen2.5-vl", [[640, 480]], 0, 0], "text must be text", id="text-number"),
    pytest.param(["[]", "qwen2.5-vl", "640x480", 0, 0], "original_sizes must be a list", id="sizes-text"),
    pytest.param(["[]", {"a": 1}, [[640, 480]], 0, 0], "family must be text", id="family-object"),
    pytest.param(["[]", "qwen2.5-vl", [[640, 480]], "x", 0], "min_pixels must be a whole number", id="min-text"),
])
def test_parse_arguments_are_answered_in_words(app, data, words):
    assert words in error_text(app.call("parse", [*data, None, None]))  # raw HTTP sends every argument


def test_geometry_arguments_are_answered_in_words(app, tmp_path):
    image = app.upload(write_image(tmp_path, 64, 48))
    assert "family must be text" in error_text(app.call("geometry", [[image], 7, 0, 0]))
    assert "max_pixels must be at most" in error_text(app.call("geometry", [[image], "qwen2.5-vl", 0, 10**12]))


def test_a_pixel_bomb_is_refused_from_its_header(app, tmp_path):
    bomb = app.upload(write_black_png(tmp_path / "black.png", 13000, 13000))
    text = error_text(app.call("ground", ground([bomb])))
    assert "black.png: 13000 x 13000 = 169.0 MP decoded; one image may have at most 50.0 MP here" in text

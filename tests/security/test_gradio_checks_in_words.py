"""Issue 20, item 12: what Gradio itself checks (the number of arguments, a FileData outside its uploads) is
answered in words, never ``{"error": null}``; an oversized call body is refused in words before it is read.
"""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.security.live import error_text, post_json

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def app(start_app):
    return start_app({"SPACE_ID": "someone/workbench", "WORKBENCH_MODEL": "Qwen/Qwen2.5-VL-3B-Instruct"})


def outside(path: str) -> dict:
    return {"path": path, "meta": {"_type": "gradio.FileData"}}


@pytest.mark.parametrize("endpoint, data, words", [
    pytest.param("parse", [], "text must be text", id="parse-nothing"),
    pytest.param("parse", ["[]"], "give the original size [W, H] of each image", id="parse-text-only"),
    pytest.param("geometry", [], "images must be a list", id="geometry-nothing"),
    pytest.param("ground", [], "images must be a list", id="ground-nothing"),
    pytest.param("geometry", [[outside("/etc/hostname")], "qwen2.5-vl", 0, 0], "not a file uploaded to this app",
                 id="file-data-outside"),
    pytest.param("tiles", [outside("/etc/hostname")], "not a file uploaded to this app", id="tiles-file-data"),
    pytest.param("ground", [[outside("http://127.0.0.1:9/cat.png")], "Find."], "not a file uploaded to this app",
                 id="file-data-url"),
])
def test_gradios_own_checks_are_answered_in_words(app, endpoint, data, words):
    text = error_text(app.call(endpoint, data))
    assert words in text, text


def test_an_event_of_the_page_with_too_few_values_is_refused_in_words(app):
    with urllib.request.urlopen(app.url + "config", timeout=30) as response:
        config = json.load(response)
    page_event = next(d for d in config["dependencies"] if d.get("api_visibility") != "public" and d.get("inputs"))
    status, answer = post_json(app.url, "gradio_api/queue/join", {"data": [], "fn_index": page_event["id"],
                                                                   "session_hash": "s1"})
    assert status == 422 and f"takes {len(page_event['inputs'])} values, got 0" in answer["detail"]


def test_an_oversized_call_body_is_refused_in_words(app):
    status, answer = post_json(app.url, "gradio_api/call/parse", {"data": ["x" * (9 << 20)]})
    assert status == 413 and "at most 8 MB" in answer["detail"]
    assert app.call("parse", ["[]", "qwen2.5-vl", [[640, 480]], 0, 0, None, None])[0] == "complete"

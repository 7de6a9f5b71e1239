"""The app's public API through gradio_client, as a script would call it."""

from __future__ import annotations

import pytest

from tests.factories import write_image

gradio_client = pytest.importorskip("gradio_client")


@pytest.fixture(scope="module")
def client(live_app):
    url, _ = live_app
    return gradio_client.Client(url, verbose=False)


def test_api_lists_the_named_endpoints(client):
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert {"/geometry", "/parse", "/ground"} <= set(endpoints)
    private = [name for name in endpoints if name.startswith("/_") or name.startswith("/lambda")]
    assert private == []


def test_geometry_endpoint(client, tmp_path):
    photo = write_image(tmp_path, 60, 40, fmt="JPEG", orientation=6, name="phone.jpg")
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    result = client.predict([gradio_client.handle_file(str(photo)), gradio_client.handle_file(str(text))],
                            "qwen2.5-vl", 0, 0, api_name="/geometry")
    assert result[0] == {"file": "phone.jpg", "original": [40, 60], "resized": [56, 84], "grid_thw": [1, 6, 4],
                         "tokens": 6}
    assert result[1]["file"] == "notes.png" and "not an image" in result[1]["error"]


def test_parse_endpoint(client):
    text = '```json\n[{"bbox_2d": [322, 238, 644, 476], "label": "cat"}]\n```'
    result = client.predict(text, "qwen2.5-vl", [[640, 480]], 0, 0, api_name="/parse")
    assert [(d["label"], d["original"]) for d in result["detections"]] == [("cat", [320.0, 240.0, 640.0, 480.0])]
    relative = client.predict("<|object_ref_start|>dog<|object_ref_end|><|box_start|>(100,200),(500,1000)<|box_end|>",
                              "qwen2-vl", [[2000, 1000]], 0, 0, api_name="/parse")
    assert relative["detections"][0]["original"] == [200.0, 200.0, 1000.0, 1000.0]


def test_parse_endpoint_explains_bad_arguments(client):
    with pytest.raises(Exception, match="original size"):
        client.predict("[]", "qwen2.5-vl", [], 0, 0, api_name="/parse")

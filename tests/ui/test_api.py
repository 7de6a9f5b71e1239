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
    private = [name for name in endpoints if name.startswith(("/_", "/lambda"))]
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


def test_ground_endpoint_runs_a_local_model_and_reports_each_images_geometry(client, tmp_path, tiny_qwen25):
    from grounding import PixelLimits, process_size

    a = write_image(tmp_path, 640, 480, fmt="PNG", name="a.png")
    b = write_image(tmp_path, 300, 500, fmt="JPEG", orientation=6, name="b.jpg")  # shown 500 x 300
    limits = PixelLimits(3136, 100352)
    result = client.predict(
        [gradio_client.handle_file(str(a)), gradio_client.handle_file(str(b))], "Locate every cat.", "local",
        str(tiny_qwen25), "", "", ["front", "back"], limits.min_pixels, limits.max_pixels, 8, api_name="/ground")
    assert [image["id"] for image in result["images"]] == ["front", "back"]
    for image, size in zip(result["images"], [(640, 480), (500, 300)]):
        expected = process_size(size, "qwen2.5-vl", limits)
        assert (image["original"], image["resized"]) == (list(size), list(expected.resized_wh))
        assert image["grid_thw"] == list(expected.grid_thw)
    assert isinstance(result["text"], str) and result["finish_reason"] in {"stop", "length"}
    assert isinstance(result["detections"], list) and isinstance(result["warnings"], list)


def test_ground_endpoint_explains_a_missing_model(client, tmp_path):
    a = write_image(tmp_path, 64, 64, name="a.png")
    with pytest.raises(Exception, match="(?i)model|checkpoint|not found|load"):
        client.predict([gradio_client.handle_file(str(a))], "Locate every cat.", "local",
                       str(tmp_path / "no-such-model"), "", "", [], 0, 0, 8, api_name="/ground")


def test_geometry_endpoint_explains_bad_arguments(client, tmp_path):
    photo = write_image(tmp_path, 60, 40, name="p.png")
    with pytest.raises(Exception, match="unknown model family"):
        client.predict([gradio_client.handle_file(str(photo))], "llava", 0, 0, api_name="/geometry")
    with pytest.raises(Exception, match="larger than max_pixels"):
        client.predict([gradio_client.handle_file(str(photo))], "qwen2.5-vl", 5000, 100, api_name="/geometry")


def test_evaluate_endpoint_measures_a_dataset_through_gradio_client(client, live_app, tmp_path):
    from tests.fake_server import FakeServer
    from tests.workbench.evaluate.known import build_known

    _, services = live_app
    known = build_known(services.store(), tmp_path / "images", name="evaluate-by-api")
    with FakeServer(known.answer, models=["good"]) as server:
        result = client.predict("evaluate-by-api", "val", ["good"], ["Find {target}."], [200704], "openai", server.url,
                                "", 256, False, api_name="/evaluate")
        assert (result["split"], result["items"]) == ("val", 6)
        (cell,) = result["cells"]
        assert (cell["model"], cell["prompt"], cell["max_pixels"], cell["state"]) == ("good", "Find {target}.",
                                                                                   200704, "done")
        assert cell["metrics"]["acc50"] == 1.0 and isinstance(cell["run_id"], int)
        with pytest.raises(Exception, match="no accepted item in the test split"):
            client.predict("evaluate-by-api", "test", ["good"], [], [], "openai", server.url, "", 256, False,
                           api_name="/evaluate")


def test_evaluate_endpoint_on_a_public_deployment_asks_anonymous_callers_to_sign_in(tmp_path):
    from tests.ui.conftest import free_port
    from ui import create_app
    from workbench.services import Services

    demo = create_app(Services.create(tmp_path / "data", public=True))
    port = free_port()
    demo.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        public = gradio_client.Client(f"http://127.0.0.1:{port}/", verbose=False)
        with pytest.raises(Exception, match="sign in with Hugging Face to evaluate"):
            public.predict("anything", "val", [], [], [], "openai", "", "", 64, False, api_name="/evaluate")
    finally:
        demo.close()

"""The multi-image and high-resolution endpoints through gradio_client, as a script would call them.

The tiny local model writes junk (random weights): these tests check the wiring and the shapes, that
every answer names files by the caller's names (never the server's upload paths), and the messages
for bad calls. What the tools compute is tested on known answers in tests/workbench.
"""

from __future__ import annotations

import json

import pytest

from tests.factories import write_image

gradio_client = pytest.importorskip("gradio_client")

TOKENS = 8
MULTI = ("/prompt_preview", "/order_probe", "/canvas", "/steps", "/tiles")


@pytest.fixture(scope="module")
def client(live_app):
    url, _ = live_app
    return gradio_client.Client(url, verbose=False)


@pytest.fixture(scope="module")
def uploads(tmp_path_factory):
    folder = tmp_path_factory.mktemp("multi-uploads")
    a = write_image(folder, 640, 480, fmt="PNG", name="a.png")
    b = write_image(folder, 300, 500, fmt="JPEG", orientation=6, name="b.jpg")  # shown 500 x 300
    return [gradio_client.handle_file(str(a)), gradio_client.handle_file(str(b))]


def no_server_paths(result) -> str:
    """The answer as JSON, checked to hold no path of the app's upload folder."""
    from gradio.utils import get_upload_folder

    text = json.dumps(result)
    assert get_upload_folder() not in text
    return text


def test_the_multi_image_endpoints_are_listed_with_their_parameters(client):
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert set(MULTI) <= set(endpoints)
    names = {e: [p["parameter_name"] for p in endpoints[e]["parameters"]] for e in MULTI + ("/parse",)}
    assert names["/order_probe"][:9] == ["images", "target", "prompt", "task", "image_ids", "naming", "orders",
                                         "max_orders", "seed"]
    assert names["/tiles"][0] == "image" and "tile_max_pixels" in names["/tiles"]
    assert names["/parse"][-2:] == ["coordinate_keys", "image_ids"]


def test_parse_maps_answers_by_image_id_and_reads_the_prompts_own_keys(client):
    text = '[{"result": [0, 0, 150, 250], "label": "cat", "image": "back"}]'
    result = client.predict(text, "qwen2.5-vl", [[640, 480], [300, 500]], 0, 0, ["result"], ["front", "back"],
                            api_name="/parse")
    ((detection,),) = [result["detections"]]
    assert detection["image"] == 2 and detection["label"] == "cat"
    with pytest.raises(Exception, match="one ID per image"):
        client.predict("[]", "qwen2.5-vl", [[640, 480], [300, 500]], 0, 0, [], ["front"], api_name="/parse")


def test_prompt_preview_shows_the_chat_template_with_the_users_ids(client, uploads, tiny_qwen25):
    result = client.predict(uploads, "cat", "", "boxes", ["front", "back"], "ids", "local", str(tiny_qwen25),
                            api_name="/prompt_preview")
    no_server_paths(result)
    assert result["format"] == "chat-template" and result["naming"] == "ids"
    assert "front: " in result["text"] and "back: " in result["text"]
    assert result["prompt"] in result["text"] and '"front"' in result["prompt"]  # asked to name images by ID
    assert result["text"].count("<|vision_start|>") == 2


def test_order_probe_answers_per_image_and_per_order(client, uploads, tiny_qwen25):
    result = client.predict(uploads, "cat", "", "boxes", ["front", "back"], "picture", None, 12, 0, "local",
                            str(tiny_qwen25), "", "", 0, 0, TOKENS, api_name="/order_probe")
    no_server_paths(result)
    assert result["orders"] == [[1, 2], [2, 1]] and result["most_consistent_order"] in result["orders"]
    assert [image["image_id"] for image in result["images"]] == ["front", "back"]
    for image in result["images"]:
        assert len(image["counts"]) == 2 and image["count_spread"] == max(image["counts"]) - min(image["counts"])
        assert 0.0 <= image["agreement"] <= 1.0
    shown = [[row["file"] for row in answer["images"]] for answer in result["answers"]]
    assert shown == [["a.png", "b.jpg"], ["b.jpg", "a.png"]]
    assert result["plot"]["kind"] == "heatmap" and len(result["plot"]["agreement"]) == 2


def test_canvas_splits_back_to_the_callers_files(client, uploads, tiny_qwen25):
    result = client.predict(uploads, "cat", "", "boxes", "v", 200_000, 4, True, 0, "local", str(tiny_qwen25), "", "",
                            0, 0, TOKENS, api_name="/canvas")
    no_server_paths(result)
    assert [s["file"] for s in result["sources"]] == ["a.png", "b.jpg"]
    assert [s["original"] for s in result["sources"]] == [[640, 480], [500, 300]]
    assert [s["file"] for s in result["layout"]["sources"]] == ["a.png", "b.jpg"]
    width, height = result["layout"]["canvas"]
    assert width * height <= 200_000 and result["layout"]["gap"] == 4 and result["layout"]["layout"] == "v"
    assert result["canvas_image"]["original"] == [width, height]
    for detection in result["detections"]:
        assert detection["image"] in (1, 2) and detection["file"] == ["a.png", "b.jpg"][detection["image"] - 1]


def test_steps_give_one_turn_per_image(client, uploads, tiny_qwen25):
    result = client.predict(uploads, "cat", "", "boxes", ["front", "back"], "picture", "local", str(tiny_qwen25), "",
                            "", 0, 0, TOKENS, api_name="/steps")
    no_server_paths(result)
    assert [(t["turn"], t["image_id"]) for t in result["turns"]] == [(1, "front"), (2, "back")]
    assert [row["file"] for row in result["images"]] == ["a.png", "b.jpg"]
    assert all(d["image"] == t["turn"] for t in result["turns"] for d in t["detections"])


def test_tiles_ground_a_wide_image_tile_by_tile_and_compare(client, tmp_path, tiny_qwen25):
    wide = write_image(tmp_path, 2000, 500, name="wide.png")
    result = client.predict(gradio_client.handle_file(str(wide)), "car", "", "boxes", 250_000, 0.15, 4.0, False,
                            True, "local", str(tiny_qwen25), "", "", TOKENS, api_name="/tiles")
    no_server_paths(result)
    assert result["file"] == "wide.png" and result["original"] == [2000, 500]
    assert result["plan"]["grid"] == [5, 1] and len(result["tiles"]) == 5
    assert result["limits"]["max_pixels"] == 250_000
    assert "detections" in result["single"] and isinstance(result["detections"], list)


def test_a_server_that_takes_limits_otherwise_is_named_with_the_setting_to_change(client, uploads, tiny_qwen25,
                                                                                 serve_url, monkeypatch):
    monkeypatch.delenv("WORKBENCH_LIMITS_STYLE", raising=False)  # vLLM's mm_processor_kwargs, by default
    with pytest.raises(gradio_client.exceptions.AppError, match="mm_processor_kwargs") as refused:
        client.predict(uploads, "cat", "", "boxes", ["front", "back"], "picture", "openai", str(tiny_qwen25), serve_url,
                       "qwen2.5-vl", 0, 0, TOKENS, api_name="/steps")
    assert "set WORKBENCH_LIMITS_STYLE" in str(refused.value) and "'transformers' for transformers serve" in str(refused.value)


def test_every_tool_runs_against_an_openai_compatible_server(client, uploads, tmp_path, tiny_qwen25, serve_url,
                                                             monkeypatch):
    monkeypatch.setenv("WORKBENCH_LIMITS_STYLE", "transformers")  # how transformers serve takes pixel limits
    model = str(tiny_qwen25)  # transformers serve names the model by the folder it serves
    server = ("openai", model, serve_url, "qwen2.5-vl", 0, 0, TOKENS)
    preview = client.predict(uploads, "cat", "", "boxes", ["front", "back"], "ids", *server, api_name="/prompt_preview")
    assert preview["format"] == "messages" and preview["body"]["model"] == model
    texts = " ".join(part.get("text", "") for part in preview["messages"][0]["content"])
    assert preview["body"]["max_tokens"] == TOKENS and "front: " in texts and '"front"' in texts
    probe = client.predict(uploads, "cat", "", "boxes", ["front", "back"], "picture", None, 12, 0, *server,
                           api_name="/order_probe")
    assert probe["orders"] == [[1, 2], [2, 1]] and len(probe["answers"]) == 2
    canvas = client.predict(uploads, "cat", "", "boxes", "h", 200_000, 0, True, 0, *server, api_name="/canvas")
    assert [s["file"] for s in canvas["sources"]] == ["a.png", "b.jpg"]
    steps = client.predict(uploads, "cat", "", "boxes", ["front", "back"], "picture", *server, api_name="/steps")
    assert [(t["turn"], t["image_id"]) for t in steps["turns"]] == [(1, "front"), (2, "back")]
    wide = write_image(tmp_path, 1200, 300, name="wide.png")
    tiles = client.predict(gradio_client.handle_file(str(wide)), "car", "", "boxes", 100_000, 0.15, 4.0, False, True,
                           *server[:4], TOKENS, api_name="/tiles")
    assert tiles["file"] == "wide.png" and len(tiles["tiles"]) == len(tiles["plan"]["tiles"])
    for result in (preview, probe, canvas, steps, tiles):
        no_server_paths(result)


@pytest.mark.parametrize(("endpoint", "arguments", "message"), [
    ("/order_probe", {"target": "cat"}, "at least two images"),
    ("/prompt_preview", {}, "give a target"),
    ("/prompt_preview", {"target": "cat", "prompt": "Find it."}, "not both"),
    ("/canvas", {"target": "cat", "layout": "diagonal"}, "layout must be one of h, v, grid"),
    ("/steps", {"target": "cat", "image_ids": ["only-one", "two", "three"]}, "at most 1 items"),
    ("/steps", {"target": "cat", "backend": "local", "base_url": "http://127.0.0.1:1/v1"}, "base_url is for"),
])
def test_bad_calls_are_answered_in_words_before_any_model_runs(client, tmp_path, endpoint, arguments, message):
    photo = gradio_client.handle_file(str(write_image(tmp_path, 64, 48, name="p.png")))
    with pytest.raises(Exception, match=message):
        client.predict([photo], **arguments, api_name=endpoint)


def test_tiles_refuse_too_many_tiles(client, tmp_path):
    huge = write_image(tmp_path, 4000, 4000, name="huge.png")
    with pytest.raises(Exception, match=r"huge.png would need \d+ tiles of at most 4096 pixels; at most 64 here"):
        client.predict(gradio_client.handle_file(str(huge)), "car", tile_max_pixels=4096,
                       base_url="http://127.0.0.1:1/v1", api_name="/tiles")  # refused before the server is asked


@pytest.mark.parametrize(("endpoint", "data"), [
    ("tiles", [{"path": "{file}", "meta": {"_type": "gradio.FileData"}}, "car"]),
    ("tiles", ["{file}", "car"]),
    ("canvas", [[{"path": "{file}", "meta": {"_type": "gradio.FileData"}}], "car"]),
    ("order_probe", [["{file}", "{file}"], "car"]),
    ("steps", [[{"path": "{file}"}], "car"]),
    ("prompt_preview", [[{"path": "{file}"}], "car"]),
])
def test_a_file_that_is_not_an_upload_is_refused(client, live_app, tmp_path, endpoint, data):
    from tests.security.live import call, error_text

    url, _ = live_app
    secret = write_image(tmp_path, 64, 48, name="server-side.png")
    data = json.loads(json.dumps(data).replace("{file}", str(secret)))
    parameters = client.view_api(return_format="dict", print_info=False)["named_endpoints"][f"/{endpoint}"]["parameters"]
    data += [p["parameter_default"] for p in parameters[len(data):]]  # a raw call sends every argument
    message = error_text(call(url, endpoint, data, timeout=60))
    if "gradio.FileData" in json.dumps(data):  # Gradio itself refuses to move it (quoting what was sent)
        assert "because it was not uploaded by a user" in message
    else:
        assert "is not a file uploaded to this app" in message and str(secret) not in message

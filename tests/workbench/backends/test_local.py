"""LocalTransformersBackend on tiny Qwen-VL checkpoints loaded through the real from_pretrained."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
import torch

from grounding import PixelLimits, process_size
from grounding.prompts import build_messages
from tests.factories import write_image
from workbench.backends import (
    GroundingRequest,
    LocalTransformersBackend,
    ModelBackend,
    TextDelta,
)
from workbench.backends.local import _cancel_criteria
from workbench.errors import BackendError


def request_for(*images, prompt="Locate every cat in the image and output the bbox coordinates in JSON format.", **kw):
    return GroundingRequest(images=tuple(images), prompt=prompt, **kw)


def test_loads_once_with_family_from_config_and_sdpa_on_cpu(qwen25_backend):
    loaded = qwen25_backend.load()
    assert qwen25_backend.load() is loaded
    assert isinstance(qwen25_backend, ModelBackend)
    assert loaded.family.name == "qwen2.5-vl"
    assert (loaded.runtime.device, loaded.runtime.dtype) == ("cpu", "float32")
    assert loaded.model.config._attn_implementation == "sdpa"
    assert type(loaded.model).__name__ == "Qwen2_5_VLForConditionalGeneration"


def test_geometry_from_image_grid_thw_equals_grounding_geometry(qwen25_backend, two_images):
    loaded, inputs, geometry, limits = qwen25_backend.prepare(request_for(*two_images))
    expected = [process_size(wh, "qwen2.5-vl", limits) for wh in [(640, 480), (300, 500)]]
    assert list(geometry) == expected
    assert [g.grid_thw for g in geometry] == [tuple(row) for row in inputs["image_grid_thw"].tolist()]
    image_pad = loaded.processor.tokenizer.convert_tokens_to_ids("<|image_pad|>")
    assert int((inputs["input_ids"] == image_pad).sum()) == sum(g.tokens for g in expected)


@pytest.mark.parametrize(
    "limits",
    [
        pytest.param(PixelLimits(3136, 128 * 28 * 28), id="small-max"),
        pytest.param(PixelLimits(512 * 28 * 28, 1024 * 28 * 28), id="large-min-upscales"),
    ],
)
def test_pixel_limits_reach_the_processor_and_images_are_resized_once(tiny_qwen25, tmp_path, limits):
    image = write_image(tmp_path, 1920, 1080)
    backend = LocalTransformersBackend(str(tiny_qwen25), limits=limits, local_files_only=True)
    _, _, (geometry,), used = backend.prepare(request_for(image))
    assert used == limits
    assert geometry == process_size((1920, 1080), "qwen2.5-vl", limits)
    assert geometry != process_size((1920, 1080), "qwen2.5-vl")


def test_request_limits_win_over_the_backends(tiny_qwen25, tmp_path):
    image = write_image(tmp_path, 1920, 1080)
    backend = LocalTransformersBackend(str(tiny_qwen25), limits=PixelLimits(3136, 256 * 28 * 28), local_files_only=True)
    per_call = PixelLimits(3136, 64 * 28 * 28)
    _, inputs, (geometry,), used = backend.prepare(request_for(image, limits=per_call))
    assert used == per_call
    assert geometry == process_size((1920, 1080), "qwen2.5-vl", per_call)
    assert geometry.grid_thw == tuple(inputs["image_grid_thw"][0].tolist())
    _, _, (default,), _ = backend.prepare(request_for(image))
    assert default == process_size((1920, 1080), "qwen2.5-vl", PixelLimits(3136, 256 * 28 * 28))


def test_exif_rotated_image_uses_the_displayed_size(qwen25_backend, tmp_path):
    stored_480x640_shown_640x480 = write_image(tmp_path, 480, 640, fmt="JPEG", orientation=6)
    _, _, (geometry,), limits = qwen25_backend.prepare(request_for(stored_480x640_shown_640x480))
    assert geometry.original_wh == (640, 480)
    assert geometry == process_size((640, 480), "qwen2.5-vl", limits)


def test_qwen3_vl_tiny_uses_patch_16(tiny_qwen3, two_images):
    backend = LocalTransformersBackend(str(tiny_qwen3), local_files_only=True)
    _, _inputs, geometry, limits = backend.prepare(request_for(*two_images))
    assert backend.family().name == "qwen3-vl"
    assert list(geometry) == [process_size(wh, "qwen3-vl", limits) for wh in [(640, 480), (300, 500)]]
    assert geometry[0].resized_wh == (640, 480) and geometry[0].grid_thw == (1, 30, 40)


def test_streams_token_pieces_that_add_up_to_the_output(qwen25_backend, two_images):
    events = list(qwen25_backend.stream(request_for(*two_images, max_new_tokens=12)))
    *pieces, output = events
    assert pieces and all(isinstance(p, TextDelta) for p in pieces)
    assert "".join(p.text for p in pieces) == output.text
    assert "<|im_end|>" not in output.text
    assert output.completion_tokens == 12
    assert output.finish_reason == "length" and output.truncated
    assert output.warnings[0].startswith("output cut at max_new_tokens=12")
    assert 0 < output.generate_s <= output.total_s


def test_generate_passes_pieces_to_on_text(qwen25_backend, two_images):
    seen: list[str] = []
    request = request_for(*two_images, max_new_tokens=6)
    output = qwen25_backend.generate(request, on_text=seen.append)
    assert "".join(seen) == output.text
    processor = qwen25_backend.load().processor
    template = processor.apply_chat_template(
        [{"role": "user", "content": [{"type": "image"}, {"type": "image"}, {"type": "text", "text": request.prompt}]}],
        tokenize=False, add_generation_prompt=True, add_vision_id=True,
    )
    text_tokens = len(processor.tokenizer(template)["input_ids"]) - 2  # one <|image_pad|> per image before expansion
    assert output.prompt_tokens == text_tokens + 391 + 198


def test_closing_the_stream_stops_generation(qwen25_backend, two_images):
    events = qwen25_backend.stream(request_for(*two_images, max_new_tokens=4000))
    assert isinstance(next(events), TextDelta)
    events.close()  # joins the worker, which the cancel criterion ends at its next token
    assert not [t for t in threading.enumerate() if t.name == "local-generate"]


def test_cancel_criterion_follows_the_event():
    cancelled = threading.Event()
    (criterion,) = _cancel_criteria(cancelled)
    ids = torch.zeros((2, 5), dtype=torch.long)
    assert criterion(ids, None).tolist() == [False, False]
    cancelled.set()
    assert criterion(ids, None).tolist() == [True, True]


def test_plain_generate_gives_the_same_answer_as_streaming(qwen25_backend, two_images):
    request = request_for(*two_images, max_new_tokens=10)
    plain = qwen25_backend.generate(request)
    streamed = qwen25_backend.generate(request, on_text=lambda piece: None)
    assert plain.text == streamed.text
    assert (plain.completion_tokens, plain.finish_reason) == (streamed.completion_tokens, streamed.finish_reason) == (10, "length")
    assert plain.images == streamed.images


def test_add_vision_id_renders_like_explicit_picture_labels(qwen25_backend):
    processor = qwen25_backend.load().processor
    with_template = processor.apply_chat_template(
        [{"role": "user", "content": [{"type": "image"}, {"type": "image"}, {"type": "text", "text": "Find."}]}],
        tokenize=False, add_generation_prompt=True, add_vision_id=True,
    )
    explicit = build_messages(["img1", "img2"], "Find.", picture_labels=True)
    for part in explicit[0]["content"]:
        part.pop("image_id", None)
    assert processor.apply_chat_template(explicit, tokenize=False, add_generation_prompt=True) == with_template
    assert "Picture 1: <|vision_start|><|image_pad|><|vision_end|>Picture 2: " in with_template


def test_vision_ids_default_on_for_several_images_only(qwen25_backend, two_images):
    _, inputs, _, _ = qwen25_backend.prepare(request_for(*two_images))
    _, single, _, _ = qwen25_backend.prepare(request_for(two_images[0]))
    decode = qwen25_backend.load().processor.tokenizer.decode
    assert "Picture 2: " in decode(inputs["input_ids"][0])
    assert "Picture 1: " not in decode(single["input_ids"][0])


@pytest.mark.parametrize(
    ("make_model", "message"),
    [
        pytest.param(lambda tmp: str(tmp / "missing"), "cannot load model", id="missing-folder"),
        pytest.param(lambda tmp: "Qwen/Qwen2.5-VL-3B-Instruct-not-cached", "cannot load model", id="not-cached-offline"),
        pytest.param(lambda tmp: _config_only(tmp, "llama"), "not a Qwen-VL model", id="not-qwen"),
    ],
)
def test_unavailable_model_is_a_clear_backend_error(tmp_path, make_model, message):
    backend = LocalTransformersBackend(make_model(tmp_path), local_files_only=True)
    with pytest.raises(BackendError, match=message) as info:
        backend.generate(request_for(write_image(tmp_path, 64, 64)))
    assert "Traceback" not in str(info.value)
    assert not backend.is_loaded


def _config_only(folder: Path, model_type: str) -> str:
    (folder / "config.json").write_text(json.dumps({"model_type": model_type}))
    return str(folder)


def test_unreadable_image_is_a_backend_error(qwen25_backend, tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    with pytest.raises(BackendError, match="notes.png: not an image"):
        qwen25_backend.generate(request_for(bad))


def test_out_of_memory_becomes_an_actionable_message():
    error = LocalTransformersBackend._generate_error(torch.cuda.OutOfMemoryError("CUDA out of memory"))
    assert isinstance(error, BackendError)
    assert "lower max pixels or max new tokens" in str(error)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"images": ()}, "at least one image", id="no-images"),
        pytest.param({"prompt": "  "}, "prompt is empty", id="empty-prompt"),
        pytest.param({"max_new_tokens": 0}, "at least 1", id="zero-tokens"),
        pytest.param({"image_ids": ("a",)}, "2 images but 1 image IDs", id="id-count"),
        pytest.param({"image_ids": ("a", "a")}, "used twice", id="duplicate-ids"),
    ],
)
def test_bad_requests_are_refused_before_any_model_work(kwargs, message):
    fields = {"images": (b"x", b"y"), "prompt": "Find."} | kwargs
    with pytest.raises(BackendError, match=message):
        GroundingRequest(**fields)

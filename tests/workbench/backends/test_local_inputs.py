"""The local backend's model inputs: pre-sized pixels give the processor's own inputs, kept pixels and inputs.

The processor's own call on the original images (it resizes them itself) is the reference: the
backend hands it images already at ``process_size`` (``do_resize=False``) and assembles the inputs
itself (patches written straight into one tensor, placeholder ids repeated), so the tensors must be
the same, bit for bit, or the boxes could move.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from PIL import Image, ImageOps

from grounding import PixelLimits, process_size
from tests.factories import write_image
from workbench.backends import GroundingRequest, LocalTransformersBackend, model_inputs
from workbench.backends.model_inputs import assemble

PROMPT = "Locate every cat in the image and output the bbox coordinates in JSON format."


def _upright(path) -> Image.Image:
    with Image.open(path) as image:
        return ImageOps.exif_transpose(image).convert("RGB")


def _reference(backend: LocalTransformersBackend, request: GroundingRequest):
    """The plain recipe: chat template + processor on the decoded originals, the processor resizing."""
    loaded = backend.load()
    limits = backend.effective_limits(loaded, request)
    messages = [{"role": "user", "content": [{"type": "image"} for _ in request.images]
                 + [{"type": "text", "text": request.prompt}]}]
    text = loaded.processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True,
                                                add_vision_id=request.vision_ids)
    return loaded.processor(text=[text], images=[_upright(p) for p in request.images],
                            size=limits.as_processor_size(), return_tensors="pt")


def _assert_same(ours, reference) -> None:
    assert set(ours.keys()) == set(reference.keys())
    for name in reference:
        assert torch.equal(ours[name], reference[name]), name


@pytest.mark.parametrize("family", ["qwen2.5-vl", "qwen3-vl"])
def test_inputs_are_the_processors_own_bit_for_bit(tiny_qwen25, tiny_qwen3, two_images, family):
    model = tiny_qwen25 if family == "qwen2.5-vl" else tiny_qwen3
    backend = LocalTransformersBackend(str(model), local_files_only=True)
    request = GroundingRequest(images=two_images, prompt=PROMPT)
    _, inputs, geometry, limits = backend.prepare(request)
    _assert_same(inputs, _reference(backend, request))
    assert list(geometry) == [process_size(wh, family, limits) for wh in [(640, 480), (300, 500)]]


@pytest.mark.parametrize("family", ["qwen2.5-vl", "qwen3-vl"])
def test_the_assembly_is_trusted_not_replaced_by_the_processor(tiny_qwen25, tiny_qwen3, two_images, family):
    backend = LocalTransformersBackend(str(tiny_qwen25 if family == "qwen2.5-vl" else tiny_qwen3), local_files_only=True)
    backend.prepare(GroundingRequest(images=two_images, prompt=PROMPT))
    processor = backend.load().processor
    assert model_inputs._patching(processor.image_processor) is not None  # our own patch writing is used
    assert backend._inputs._assembly_checked == {id(processor): True}  # and it matched the processor's call


def test_greedy_answer_is_the_plain_recipes(qwen25_backend, two_images):
    request = GroundingRequest(images=two_images, prompt=PROMPT, max_new_tokens=12)
    reference = _reference(qwen25_backend, request)
    loaded = qwen25_backend.load()
    with torch.inference_mode():
        ids = loaded.model.generate(**reference, max_new_tokens=12, do_sample=False)
    expected = loaded.processor.tokenizer.decode(ids[0, reference["input_ids"].shape[1]:], skip_special_tokens=False)
    output = qwen25_backend.generate(request)
    assert output.text == qwen25_backend._strip_stop(expected, loaded.stop_texts)


def test_batched_assembly_is_the_processors_left_padded_batch(qwen25_backend, two_images, tmp_path):
    loaded = qwen25_backend.load()
    third = write_image(tmp_path, 200, 900, fmt="JPEG", seed=5)
    requests = [GroundingRequest(images=two_images, prompt=PROMPT), GroundingRequest(images=(third,), prompt="Find.")]
    limits = qwen25_backend.effective_limits(loaded)
    texts = [qwen25_backend._prompt_text(loaded, r) for r in requests]
    images = [qwen25_backend._model_image(loaded, p, limits) for r in requests for p in r.images]
    ours = assemble(loaded.processor, texts, images)
    reference = loaded.processor(text=texts, images=[image.pixels for image in images], do_resize=False,
                                 padding=True, padding_side="left", return_tensors="pt")
    _assert_same(ours, reference)
    assert ours["attention_mask"][1, 0] == 0  # the shorter request is padded on the left


def test_a_large_rotated_jpeg_is_decoded_small_with_the_same_geometry(qwen25_backend, tmp_path):
    photo = write_image(tmp_path, 2400, 1800, fmt="JPEG", orientation=6)  # shown 1800x2400
    limits = PixelLimits(3136, 128 * 28 * 28)
    request = GroundingRequest(images=(photo,), prompt=PROMPT, limits=limits)
    _, inputs, (geometry,), _ = qwen25_backend.prepare(request)
    assert geometry == process_size((1800, 2400), "qwen2.5-vl", limits)
    assert geometry.grid_thw == tuple(inputs["image_grid_thw"][0].tolist())
    reference = _reference(qwen25_backend, request)  # decoded at full size, resized by the processor
    assert torch.equal(inputs["input_ids"], reference["input_ids"])
    difference = (inputs["pixel_values"] - reference["pixel_values"]).abs()
    assert difference.mean() < 0.05  # the same picture, up to the smoothing of a 1/4-scale decode


def test_kept_pixels_and_inputs_are_reused_and_renewed(tiny_qwen25, tmp_path):
    backend = LocalTransformersBackend(str(tiny_qwen25), local_files_only=True)
    image = write_image(tmp_path, 640, 480, seed=1)
    backend.prepare(GroundingRequest(images=(image,), prompt=PROMPT))
    backend.prepare(GroundingRequest(images=(image,), prompt=PROMPT))
    backend.prepare(GroundingRequest(images=(image,), prompt="Find every dog."))
    stats = backend._inputs.stats()
    assert (stats["input_hits"], stats["input_misses"]) == (1, 2)
    assert (stats["pixel_hits"], stats["pixel_misses"]) == (2, 1)  # decoded and sized once
    write_image(tmp_path, 640, 480, seed=9, name=image.name)  # the same file, new content
    os.utime(image, ns=(os.stat(image).st_atime_ns, os.stat(image).st_mtime_ns + 10**9))
    _, inputs, _, _ = backend.prepare(GroundingRequest(images=(image,), prompt=PROMPT))
    assert backend._inputs.stats()["pixel_misses"] == 2
    _assert_same(inputs, _reference(backend, GroundingRequest(images=(image,), prompt=PROMPT)))


def test_pil_images_are_not_kept(qwen25_backend):
    picture = Image.fromarray(np.full((100, 120, 3), 90, np.uint8))
    before = qwen25_backend._inputs.stats()
    for _ in range(2):
        qwen25_backend.prepare(GroundingRequest(images=(picture,), prompt=PROMPT))
    after = qwen25_backend._inputs.stats()
    assert after["pixel_misses"] - before["pixel_misses"] == 2 and after["input_hits"] == before["input_hits"]


def test_a_processor_that_disagrees_with_the_assembly_is_called_every_time(tiny_qwen25, two_images, monkeypatch):
    backend = LocalTransformersBackend(str(tiny_qwen25), local_files_only=True)
    real = model_inputs.assemble

    def off_by_one(processor, texts, images, padding_side="left", vision=None):
        built = real(processor, texts, images, padding_side, vision)
        built["input_ids"] = built["input_ids"] + 1
        return built

    monkeypatch.setattr(model_inputs, "assemble", off_by_one)
    request = GroundingRequest(images=two_images, prompt=PROMPT)
    with pytest.warns(RuntimeWarning, match="differs from the assembled inputs"):
        _, inputs, _, _ = backend.prepare(request)
    _assert_same(inputs, _reference(backend, request))
    dogs = GroundingRequest(images=two_images, prompt="Find every dog.")
    _, again, _, _ = backend.prepare(dogs)  # no second warning: the processor is simply called
    _assert_same(again, _reference(backend, dogs))

"""LocalTransformersBackend.generate_batch: several requests per generate call, answers as one by one."""

from __future__ import annotations

import pytest

from tests.factories import write_image
from workbench.backends import GroundingRequest

PROMPT = "Locate every cat in the image and output the bbox coordinates in JSON format."


@pytest.fixture(scope="module")
def requests(two_images, tmp_path_factory):
    folder = tmp_path_factory.mktemp("batch")
    tall = write_image(folder, 120, 500, fmt="JPEG", seed=5)
    wide = write_image(folder, 600, 250, seed=6)
    return [
        GroundingRequest(images=(two_images[1], wide), prompt=PROMPT, max_new_tokens=8),
        GroundingRequest(images=(tall,), prompt="Find the dog.", max_new_tokens=5),
        GroundingRequest(images=(wide, tall), prompt="Point to every window in both pictures.", max_new_tokens=10),
        GroundingRequest(images=(two_images[1],), prompt=PROMPT, max_new_tokens=8),
    ]


def _fields(output):
    return (output.text, output.completion_tokens, output.finish_reason, output.prompt_tokens, output.images,
            output.limits, output.max_new_tokens)


@pytest.mark.slow
def test_batched_answers_equal_one_by_one_under_greedy_decoding(qwen25_backend, requests):
    alone = [qwen25_backend.generate(request) for request in requests]
    together = qwen25_backend.generate_batch(requests)
    assert [_fields(o) for o in together] == [_fields(o) for o in alone]
    assert [o.completion_tokens for o in together] == [8, 5, 10, 8]  # each cut at its own limit
    assert len({o.generate_s for o in together}) == 1  # one generate call


@pytest.mark.slow
def test_batches_are_split_by_max_batch_and_keep_request_order(qwen25_backend, requests):
    alone = [_fields(qwen25_backend.generate(request)) for request in requests[:3]]
    pairs = qwen25_backend.generate_batch(requests[:3], max_batch=2)
    assert [_fields(o) for o in pairs] == alone
    assert pairs[0].generate_s == pairs[1].generate_s != pairs[2].generate_s


def test_requests_with_other_sampling_settings_run_apart(qwen25_backend, requests):
    hot = GroundingRequest(images=requests[1].images, prompt="Find the dog.", max_new_tokens=3, temperature=0.7)
    outputs = qwen25_backend.generate_batch([requests[1], hot, requests[3]])
    assert [o.completion_tokens for o in outputs] == [5, 3, 8]
    assert outputs[0].generate_s == outputs[2].generate_s != outputs[1].generate_s
    assert outputs[0].text == qwen25_backend.generate(requests[1]).text


def test_an_empty_batch_is_no_work(qwen25_backend):
    assert qwen25_backend.generate_batch([]) == []


def test_a_batch_that_does_not_fit_is_split_in_halves(qwen25_backend, requests, monkeypatch):
    import workbench.backends.local as local

    real = local._generate_on_gpu
    sizes = []

    def small_memory(model, inputs, generation, streamer):  # what a GPU with room for one row at a time does
        sizes.append(int(inputs["input_ids"].shape[0]))
        if sizes[-1] > 1:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(model, inputs, generation, streamer)

    alone = [_fields(qwen25_backend.generate(request)) for request in requests[:3]]
    monkeypatch.setattr(local, "_generate_on_gpu", small_memory)
    outputs = qwen25_backend.generate_batch(requests[:3])
    assert [_fields(o) for o in outputs] == alone
    assert sizes == [3, 1, 2, 1, 1]


def test_a_single_request_that_does_not_fit_is_a_clear_error(qwen25_backend, requests, monkeypatch):
    import torch

    import workbench.backends.local as local
    from workbench.errors import BackendError

    def no_memory(model, inputs, generation, streamer):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(local, "_generate_on_gpu", no_memory)
    with pytest.raises(BackendError, match="lower max pixels or max new tokens"):
        qwen25_backend.generate_batch(requests[:2])

"""The local backend's token log-probabilities equal a log-softmax over ``generate``'s own scores (tiny model)."""

from __future__ import annotations

import pytest
import torch

from workbench.backends import GroundingRequest, TextDelta
from workbench.backends.local import _generate_on_gpu

PROMPT = "Locate every cat in the image and output the bbox coordinates in JSON format."


def reference(backend, request):
    """``generate(output_scores=True, return_dict_in_generate=True)`` on the same inputs: per step, the
    log-softmax of the scores, and the generated ids."""
    loaded, inputs, _, _ = backend.prepare(request)
    generation = backend._generation(request) | {"output_scores": True, "return_dict_in_generate": True}
    out = _generate_on_gpu(loaded.model, inputs, generation, None)
    width = inputs["input_ids"].shape[1]
    return [torch.log_softmax(step[0].float(), dim=-1) for step in out.scores], out.sequences[0, width:].tolist()


@pytest.mark.parametrize("streamed", [False, True], ids=["generate", "stream"])
def test_log_probabilities_are_a_softmax_over_generate_scores(qwen25_backend, two_images, streamed):
    request = GroundingRequest(images=(two_images[0],), prompt=PROMPT, max_new_tokens=24, logprobs=5)
    rows, new_ids = reference(qwen25_backend, request)
    if streamed:
        pieces = []
        output = qwen25_backend.generate(request, on_text=pieces.append)
        assert "".join(pieces) == output.text
    else:
        output = qwen25_backend.generate(request)
    tokens = output.token_logprobs
    loaded = qwen25_backend.load()
    stops = loaded.eos_ids | {loaded.processor.tokenizer.pad_token_id}
    kept = [(step, token) for step, token in enumerate(new_ids) if token not in stops]
    assert tokens is not None and len(tokens) == len(kept) > 0
    assert "".join(t.text for t in tokens) == output.text
    decode = loaded.processor.tokenizer.decode
    for (step, token), got in zip(kept, tokens):
        assert got.logprob == pytest.approx(float(rows[step][token]), abs=1e-5)
        values, indices = rows[step].topk(5)
        assert [v for _, v in got.top] == pytest.approx(values.tolist(), abs=1e-5)
        assert [name for name, _ in got.top] == [decode([int(i)], skip_special_tokens=False) for i in indices]
        assert got.top[0][1] >= got.logprob - 1e-6  # greedy: the chosen token is the most likely one


def test_no_log_probabilities_unless_asked(qwen25_backend, two_images):
    output = qwen25_backend.generate(GroundingRequest(images=(two_images[0],), prompt=PROMPT, max_new_tokens=8))
    assert output.token_logprobs is None


def test_batched_answers_carry_their_own_log_probabilities(qwen25_backend, two_images):
    requests = [GroundingRequest(images=(image,), prompt=PROMPT, max_new_tokens=n, logprobs=3)
                for image, n in zip(two_images, (12, 20))]
    batched = qwen25_backend.generate_batch(requests)
    for request, output in zip(requests, batched):
        alone = qwen25_backend.generate(request)
        assert output.text == alone.text
        assert [t.text for t in output.token_logprobs] == [t.text for t in alone.token_logprobs]
        assert [t.logprob for t in output.token_logprobs] == pytest.approx(
            [t.logprob for t in alone.token_logprobs], abs=1e-4)
        assert all(len(t.top) == 3 for t in output.token_logprobs)


def test_stream_events_still_end_with_the_output(qwen25_backend, two_images):
    request = GroundingRequest(images=(two_images[0],), prompt=PROMPT, max_new_tokens=6, logprobs=2)
    events = list(qwen25_backend.stream(request))
    assert all(isinstance(e, TextDelta) for e in events[:-1]) and events[-1].token_logprobs is not None

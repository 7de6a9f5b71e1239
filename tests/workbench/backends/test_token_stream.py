"""TokenStream: pieces decoded token by token add up to the tokenizer's full decode, also when cut mid-character."""

from __future__ import annotations

import threading

import pytest
import torch

from workbench.backends.token_stream import TokenStream


@pytest.fixture(scope="module")
def tokenizer(qwen25_backend):
    return qwen25_backend.load().processor.tokenizer


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('```json\n[{"bbox_2d": [12, 40, 300, 288], "label": "cat"}]\n```<|im_end|>', id="json"),
        pytest.param('[{"label": "米饭", "bbox_2d": [1, 2, 3, 4]}, {"label": "击掌"', id="cjk"),
    ],
)
@pytest.mark.parametrize("cut", [0, 1, 2], ids=["whole", "cut-1", "cut-2"])
def test_pieces_add_up_to_the_full_decode(tokenizer, text, cut):
    ids = tokenizer(text)["input_ids"]
    ids = ids[: len(ids) - cut]  # the token limit can cut a character's bytes
    stream = TokenStream(tokenizer.backend_tokenizer)

    def generate() -> None:  # as generate calls a streamer: the prompt first, then one token at a time
        stream.put(torch.tensor([[1, 2, 3]]))
        for token in ids:
            stream.put(torch.tensor([token]))
        stream.end()

    worker = threading.Thread(target=generate)
    worker.start()
    pieces = list(stream)
    worker.join()
    assert "".join(pieces) == tokenizer.decode(ids, skip_special_tokens=False)
    assert len(pieces) > 3

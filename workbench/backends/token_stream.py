"""Token ids from ``generate`` (its thread) to text pieces (the caller's thread), decoded one token at a time.

transformers' ``TextIteratorStreamer`` decodes, in the generating thread, every token seen since
the last newline again at each new token (and JSON answers have few newlines), so streaming slowed
generation itself. Here ``put`` only queues the new ids; the caller's thread turns them into text
with the tokenizer's incremental decoder (``tokenizers.decoders.DecodeStream``: constant work per
token, holds back a split UTF-8 character until it is complete) while ``generate`` computes the
next token. At the end, whatever the incremental decoder still holds back (a character cut by the
token limit) comes out as the full decode has it, so the pieces add up to ``tokenizer.decode(ids)``.

>>> from tokenizers import Tokenizer, models
>>> tok = Tokenizer(models.BPE(vocab={"a": 0, "b": 1}, merges=[]))
>>> stream = TokenStream(tok)
>>> stream.put([[0, 1]]); stream.put([[1]]); stream.put([[0]]); stream.end()
>>> list(stream), tok.decode([1, 0])
(['b', ' a'], 'b a')
"""

from __future__ import annotations

import queue
from collections.abc import Iterator
from typing import Any

__all__ = ["TokenStream"]


def _ids(value: Any) -> list[int]:
    rows = value.tolist() if hasattr(value, "tolist") else value
    while rows and isinstance(rows[0], list):  # (1, n) or (n,) for one sequence
        rows = [token for row in rows for token in row]
    return [int(token) for token in rows]


class TokenStream:
    """A ``generate`` streamer (``put``/``end``) that is iterated for text pieces; the first ``put`` is the prompt."""

    def __init__(self, tokenizer: Any, skip_special_tokens: bool = False) -> None:
        self._tokenizer = tokenizer
        self._skip_special = skip_special_tokens
        self._queue: queue.SimpleQueue[list[int] | None] = queue.SimpleQueue()
        self._prompt_seen = False

    def put(self, value: Any) -> None:
        if not self._prompt_seen:
            self._prompt_seen = True
            return
        self._queue.put(_ids(value))

    def end(self) -> None:
        self._queue.put(None)

    def __iter__(self) -> Iterator[str]:
        from tokenizers.decoders import DecodeStream

        decoder = DecodeStream(skip_special_tokens=self._skip_special)
        seen: list[int] = []
        emitted: list[str] = []
        while (ids := self._queue.get()) is not None:
            for token in ids:
                seen.append(token)
                piece = decoder.step(self._tokenizer, token)
                if piece:
                    emitted.append(piece)
                    yield piece
        whole = self._tokenizer.decode(seen, skip_special_tokens=self._skip_special) if seen else ""
        so_far = "".join(emitted)
        if len(whole) > len(so_far) and whole.startswith(so_far):
            yield whole[len(so_far):]

"""Token log-probabilities from ``generate`` in this process, with memory bounded by the answer, not the vocabulary.

``generate(output_scores=True, return_dict_in_generate=True)`` keeps a ``(batch, vocabulary)`` row of
scores per generated token (about 0.6 MB per token for Qwen's 152k vocabulary: 600 MB for a 1,000-token
answer). :class:`LogprobRecorder` is a logits processor that sees the same rows one at a time and keeps
only what confidence needs: the log-softmax of the chosen token and the ``top`` most likely ones. It runs
after the processors transformers builds from the generation config (repetition penalty...) and
before sampling's temperature/top-k/top-p warpers, so under greedy decoding it sees exactly the
scores ``generate`` returns with ``output_scores=True`` (a test compares the two on the tiny model),
and under sampling the model's distribution before the warpers.

Each token's text is its piece of the incremental decode (:func:`token_pieces`), so the pieces add up
to the answer's text and a digit can be traced to its token.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from grounding.confidence.tokens import TokenLogprob

__all__ = ["LogprobRecorder", "token_logprobs", "token_pieces"]


def token_pieces(tokenizer: Any, ids: Sequence[int]) -> list[str]:
    """The text each token adds to the decode (``tokenizers``' ``DecodeStream``: a character split over
    tokens comes with the token that completes it); the pieces add up to ``tokenizer.decode(ids)``.

    >>> from tokenizers import Tokenizer, models
    >>> token_pieces(Tokenizer(models.BPE(vocab={"a": 0, "b": 1}, merges=[])), [0, 1, 0])
    ['a', ' b', ' a']
    """
    from tokenizers.decoders import DecodeStream

    decoder = DecodeStream(skip_special_tokens=False)
    pieces = [decoder.step(tokenizer, int(token)) or "" for token in ids]
    whole = tokenizer.decode(list(ids), skip_special_tokens=False) if ids else ""
    so_far = "".join(pieces)
    if pieces and len(whole) > len(so_far) and whole.startswith(so_far):
        pieces[-1] += whole[len(so_far):]
    return pieces


class LogprobRecorder:
    """A ``generate`` logits processor keeping, per step and row, the chosen token's log-probability and the
    ``top`` most likely tokens with theirs. Call :meth:`result` with the generated ids afterwards."""

    def __init__(self, top: int) -> None:
        self.top = max(1, int(top))
        self._values: list[Any] = []
        self._indices: list[Any] = []
        self._chosen: list[Any] = []
        self._last: Any = None

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        logp = torch.log_softmax(scores.float(), dim=-1)
        if self._last is not None:  # the previous step's token is now the last input id
            self._chosen.append(self._last.gather(1, input_ids[:, -1:]).squeeze(1))
        values, indices = logp.topk(min(self.top, logp.shape[-1]), dim=-1)
        self._values.append(values)
        self._indices.append(indices)
        self._last = logp
        return scores

    def result(self, new_ids: Any) -> tuple[list[list[float]], list[list[list[float]]], list[list[list[int]]]]:
        """Per row: chosen log-probabilities, top log-probabilities and top token ids for each step; ``new_ids``
        is the ``(batch, steps)`` tensor of generated ids."""
        import torch

        if not self._values:
            return [], [], []
        chosen = list(self._chosen)
        steps = len(self._values)
        chosen.append(self._last.gather(1, new_ids[:, steps - 1:steps].to(self._last.device)).squeeze(1))
        self._last = None
        return (torch.stack(chosen, dim=1).cpu().tolist(), torch.stack(self._values, dim=1).cpu().tolist(),
                torch.stack(self._indices, dim=1).cpu().tolist())


def token_logprobs(tokenizer: Any, ids: Sequence[int], chosen: Sequence[float], top_values: Sequence[Sequence[float]],
                   top_ids: Sequence[Sequence[int]], skip: frozenset[int] = frozenset(),
                   ) -> tuple[TokenLogprob, ...]:
    """One row's tokens as :class:`TokenLogprob` (tokens whose id is in ``skip``, end-of-turn and padding,
    left out: their text is cut from the answer too)."""
    backend = getattr(tokenizer, "backend_tokenizer", tokenizer)
    pieces = token_pieces(backend, ids)
    names: dict[int, str] = {}

    def name(token: int) -> str:
        if token not in names:
            names[token] = backend.decode([token], skip_special_tokens=False)
        return names[token]

    out = []
    for step, token in enumerate(ids):
        if token in skip or step >= len(chosen):
            continue
        top = tuple((name(int(t)), float(v)) for t, v in zip(top_ids[step], top_values[step]))
        out.append(TokenLogprob(pieces[step], float(chosen[step]), top))
    return tuple(out)

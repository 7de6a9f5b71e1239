"""Token log-probabilities of an answer, placed on the answer's characters.

A backend asked for them (``GroundingRequest.logprobs``) gives, for each generated token, its text,
its natural-log probability and the most likely tokens at that step (:class:`TokenLogprob`), as
vLLM's ``logprobs.content`` does. :func:`token_spans` finds where each token's text lies in the
answer, so a character (a coordinate digit) can be traced back to the token that wrote it.

Token texts usually add up to the answer exactly. A server that decodes each token on its own
writes ``"\\ufffd"`` for a token holding part of a multi-byte character (a CJK label); such tokens
get no span, and the next token whose text is found close ahead takes up the alignment again.

>>> tokens = [TokenLogprob('[{"', -0.1), TokenLogprob("bbox", -0.2), TokenLogprob("\\ufffd", -1.0),
...           TokenLogprob("\\ufffd", -1.0), TokenLogprob('": [', -0.1), TokenLogprob("1", -0.5)]
>>> token_spans('[{"bbox猫": [1', tokens)
[(0, 3), (3, 7), None, None, (8, 12), (12, 13)]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["TokenLogprob", "token_spans", "tokens_from_openai"]

_LOOKAHEAD = 16
"""Characters searched ahead for a token after tokens that could not be placed (a split character)."""


@dataclass(frozen=True)
class TokenLogprob:
    """One generated token: its text, its log-probability, and the most likely tokens at that step.

    ``top`` holds ``(text, logprob)`` pairs, most likely first, as the backend reported them (the
    chosen token is among them when it was one of the most likely).
    """

    text: str
    logprob: float
    top: tuple[tuple[str, float], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"token": self.text, "logprob": self.logprob, "top": [list(pair) for pair in self.top]}


def _finite(value: Any, floor: float = -9999.0) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return floor
    return number if math.isfinite(number) else floor


def tokens_from_openai(logprobs: Mapping[str, Any] | None) -> tuple[TokenLogprob, ...] | None:
    """A chat completion's ``choices[i].logprobs`` (OpenAI's and vLLM's shape: ``{"content": [{"token",
    "logprob", "bytes", "top_logprobs": [{"token", "logprob", "bytes"}]}]}``) as tokens; None without any.

    >>> tokens_from_openai({"content": [{"token": "7", "logprob": -0.5, "bytes": [55],
    ...                                  "top_logprobs": [{"token": "7", "logprob": -0.5}, {"token": "1", "logprob": -1.2}]}]})
    (TokenLogprob(text='7', logprob=-0.5, top=(('7', -0.5), ('1', -1.2))),)
    >>> tokens_from_openai(None), tokens_from_openai({"content": None})
    (None, None)
    """
    if not isinstance(logprobs, Mapping):
        return None
    content = logprobs.get("content")
    if not isinstance(content, list) or not content:
        return None
    out = []
    for entry in content:
        if not isinstance(entry, Mapping):
            return None
        top = tuple((str(t.get("token", "")), _finite(t.get("logprob"))) for t in entry.get("top_logprobs") or ()
                    if isinstance(t, Mapping))
        out.append(TokenLogprob(str(entry.get("token", "")), _finite(entry.get("logprob")), top))
    return tuple(out)


def token_spans(text: str, tokens: Sequence[TokenLogprob]) -> list[tuple[int, int] | None]:
    """``(start, end)`` of each token's text in ``text``, in order; None for a token that cannot be placed."""
    spans: list[tuple[int, int] | None] = []
    position = 0
    pending = 0  # tokens since the last one placed (their characters lie before the next placed one)
    for token in tokens:
        piece = token.text
        if not piece:
            spans.append(None)
            continue
        if text.startswith(piece, position):
            spans.append((position, position + len(piece)))
            position += len(piece)
            pending = 0
            continue
        if "\ufffd" not in piece and pending:
            found = text.find(piece, position, position + _LOOKAHEAD * pending + len(piece))
            if found >= 0:
                spans.append((found, found + len(piece)))
                position = found + len(piece)
                pending = 0
                continue
        spans.append(None)
        pending += 1
    return spans

"""How sure the model was of each coordinate it wrote: the log-probabilities of its digit tokens.

For one coordinate written as ``"345"``, each digit came from a token; the token's log-probability
says how sure the model was, and the other likely tokens at that step say what it might have
written instead. A "3" that might have been an "8" in the hundreds place is a large error; in the
units place it is not. So for each token the **expected absolute error** is::

    sum over the alternatives a shown:  p(a) * |value with a - value written|
    + the probability left to tokens not shown  *  (mean distance to another digit) * place value

where an alternative that does not keep the number's shape (a comma that would end it early, a
token of another length) counts as half a decade at that place (5 x place value). A coordinate's
expected error is the sum over its tokens (at most one digit is assumed wrong at a time); digits
after a decimal point and exponents (``1e2``) get their place values too. Coordinates are in the
model's units here (resized pixels or 0-1000); :mod:`grounding.confidence.signals` converts them.

>>> from grounding.confidence.tokens import TokenLogprob, token_spans
>>> text = "[345, 12]"
>>> tokens = [TokenLogprob("[", 0.0), TokenLogprob("3", -0.05, (("3", -0.05), ("8", -3.0))),
...           TokenLogprob("4", -0.01), TokenLogprob("5", -0.7, (("5", -0.7), ("6", -0.9))),
...           TokenLogprob(", ", 0.0), TokenLogprob("12", -0.02), TokenLogprob("]", 0.0)]
>>> found = number_signals(text, [(1, 4), (6, 8)], tokens, token_spans(text, tokens))
>>> round(found[0].error, 1), round(found[0].logprob_min, 2), found[1].tokens      # 0.05 x 500 for the "8", ...
(25.8, -0.7, (5,))
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass

from grounding.confidence.tokens import TokenLogprob

__all__ = ["NumberSignals", "number_signals", "place_values"]

_MID = 5.0
"""An alternative that breaks the number counts as half a decade at the token's highest place."""


def _mean_distance(digit: int) -> float:
    """Mean |d' - digit| over the nine other digits."""
    return sum(abs(other - digit) for other in range(10) if other != digit) / 9


@dataclass(frozen=True)
class NumberSignals:
    """One written coordinate: its digit tokens (indices), their lowest and mean log-probability, and its
    expected absolute error in the model's units."""

    tokens: tuple[int, ...]
    logprob_min: float
    logprob_mean: float
    error: float


def place_values(number: str) -> dict[int, float]:
    """Offset of each digit in ``number`` (as written) -> its place value.

    >>> place_values("345"), place_values("-1.25"), place_values("1e2")
    ({0: 100.0, 1: 10.0, 2: 1.0}, {1: 1.0, 3: 0.1, 4: 0.01}, {0: 100.0})
    """
    mantissa, exponent = number, 0
    for marker in ("e", "E"):
        if marker in number:
            mantissa, _, tail = number.partition(marker)
            try:
                exponent = int(tail)
            except ValueError:
                exponent = 0
            break
    point = mantissa.find(".")
    integer_end = point if point >= 0 else len(mantissa)
    digits = [i for i in range(integer_end) if mantissa[i].isdigit()]
    places: dict[int, float] = {}
    for rank, i in enumerate(digits):
        places[i] = 10.0 ** (len(digits) - 1 - rank + exponent)
    if point >= 0:
        fraction = [i for i in range(point + 1, len(mantissa)) if mantissa[i].isdigit()]
        for rank, i in enumerate(fraction, start=1):
            places[i] = 10.0 ** (exponent - rank)
    return places


def _token_error(token: TokenLogprob, piece: str, places: dict[int, float]) -> float:
    """Expected absolute error a token adds to a number; ``places`` maps offsets in ``piece`` to place values."""
    top_place = max(places.values())
    error = 0.0
    shown = math.exp(min(token.logprob, 0.0))
    for alternative, logprob in token.top:
        if alternative == token.text:
            continue
        p = math.exp(min(logprob, 0.0))
        shown += p
        same_shape = len(alternative) == len(piece) and all(
            (alternative[k].isdigit() if k in places else alternative[k] == piece[k]) for k in range(len(piece)))
        if same_shape:
            error += p * abs(sum((int(alternative[k]) - int(piece[k])) * place for k, place in places.items()))
        else:
            error += p * _MID * top_place
    highest = max(places, key=lambda k: places[k])
    error += max(0.0, 1.0 - shown) * _mean_distance(int(piece[highest])) * top_place
    return error


def number_signals(text: str, spans: Sequence[tuple[int, int]], tokens: Sequence[TokenLogprob],
                   placed: Sequence[tuple[int, int] | None]) -> list[NumberSignals | None]:
    """Signals of each number span in ``text`` from the tokens that wrote its digits (``placed``: each
    token's span, :func:`~grounding.confidence.tokens.token_spans`); None for a number some digit of which
    no token can be traced to."""
    starts = [(span[0], span[1], index) for index, span in enumerate(placed) if span is not None and span[1] > span[0]]
    starts.sort()
    begins = [s for s, _, _ in starts]
    out: list[NumberSignals | None] = []
    for start, end in spans:
        written = text[start:end]
        places = place_values(written)
        by_token: dict[int, dict[int, float]] = {}
        complete = True
        for offset, place in places.items():
            at = start + offset
            k = bisect.bisect_right(begins, at) - 1
            if k < 0 or not (starts[k][0] <= at < starts[k][1]):
                complete = False
                break
            token_start, _, index = starts[k]
            by_token.setdefault(index, {})[at - token_start] = place
        if not complete or not by_token:
            out.append(None)
            continue
        error = 0.0
        for index, token_places in by_token.items():
            span = placed[index]
            assert span is not None
            error += _token_error(tokens[index], text[span[0]:span[1]], token_places)
        logprobs = [tokens[index].logprob for index in by_token]
        out.append(NumberSignals(tuple(sorted(by_token)), min(logprobs), sum(logprobs) / len(logprobs), error))
    return out

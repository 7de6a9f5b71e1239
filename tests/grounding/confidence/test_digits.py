"""Token log-probabilities to per-box numbers: placement of tokens, place values, expected error, conversion."""

from __future__ import annotations

import math

import pytest

from grounding import PixelLimits, process_size
from grounding.confidence import TokenLogprob, box_signals, raw_score, token_spans, tokens_from_openai
from grounding.confidence.digits import number_signals, place_values
from grounding.parse import parse_grounding


def char_tokens(text, overrides=None, logprob=-0.01):
    """One token per character (as Qwen's tokenizers split digits), with chosen ones overridden."""
    overrides = overrides or {}
    return [overrides.get(i, TokenLogprob(c, logprob)) for i, c in enumerate(text)]


def test_the_hundreds_place_weighs_a_hundred_times_the_units():
    text = "[345]"
    top = (("3", math.log(0.9)), ("8", math.log(0.1)))
    hundreds = number_signals(text, [(1, 4)], char_tokens(text, {1: TokenLogprob("3", math.log(0.9), top)}, 0.0),
                              token_spans(text, char_tokens(text)))[0]
    units_top = (("5", math.log(0.9)), ("0", math.log(0.1)))
    units = number_signals(text, [(1, 4)], char_tokens(text, {3: TokenLogprob("5", math.log(0.9), units_top)}, 0.0),
                           token_spans(text, char_tokens(text)))[0]
    assert hundreds.error == pytest.approx(0.1 * 500)
    assert units.error == pytest.approx(0.1 * 5)
    assert hundreds.logprob_min == pytest.approx(math.log(0.9))


def test_probability_not_shown_counts_as_a_random_other_digit():
    text = "[7]"
    tokens = char_tokens(text, {1: TokenLogprob("7", math.log(0.6))}, 0.0)
    (found,) = number_signals(text, [(1, 2)], tokens, token_spans(text, tokens))
    mean_distance = sum(abs(d - 7) for d in range(10) if d != 7) / 9
    assert found.error == pytest.approx(0.4 * mean_distance)


def test_an_alternative_that_ends_the_number_counts_half_a_decade():
    text = "[45]"
    top = (("4", math.log(0.7)), (",", math.log(0.3)))
    tokens = char_tokens(text, {1: TokenLogprob("4", math.log(0.7), top)}, 0.0)
    (found,) = number_signals(text, [(1, 3)], tokens, token_spans(text, tokens))
    assert found.error == pytest.approx(0.3 * 5 * 10)


def test_a_token_holding_several_digits_compares_whole_values():
    text = "[345]"
    tokens = [TokenLogprob("[", 0.0), TokenLogprob("34", math.log(0.5), (("34", math.log(0.5)), ("36", math.log(0.5)))),
              TokenLogprob("5]", 0.0)]
    (found,) = number_signals(text, [(1, 4)], tokens, token_spans(text, tokens))
    assert found.error == pytest.approx(0.5 * 20)
    assert found.tokens == (1, 2)


def test_place_values():
    assert place_values("0.25") == {0: 1.0, 2: 0.1, 3: 0.01}
    assert place_values("+12") == {1: 10.0, 2: 1.0}


def test_errors_are_in_original_pixels_per_axis():
    # a 0-1000 family: one unit of x is width/1000 original pixels, one unit of y height/1000
    image = process_size((2000, 500), "qwen3-vl")
    text = '[{"bbox_2d": [100, 100, 200, 200], "label": "a"}]'
    start = text.index("100")
    top_x = (("1", math.log(0.5)), ("2", math.log(0.5)))
    tokens = char_tokens(text, {start: TokenLogprob("1", math.log(0.5), top_x)}, 0.0)
    (signals,) = box_signals(text, parse_grounding(text, "qwen3-vl", image).detections, [image], tokens=tokens)
    assert signals["error_max_px"] == pytest.approx(0.5 * 100 * 2000 / 1000)
    assert signals["error_px"] == pytest.approx(0.5 * 100 * 2 / 4)
    start_y = text.index("100", start + 3)
    tokens = char_tokens(text, {start_y: TokenLogprob("1", math.log(0.5), top_x)}, 0.0)
    (signals,) = box_signals(text, parse_grounding(text, "qwen3-vl", image).detections, [image], tokens=tokens)
    assert signals["error_max_px"] == pytest.approx(0.5 * 100 * 500 / 1000)


def test_boxes_on_one_line_get_their_own_tokens():
    image = process_size((1000, 1000), "qwen2.5-vl", PixelLimits(3136, 1000 * 1000))
    text = '[{"bbox_2d": [10, 20, 30, 40], "label": "a 1"}, {"bbox_2d": [10, 20, 30, 41], "label": "a 2"}]'
    weak = text.rindex("41") + 1
    tokens = char_tokens(text, {weak: TokenLogprob("1", -3.0)})
    first, second = box_signals(text, parse_grounding(text, "qwen2.5-vl", image).detections, [image], tokens=tokens)
    assert first["logprob_min"] == pytest.approx(-0.01)
    assert second["logprob_min"] == pytest.approx(-3.0)
    assert raw_score(second) < raw_score(first)


def test_tokens_from_a_vllm_answer_keep_the_chosen_one_and_the_top():
    tokens = tokens_from_openai({"content": [
        {"token": "[", "logprob": -0.0, "bytes": [91], "top_logprobs": []},
        {"token": "4", "logprob": -9999.0, "bytes": [52], "top_logprobs": [{"token": "5", "logprob": -0.1, "bytes": [53]}]}]})
    assert tokens[1].logprob == -9999.0 and tokens[1].top == (("5", -0.1),)
    assert tokens_from_openai({"content": "nonsense"}) is None


def test_without_tokens_only_structure():
    image = process_size((640, 480), "qwen2.5-vl")
    text = '[{"bbox_2d": [0, 0, 100, 100], "label": "a"}]'
    (signals,) = box_signals(text, parse_grounding(text, "qwen2.5-vl", image).detections, [image])
    assert signals["logprobs"] is False and "logprob_min" not in signals and signals["border"] is True
    assert raw_score(signals) == 1.0

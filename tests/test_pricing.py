"""Prices as cited data, costs from estimates and from real usage, the context check."""

from __future__ import annotations

import pytest

import mimo_nb as mn
from mimo_nb.core.pricing import (
    check_context,
    context_length,
    cost_from_usage,
    estimate_text_tokens,
)

SPEC_USAGE = {  # the spec page's example response
    "completion_tokens": 849,
    "prompt_tokens": 1260,
    "total_tokens": 2109,
    "completion_tokens_details": {"reasoning_tokens": 719},
    "prompt_tokens_details": {"audio_tokens": 19, "cached_tokens": 1256, "video_tokens": 1144},
}


def test_shipped_prices_are_cited_and_dated():
    p = mn.load_prices("mimo-v2.5", "CNY")
    assert (p.input, p.cached_input, p.output) == (1.0, 0.02, 2.0)
    assert p.as_of == "2026-05-27"
    assert "third party" in p.source
    assert "CNY" in p.citation and "2026-05-27" in p.citation


def test_unknown_prices_say_how_to_pass_your_own():
    with pytest.raises(mn.LimitError, match="Prices\\(input="):
        mn.load_prices("mimo-v9", "EUR")


def test_cost_from_usage_bills_cached_tokens_at_the_cached_rate():
    prices = mn.Prices(input=1.0, cached_input=0.02, output=2.0, currency="CNY")
    cost = cost_from_usage(SPEC_USAGE, prices)
    assert (cost.input_tokens, cost.cached_tokens, cost.output_tokens) == (4, 1256, 849)
    expected = (4 * 1.0 + 1256 * 0.02 + 849 * 2.0) / 1e6
    assert cost.total == pytest.approx(expected)
    assert "CNY" in str(cost) and "<table" in cost._repr_html_()


def test_reasoning_tokens_are_billed_as_output():
    prices = mn.Prices(input=0, cached_input=0, output=1.0)
    assert cost_from_usage(SPEC_USAGE, prices).total == pytest.approx(849 / 1e6)


def test_estimate_cost_takes_a_breakdown_or_a_count():
    prices = mn.Prices(input=1.0, cached_input=0.5, output=2.0, currency="USD")
    b = mn.explain_video_tokens(60, 1920, 1080)
    by_breakdown = mn.estimate_cost(b, prices, output_tokens=1000)
    by_count = mn.estimate_cost(17240, prices, output_tokens=1000)
    assert by_breakdown.total == by_count.total == pytest.approx((17240 + 2000) / 1e6)
    half_cached = mn.estimate_cost(b, prices, cached_tokens=17240)
    assert half_cached.total == pytest.approx(17240 * 0.5 / 1e6)
    with pytest.raises(mn.LimitError):
        mn.estimate_cost(100, prices, cached_tokens=101)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), "1"])
def test_prices_refuse_nonsense(bad):
    with pytest.raises(mn.LimitError):
        mn.Prices(input=bad, cached_input=0, output=0)


def test_context_check_fits_and_misses_by_how_much():
    b = mn.explain_video_tokens(600, 1920, 1080, fps=10, media_resolution="max")
    check = check_context(
        [b, b], text="describe", model="mine", output_tokens=1024, context_lengths={"mine": 200_000}
    )
    assert check.needed == 2 * b.total + 2 + 1024
    assert check.fits is False and check.over_by == check.needed - 200_000
    with pytest.raises(mn.ContextLengthError, match="too many") as info:
        check.raise_if_over()
    assert info.value.limit == 200_000 and isinstance(info.value, mn.LimitError)
    ok = check_context([1000], model="mine", context_lengths={"mine": 200_000})
    assert ok.fits and ok.over_by == 0
    ok.raise_if_over()


def test_context_length_unknown_is_said_not_guessed():
    check = check_context([17240], model="mimo-v2.5")
    assert check.limit is None and check.fits is None
    assert "not on the vendor's page" in str(check)  # said, not guessed
    check.raise_if_over()  # an unknown limit is not an error
    assert context_length("mimo-v2.5[1m]") == 1_000_000


def test_text_token_estimate_counts_utf8_bytes():
    assert estimate_text_tokens("") == 0
    assert estimate_text_tokens("abcd") == 1
    assert estimate_text_tokens("视频") == 2  # 6 bytes

"""The arithmetic of quality against spend, against reference values worked out independently.

References: the Wilson interval's closed form as Newcombe (1998) writes it, "Two-sided confidence
intervals for the single proportion: comparison of seven methods", Statistics in Medicine 17,
857-872, eq. (3), and his Table II (method 3, to 4 decimals); the normal quantile z(0.975) =
1.959963984540054 (Abramowitz and Stegun, Table 26.5, to more places); McNemar's exact test as
the doubled binomial tail, summed here by hand with math.comb.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from mimo_nb.core.stats import (
    Comparison,
    SettingResult,
    compare,
    frontier,
    mcnemar_exact,
    paired_bootstrap,
    recommend,
    wilson_interval,
)
from mimo_nb.errors import LimitError

Z = 1.959963984540054  # z(0.975)


def newcombe_wilson(x: int, n: int) -> tuple[float, float]:
    """Newcombe's form: (2x + z^2 -+ z sqrt(z^2 + 4x(n - x)/n)) / (2(n + z^2))."""
    root = Z * math.sqrt(Z * Z + 4 * x * (n - x) / n)
    return (2 * x + Z * Z - root) / (2 * (n + Z * Z)), (2 * x + Z * Z + root) / (2 * (n + Z * Z))


@pytest.mark.parametrize(("x", "n"), [(8, 10), (0, 10), (10, 10), (50, 100)])
def test_wilson_matches_the_closed_form_to_1e_9(x, n):
    low, high = newcombe_wilson(x, n)
    interval = wilson_interval(x, n)
    assert interval.estimate == x / n
    assert interval.low == pytest.approx(max(low, 0.0), abs=1e-9)
    assert interval.high == pytest.approx(min(high, 1.0), abs=1e-9)


def test_wilson_hand_worked_values():
    z2 = Z * Z  # 3.8414588206941245
    # 0/10: the bounds are 0 and z^2 / (n + z^2); 10/10 mirrors it
    assert wilson_interval(0, 10).low == 0.0
    assert wilson_interval(0, 10).high == pytest.approx(z2 / (10 + z2), abs=1e-9)
    assert wilson_interval(0, 10).high == pytest.approx(0.2775327999, abs=1e-9)
    assert wilson_interval(10, 10).low == pytest.approx(10 / (10 + z2), abs=1e-9)
    assert wilson_interval(10, 10).high == 1.0
    # 8/10: centre (8 + z^2/2) / (10 + z^2), half-width z sqrt(1.6 + z^2/4) / (10 + z^2)
    centre, half = (8 + z2 / 2) / (10 + z2), Z * math.sqrt(1.6 + z2 / 4) / (10 + z2)
    eight = wilson_interval(8, 10)
    assert (eight.low, eight.high) == pytest.approx((centre - half, centre + half), abs=1e-9)
    assert (eight.low, eight.high) == pytest.approx((0.4901624715, 0.9433178485), abs=1e-9)
    # 50/100: symmetric about 1/2, half-width z sqrt(25 + z^2/4) / (100 + z^2)
    half = Z * math.sqrt(25 + z2 / 4) / (100 + z2)
    fifty = wilson_interval(50, 100)
    assert (fifty.low, fifty.high) == pytest.approx((0.5 - half, 0.5 + half), abs=1e-9)


@pytest.mark.parametrize(
    ("x", "n", "low", "high"),
    [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_matches_newcombes_published_table(x, n, low, high):
    interval = wilson_interval(x, n)
    assert (round(interval.low, 4), round(interval.high, 4)) == (low, high)


def test_wilson_other_confidence_and_no_tasks():
    z90 = 1.6448536269514722  # z(0.95)
    x, n = 8, 10
    root = z90 * math.sqrt(z90 * z90 + 4 * x * (n - x) / n)
    wide = wilson_interval(x, n, confidence=0.9)
    assert wide.low == pytest.approx((2 * x + z90 * z90 - root) / (2 * (n + z90 * z90)), abs=1e-9)
    empty = wilson_interval(0, 0)
    assert (empty.low, empty.high) == (0.0, 1.0) and math.isnan(empty.estimate)
    assert "no tasks" in empty.note
    with pytest.raises(LimitError, match="successes must be a whole number >= 0 and <= 10"):
        wilson_interval(11, 10)
    with pytest.raises(LimitError, match="confidence must be below 1"):
        wilson_interval(1, 2, confidence=1)
    with pytest.raises(LimitError, match="confidence must be a positive"):
        wilson_interval(1, 2, confidence=0)


def doubled_binomial_tail(b: int, c: int) -> float:
    n = b + c
    return min(1.0, 2 * sum(math.comb(n, k) for k in range(min(b, c) + 1)) / 2**n)


@pytest.mark.parametrize(
    ("b", "c", "p"),
    [
        (0, 5, 2 * 1 / 32),  # 0.0625
        (2, 8, 2 * (1 + 10 + 45) / 1024),  # 0.109375
        (10, 10, 1.0),  # 2 P(X <= 10), X ~ Bin(20, 1/2), is above 1
        (1, 0, 1.0),  # 2 P(X <= 0), X ~ Bin(1, 1/2) = 2 * 1/2
        (0, 0, 1.0),  # no discordant task
    ],
)
def test_mcnemar_exact_against_hand_summed_binomial_tails(b, c, p):
    assert mcnemar_exact(b, c) == p == doubled_binomial_tail(b, c)
    assert mcnemar_exact(c, b) == p  # two-sided: symmetric


def test_mcnemar_exact_is_exact_far_out_in_the_tail():
    assert mcnemar_exact(0, 60) == 2.0**-59
    assert mcnemar_exact(3, 40) == pytest.approx(doubled_binomial_tail(3, 40), rel=1e-15)
    with pytest.raises(LimitError, match="b must be a whole number >= 0"):
        mcnemar_exact(-1, 3)


def simulated_pair(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Two settings on the same n tasks, correlated: a is right on 80% of them, b on 60% that a
    also gets and 5% that a misses. True difference: 0.8 - (0.6 + 0.05) = 0.15."""
    u = rng.random(n)
    a = u < 0.8
    b = (u < 0.6) | (u >= 0.95)  # P(b) = 0.6 + 0.05 = 0.65
    return a, b


def test_paired_bootstrap_is_deterministic_with_its_seed():
    a, b = simulated_pair(np.random.default_rng(7), 200)
    first = paired_bootstrap(list(a), list(b), seed=3)
    assert paired_bootstrap(list(a), list(b), seed=3) == first
    assert paired_bootstrap(list(a), list(b), seed=4) != first
    assert first.estimate == pytest.approx(a.mean() - b.mean())
    assert "10,000 resamples, seed 3" in first.method


def test_paired_bootstrap_covers_the_true_difference():
    a, b = simulated_pair(np.random.default_rng(1), 400)
    interval = paired_bootstrap(a.tolist(), b.tolist())
    assert interval.low < 0.15 < interval.high
    assert interval.low > 0  # a is really better, and 400 tasks show it
    covered = 0
    rng = np.random.default_rng(2)
    for seed in range(200):
        a, b = simulated_pair(rng, 150)
        one = paired_bootstrap(a.tolist(), b.tolist(), n_resamples=2000, seed=seed)
        covered += one.low <= 0.15 <= one.high
    assert 0.88 <= covered / 200 <= 0.99  # about 95% of the intervals hold the truth


def test_paired_bootstrap_draws_the_same_distribution_as_resampling_task_indices():
    a, b = simulated_pair(np.random.default_rng(5), 120)
    ours = paired_bootstrap(a.tolist(), b.tolist(), n_resamples=20000)
    index = np.random.default_rng(9).integers(0, 120, size=(20000, 120))
    naive = (a[index].mean(axis=1)) - (b[index].mean(axis=1))
    assert ours.low == pytest.approx(np.quantile(naive, 0.025), abs=0.01)
    assert ours.high == pytest.approx(np.quantile(naive, 0.975), abs=0.01)


def test_paired_bootstrap_edges():
    same = paired_bootstrap([True, False, None], [True, False, False])  # None counts as wrong
    assert (same.estimate, same.low, same.high) == (0.0, 0.0, 0.0)
    with pytest.raises(LimitError, match="a has 2 and b has 3"):
        paired_bootstrap([True, True], [True, True, False])
    with pytest.raises(LimitError, match="at least one task"):
        paired_bootstrap([], [])
    with pytest.raises(LimitError, match="True, False or None per task"):
        paired_bootstrap([True, 2], [True, False])


T, F = True, False


def setting(label: str, right: int, total: int, tokens: float, cost: float | None = None):
    return SettingResult(label, (T,) * right + (F,) * (total - right), tokens, cost)


def test_recommend_passes_over_a_cheapest_setting_that_is_significantly_worse():
    runs = [
        setting("fps=2", 36, 40, 1800.0, 0.90),
        setting("fps=1", 34, 40, 900.0, 0.45),
        setting("fps=0.25", 20, 40, 225.0, 0.11),
    ]
    chosen = recommend(runs)
    assert (chosen.setting, chosen.best) == ("fps=1", "fps=2")
    # fps=0.25 missed 16 tasks fps=2 got, and got none it missed: p = 2 / 2^16
    assert chosen.comparisons == (
        Comparison("fps=2", "fps=0.25", 16, 0, 2 / 2**16),
        Comparison("fps=2", "fps=1", 2, 0, 0.5),
    )
    assert "fps=0.25 (p = 3.05e-05)" in chosen.reason
    assert "not significantly below the best's" in chosen.reason
    assert "McNemar's exact test, two-sided, alpha 0.05, on 40 paired tasks" in chosen.reason
    assert "by cost" in chosen.reason


def test_recommend_takes_the_cheapest_when_it_is_not_significantly_worse():
    runs = [setting("max", 30, 40, 7000.0), setting("default", 28, 40, 1000.0)]
    chosen = recommend(runs)
    assert chosen.setting == "default"
    assert "by mean tokens per task" in chosen.reason  # no costs given
    assert "not proof of as good" in chosen.reason


def test_recommend_keeps_the_best_when_every_cheaper_one_is_worse():
    runs = [setting("fps=4", 40, 40, 4000.0), setting("fps=1", 25, 40, 1000.0)]
    chosen = recommend(runs)
    assert chosen.setting == chosen.best == "fps=4"
    assert "Every cheaper one is significantly below it: fps=1" in chosen.reason
    assert recommend(runs, alpha=1e-9).setting == "fps=1"  # p = 2^-14 is not below 1e-9
    alone = recommend([setting("fps=1", 3, 4, 10.0)])
    assert alone.setting == "fps=1" and "No setting is cheaper" in alone.reason


def test_recommend_within_passes_over_a_cheap_setting_too_far_below_on_few_tasks():
    # 6 tasks: fps=0.5 misses 3 that fps=2 gets; p = 2/2^3 = 0.25 lets it through at alpha 0.05
    runs = [setting("fps=2", 6, 6, 800.0), setting("fps=1", 5, 6, 400.0)]
    runs.append(setting("fps=0.5", 3, 6, 200.0))
    assert recommend(runs).setting == "fps=0.5"
    chosen = recommend(runs, within=0.2)  # 50 points below: passed over; fps=1 is 16.7 below
    assert (chosen.setting, chosen.best) == ("fps=1", "fps=2")
    assert "and at most 20.0% below it" in chosen.reason
    assert "fps=0.5 (p = 0.25, but 50.0% below the best)" in chosen.reason
    # the margin is counted in whole tasks: 1 of 6 is exactly within 1/6, not rounded away
    assert recommend(runs, within=1 / 6).setting == "fps=1"
    assert recommend(runs, within=0.1).setting == "fps=2"
    with pytest.raises(LimitError, match="within"):
        recommend(runs, within=-0.1)


def test_recommend_compares_paired_outcomes_not_totals():
    # Same totals, but the two settings get opposite halves right: 10 tasks each way
    one = SettingResult("a", (T,) * 10 + (F,) * 10, 100.0)
    two = SettingResult("b", (F,) * 10 + (T,) * 10, 50.0)
    assert compare(one, two) == Comparison("a", "b", 10, 10, 1.0)
    assert recommend([one, two]).setting == "b"


def test_frontier_keeps_what_nothing_beats_on_accuracy_and_spend():
    runs = [
        setting("fps=0.5", 20, 40, 200.0),
        setting("fps=1", 30, 40, 400.0),
        setting("fps=1 high", 28, 40, 600.0),  # dearer than fps=1 and less accurate
        setting("fps=2", 30, 40, 800.0),  # dearer than fps=1 and no better
        setting("fps=4", 33, 40, 1600.0),
    ]
    assert [s.label for s in frontier(runs)] == ["fps=0.5", "fps=1", "fps=4"]


def test_settings_must_share_their_tasks_and_labels():
    with pytest.raises(LimitError, match="same tasks.*a: 3, b: 2"):
        recommend([setting("a", 1, 3, 1.0), setting("b", 1, 2, 1.0)])
    with pytest.raises(LimitError, match="distinct labels"):
        frontier([setting("a", 1, 3, 1.0), setting("a", 1, 3, 2.0)])
    with pytest.raises(LimitError, match="no settings"):
        recommend([])
    with pytest.raises(LimitError, match="mean_tokens must be a finite number >= 0"):
        setting("a", 1, 3, -1.0)


def test_a_setting_reads_its_outcomes():
    result = SettingResult("x", [True, None, False, np.True_], 10.0)  # type: ignore[arg-type]
    assert result.outcomes == (True, None, False, True)
    assert (result.correct, result.total) == (2, 4)
    assert result.interval == wilson_interval(2, 4)

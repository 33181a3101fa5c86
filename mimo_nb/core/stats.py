"""The arithmetic of quality against spend: intervals, paired tests, the frontier, the choice.

Every setting of a sweep answers the same tasks, so settings are compared *paired*, task by task:

- :func:`wilson_interval`: a proportion's Wilson score interval (good near 0 and 1 and for few
  tasks, where the textbook ``p ± z·se`` interval fails);
- :func:`mcnemar_exact`: McNemar's exact test, two-sided, on the tasks only one of two settings
  got right;
- :func:`paired_bootstrap`: a percentile interval for the difference in accuracy;
- :func:`frontier`: the settings no other setting beats on both accuracy and spend;
- :func:`recommend`: the cheapest setting whose accuracy is not significantly below the best's,
  with the rule and the numbers in words.

A per-task outcome is ``True`` (right), ``False`` (wrong) or ``None`` (no answer could be read,
see :class:`~mimo_nb.core.scoring.Score`); ``None`` counts as not right.

>>> wilson_interval(8, 10).text()
'80.0% (95% CI 49.0%-94.3%, Wilson score)'
>>> mcnemar_exact(2, 8)
0.109375

Pure: numpy, the standard library and the error classes; no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from statistics import NormalDist

import numpy as np

from mimo_nb.core import validate
from mimo_nb.errors import LimitError

__all__ = [
    "Interval",
    "SettingResult",
    "Comparison",
    "Recommendation",
    "wilson_interval",
    "mcnemar_exact",
    "paired_bootstrap",
    "compare",
    "frontier",
    "recommend",
]


@dataclass(frozen=True)
class Interval:
    """An estimate with its confidence interval, and how the interval was made."""

    estimate: float
    low: float
    high: float
    confidence: float
    method: str
    note: str = ""

    def text(self) -> str:
        """One line in percent: ``'80.0% (95% CI 49.0%-94.3%, Wilson score)'``."""
        line = (
            f"{_percent(self.estimate)} ({self.confidence:.0%} CI "
            f"{_percent(self.low)}-{_percent(self.high)}, {self.method})"
        )
        return f"{line}; {self.note}" if self.note else line


def _percent(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.1%}"


def _confidence(confidence: float) -> float:
    """A confidence level, strictly between 0 and 1."""
    value = float(
        validate.number("confidence", confidence, above=0, maximum=1, hint="(0.95 is 95%)")
    )
    if value == 1:
        raise LimitError(
            "confidence must be below 1 (a 100% interval is all of [0, 1]); got 1. "
            "Use 0.95 for 95%."
        )
    return value


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> Interval:
    """The Wilson score interval for ``successes`` out of ``n`` (Wilson 1927).

    With ``z`` the normal quantile for ``confidence`` and ``p = successes / n``, the bounds are
    ``(p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)``; 0 and ``n`` successes give the
    exact bounds 0 and 1. ``n = 0`` is no evidence: the interval is the whole range ``[0, 1]``
    and the estimate NaN, with a note saying so (a sweep's table shows every setting, even one
    with nothing scored, rather than failing).

    >>> wilson_interval(0, 0).text()
    'n/a (95% CI 0.0%-100.0%, Wilson score); no tasks: no evidence either way'
    """
    n = validate.non_negative_int("n", n)
    successes = validate.non_negative_int("successes", successes, maximum=n)
    confidence = _confidence(confidence)
    method = "Wilson score"
    if n == 0:
        return Interval(math.nan, 0.0, 1.0, confidence, method, "no tasks: no evidence either way")
    z = NormalDist().inv_cdf((1 + confidence) / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return Interval(p, low, high, confidence, method)


def mcnemar_exact(b: int, c: int) -> float:
    """McNemar's exact test, two-sided: the p-value that two paired settings are equally good,
    from ``b`` tasks only the first got right and ``c`` only the second did.

    Under equal accuracy each of the ``b + c`` discordant tasks goes either way with
    probability 1/2, so ``p = min(1, 2 · P(X <= min(b, c)))`` with ``X ~ Binomial(b + c,
    1/2)``, summed exactly in integers. ``b + c = 0`` (no task tells them apart) gives 1.

    >>> mcnemar_exact(0, 5)
    0.0625
    >>> mcnemar_exact(10, 10)
    1.0
    """
    b = validate.non_negative_int("b", b)
    c = validate.non_negative_int("c", c)
    n = b + c
    tail = sum(math.comb(n, k) for k in range(min(b, c) + 1))
    return min(1.0, float(Fraction(2 * tail, 2**n)))


def _outcomes(name: str, values: Iterable[bool | None]) -> np.ndarray:
    """Per-task outcomes as a 0/1 int64 array (``None`` counts as 0)."""
    listed = [0 if value is None else value for value in values]
    data = np.asarray(listed)
    data = data.astype(np.int64) if data.dtype == np.bool_ else data
    return validate.array(
        name, data, minimum=0, maximum=1, integer=True, hint="(True, False or None per task)"
    )


def _paired(a: Iterable[bool | None], b: Iterable[bool | None]) -> tuple[np.ndarray, np.ndarray]:
    first, second = _outcomes("a", a), _outcomes("b", b)
    if first.shape != second.shape:
        raise LimitError(
            f"paired outcomes need the same tasks: a has {first.size} and b has {second.size}. "
            "Score both settings on the same tasks, in the same order."
        )
    return first, second


def paired_bootstrap(
    a: Iterable[bool | None],
    b: Iterable[bool | None],
    n_resamples: int = 10000,
    seed: int = 0,
    confidence: float = 0.95,
) -> Interval:
    """The difference in accuracy ``acc(a) - acc(b)`` on the same tasks, with a percentile
    bootstrap interval: tasks are resampled with replacement, each keeping its pair of
    outcomes, ``n_resamples`` times, drawn with numpy's ``Generator`` seeded by ``seed`` (the
    same inputs and seed give the same interval). A resample is drawn as multinomial counts of
    the tasks' differences (-1, 0, 1), which is the same distribution as drawing task indices
    and takes memory independent of the number of tasks.

    >>> paired_bootstrap([True] * 8 + [False] * 2, [True] * 5 + [False] * 5).text()
    '30.0% (95% CI 0.0%-60.0%, paired bootstrap, 10,000 resamples, seed 0)'
    """
    first, second = _paired(a, b)
    n_resamples = validate.positive_int("n_resamples", n_resamples)
    seed = validate.non_negative_int("seed", seed)
    confidence = _confidence(confidence)
    if first.size == 0:
        raise LimitError("paired_bootstrap needs at least one task; a and b are empty.")
    values, counts = np.unique(first - second, return_counts=True)
    draws = np.random.default_rng(seed).multinomial(first.size, counts / first.size, n_resamples)
    differences = draws @ values / first.size
    tail = (1 - confidence) / 2
    low, high = np.quantile(differences, [tail, 1 - tail])
    method = f"paired bootstrap, {n_resamples:,} resamples, seed {seed}"
    return Interval(float(np.mean(first - second)), float(low), float(high), confidence, method)


@dataclass(frozen=True)
class SettingResult:
    """One setting's outcomes on the sweep's tasks (the same tasks, in the same order, for every
    setting), its mean tokens per task and its cost (any one currency; ``None`` when unpriced,
    e.g. on a self-hosted server). ``outcomes`` are kept as ``True``/``False``/``None``."""

    label: str
    outcomes: tuple[bool | None, ...]
    mean_tokens: float
    cost: float | None = None

    def __post_init__(self) -> None:
        given = tuple(self.outcomes)
        _outcomes(f"outcome of {self.label}", given)  # each True, False, None, 1 or 0
        read = tuple(None if outcome is None else bool(outcome) for outcome in given)
        object.__setattr__(self, "outcomes", read)
        validate.non_negative(f"{self.label} mean_tokens", self.mean_tokens)
        validate.non_negative(f"{self.label} cost", self.cost, allow_none=True)

    @property
    def correct(self) -> int:
        """How many tasks it got right."""
        return sum(outcome is True for outcome in self.outcomes)

    @property
    def total(self) -> int:
        """How many tasks it answered (right, wrong or unreadable)."""
        return len(self.outcomes)

    @property
    def interval(self) -> Interval:
        """Its accuracy with the 95% Wilson score interval."""
        return wilson_interval(self.correct, self.total)


@dataclass(frozen=True)
class Comparison:
    """Two settings on the same tasks: how many only each got right, McNemar's exact p-value."""

    first: str
    second: str
    only_first: int
    only_second: int
    p_value: float


def compare(first: SettingResult, second: SettingResult) -> Comparison:
    """McNemar's exact test between two settings' outcomes on the same tasks.

    >>> one = SettingResult("fps=2", (True, True, False, True), 900.0)
    >>> two = SettingResult("fps=1", (True, False, False, False), 450.0)
    >>> compare(one, two)
    Comparison(first='fps=2', second='fps=1', only_first=2, only_second=0, p_value=0.5)
    """
    a, b = _paired(first.outcomes, second.outcomes)
    only_first, only_second = int(np.sum(a > b)), int(np.sum(b > a))
    p = mcnemar_exact(only_first, only_second)
    return Comparison(first.label, second.label, only_first, only_second, p)


def _by_cost(settings: Sequence[SettingResult]) -> bool:
    """Whether spend is cost (every setting has one) or else mean tokens per task."""
    return all(setting.cost is not None for setting in settings)


def _cheapest_first(settings: Sequence[SettingResult]) -> list[SettingResult]:
    """Cheapest first (by cost when every setting has one, else by mean tokens); at equal
    spend the more accurate first."""
    by_cost = _by_cost(settings)
    return sorted(
        settings,
        key=lambda s: ((s.cost or 0.0) if by_cost else 0.0, s.mean_tokens, -s.correct),
    )


def _checked(settings: Iterable[SettingResult]) -> list[SettingResult]:
    listed = list(settings)
    if not listed:
        raise LimitError("no settings given: pass one SettingResult per setting swept.")
    labels = [setting.label for setting in listed]
    if len(set(labels)) < len(labels):
        raise LimitError(f"settings need distinct labels; got {labels}.")
    totals = {setting.total for setting in listed}
    if len(totals) > 1 or 0 in totals:
        counts = ", ".join(f"{setting.label}: {setting.total}" for setting in listed)
        raise LimitError(
            f"settings must be scored on the same tasks, at least one; got {counts}. Compare "
            "settings on the same tasks, in the same order."
        )
    return listed


def frontier(settings: Iterable[SettingResult]) -> tuple[SettingResult, ...]:
    """The quality-against-spend Pareto frontier, cheapest first: the settings that no other
    setting matches or beats on accuracy at no more spend (cost, or mean tokens when a setting
    has no cost). Point estimates: the frontier describes; :func:`recommend` tests.

    >>> runs = [SettingResult("fps=0.5", (True, False, False), 200.0),
    ...         SettingResult("fps=1", (True, True, False), 400.0),
    ...         SettingResult("fps=2", (True, True, False), 800.0)]
    >>> [setting.label for setting in frontier(runs)]
    ['fps=0.5', 'fps=1']
    """
    kept: list[SettingResult] = []
    for setting in _cheapest_first(_checked(settings)):
        if not kept or setting.correct > kept[-1].correct:
            kept.append(setting)
    return tuple(kept)


@dataclass(frozen=True)
class Recommendation:
    """The setting to use (``setting``, a label), the best one it was tested against, and the
    rule with the numbers in words (``reason``). ``comparisons`` holds each cheaper-or-equal
    setting's test against the best, cheapest first."""

    setting: str
    best: str
    reason: str
    alpha: float
    comparisons: tuple[Comparison, ...] = ()


def recommend(
    settings: Iterable[SettingResult], *, alpha: float = 0.05, within: float | None = None
) -> Recommendation:
    """The cheapest setting whose accuracy is not significantly below the best's (and, given
    ``within``, at most ``within`` below it: a fraction, 0.05 is five points).

    The best is the most accurate setting (the cheaper one on a tie). Going from the cheapest
    up, each setting is compared with the best on the same tasks by McNemar's exact test; the
    first whose p-value is at least ``alpha`` is chosen (the best itself if every cheaper one
    is significantly below it). Each test is at ``alpha``, without a correction for several
    tests, so a cheap setting is never let through by the correction. Not significantly below
    is not the same as as good: with few tasks a real difference can go undetected, and the
    reason says how many tasks told the two apart. ``within`` guards against that: a setting
    whose accuracy (the point estimate) is more than ``within`` below the best's is passed over
    however large its p-value.

    >>> runs = [SettingResult("fps=0.5", (True,) * 6 + (False,) * 4, 200.0),
    ...         SettingResult("fps=2", (True,) * 8 + (False,) * 2, 800.0)]
    >>> recommend(runs).setting
    'fps=0.5'
    """
    alpha = float(validate.number("alpha", alpha, above=0, maximum=1, hint="(0.05 is 5%)"))
    within = validate.number("within", within, minimum=0, maximum=1, allow_none=True)
    ordered = _cheapest_first(_checked(settings))
    best = max(ordered, key=lambda s: s.correct)  # the first, so the cheapest, of the most accurate
    chosen, comparisons = best, []
    for setting in ordered[: ordered.index(best)]:
        comparisons.append(compare(best, setting))
        if comparisons[-1].p_value >= alpha and not _too_far(best, setting, within):
            chosen = setting
            break
    reason = _reason(chosen, best, comparisons, alpha, _by_cost(ordered), within)
    return Recommendation(chosen.label, best.label, reason, alpha, tuple(comparisons))


def _too_far(best: SettingResult, setting: SettingResult, within: float | None) -> bool:
    """Whether ``setting``'s accuracy is more than ``within`` below the best's, counted exactly;
    ``within`` is read as the nearest fraction with a denominator up to a million, so ``1 / 6``
    means one task in six, not a float just under it."""
    if within is None:
        return False
    margin = Fraction(within).limit_denominator(10**6)
    return Fraction(best.correct - setting.correct, best.total) > margin


def _reason(
    chosen: SettingResult,
    best: SettingResult,
    comparisons: list[Comparison],
    alpha: float,
    by_cost: bool,
    within: float | None = None,
) -> str:
    """The rule, the chosen setting's numbers and the cheaper settings that failed, in words."""
    margin = "" if within is None else f" and at most {within:.1%} below it"
    rule = (
        f"Rule: the cheapest setting (by {'cost' if by_cost else 'mean tokens per task'}) whose "
        "accuracy is not significantly below the best's (McNemar's exact test, two-sided, "
        f"alpha {alpha:g}, on {best.total} paired tasks){margin}."
    )
    below = [c for c in comparisons if c.second != chosen.label]
    failed = "; ".join(_failed(c, best, alpha) for c in below)
    how = "significantly below" if within is None else f"significantly or over {within:.1%} below"
    if chosen is best:
        cheaper = f" Every cheaper one is {how} it: {failed}." if failed else ""
        alone = "" if comparisons else " No setting is cheaper."
        return f"{rule} {best.label} is the best, {best.interval.text()}.{alone}{cheaper}"
    test = comparisons[-1]
    return (
        f"{rule} {chosen.label}: {chosen.interval.text()}, against the best, {best.label}: "
        f"{best.interval.text()}; p = {test.p_value:.3g} ({test.only_first} tasks only "
        f"{best.label} got right, {test.only_second} only {chosen.label})."
        + (f" Cheaper, and {how}: {failed}." if failed else "")
        + " Not significantly below is not proof of as good: with few tasks that tell them "
        "apart, a real difference can go undetected."
    )


def _failed(comparison: Comparison, best: SettingResult, alpha: float) -> str:
    """A cheaper setting passed over, and why: its p-value, or how far below the best it is."""
    p = f"p = {comparison.p_value:.3g}"
    if comparison.p_value < alpha:
        return f"{comparison.second} ({p})"
    gap = Fraction(comparison.only_first - comparison.only_second, best.total)
    return f"{comparison.second} ({p}, but {float(gap):.1%} below the best)"

"""Pacing to an account's quotas: at most N requests and T tokens in any window (a minute).

:class:`Pacer` is a sliding-window log: it remembers what it admitted in the last window and
admits the next request as soon as the request's tokens (and one request) fit beside them. It
is written here rather than taken from a library because the two rate limiters that fit an
asyncio program both admit too much against a "per minute" quota: ``aiolimiter`` is a leaky
bucket (a full bucket plus a minute of refill lets through twice the quota within one minute),
and ``limits``' moving window counts hits but cannot wait for room or weigh a request by its
tokens. A window log is exact, small, and weighs each request by what it will cost.

The log is kept in the client's clock, and the server counts a request when it *arrives*,
later by a varying delay; ``margin`` (seconds) widens the window so that a request which
arrived late at the server is still inside our window. Requests are admitted in order (first
come, first served), so a large request is never starved by small ones.

>>> pacer = Pacer(requests_per_minute=60, tokens_per_minute=100_000)
>>> ticket = await pacer.acquire(tokens=3_000)     # waits until the window has room
>>> pacer.settle(ticket, tokens=3_400)             # the truth was larger: count the truth
"""
from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable

from .errors import LimitError

__all__ = ["Pacer", "Ticket", "minimum_wall_time"]


@dataclass
class Ticket:
    """One admitted request as the window remembers it (``tokens`` may be raised by settle)."""

    at: float
    tokens: int


class Pacer:
    """Admit requests so that no window of ``window`` seconds holds more than the quotas.

    Args:
        requests_per_minute: at most this many requests per window (None: no request quota).
        tokens_per_minute: at most this many tokens per window (None: no token quota).
        window: the quota's period in seconds (60 for "per minute").
        margin: seconds added to the window, for the time a request takes to reach the server.
        clock: a monotonic clock (seconds); tests may pass their own.
    """

    def __init__(self, requests_per_minute: int | None = None, tokens_per_minute: int | None = None, *,
                 window: float = 60.0, margin: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        for name, value in (("requests_per_minute", requests_per_minute), ("tokens_per_minute", tokens_per_minute)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise LimitError(f"{name} must be a positive integer or None, got {value!r}.")
        if not window > 0:
            raise LimitError(f"window must be a positive number of seconds, got {window!r}.")
        self.requests_per_minute = requests_per_minute
        self.tokens_per_minute = tokens_per_minute
        self.window = float(window)
        # 2% of the window, at most a second: covers upload and scheduling delays without
        # costing a long run more than 2% of its time.
        self.margin = min(1.0, 0.02 * self.window) if margin is None else float(margin)
        self._clock = clock
        self._log: deque[Ticket] = deque()
        self._tokens = 0
        self._lock = asyncio.Lock()

    @property
    def limited(self) -> bool:
        """True when there is a quota to keep."""
        return self.requests_per_minute is not None or self.tokens_per_minute is not None

    def check(self, tokens: int) -> None:
        """Raise :class:`LimitError` if a request of ``tokens`` could never fit the token quota."""
        if self.tokens_per_minute is not None and tokens > self.tokens_per_minute:
            raise LimitError(
                f"one request needs about {tokens:,} tokens but the quota is {self.tokens_per_minute:,} tokens per "
                "window: it could never be sent. Lower fps or max_completion_tokens, or raise tokens_per_minute."
            )

    def _expire(self, now: float) -> None:
        span = self.window + self.margin
        while self._log and self._log[0].at <= now - span:
            self._tokens -= self._log.popleft().tokens

    def _fits(self, count: int, held: int, tokens: int) -> bool:
        return ((self.requests_per_minute is None or count + 1 <= self.requests_per_minute)
                and (self.tokens_per_minute is None or held + tokens <= self.tokens_per_minute))

    def _wait_needed(self, tokens: int, now: float) -> float:
        """Seconds until a request of ``tokens`` fits beside what the window holds (0: now)."""
        self._expire(now)
        count, held = len(self._log), self._tokens
        if self._fits(count, held, tokens):
            return 0.0
        for ticket in self._log:  # the oldest leave first: after which one is there room?
            count, held = count - 1, held - ticket.tokens
            if self._fits(count, held, tokens):
                return max(ticket.at + self.window + self.margin - now, 1e-3)
        return 0.0  # an empty window always has room (check() refused what never fits)

    async def acquire(self, tokens: int = 0) -> Ticket:
        """Wait until one request of ``tokens`` fits both quotas, then record it and return its ticket."""
        self.check(tokens)
        async with self._lock:  # first come, first served
            while True:
                now = self._clock()
                wait = self._wait_needed(tokens, now)
                if wait <= 0:
                    break
                await asyncio.sleep(wait)
            ticket = Ticket(now, int(tokens))
            if self.limited:
                self._log.append(ticket)
                self._tokens += ticket.tokens
            return ticket

    def settle(self, ticket: Ticket, tokens: int) -> None:
        """Count ``tokens`` for an admitted request if the truth (its usage) exceeds what was held."""
        extra = int(tokens) - ticket.tokens
        if extra > 0 and self.limited:
            ticket.tokens += extra
            if ticket in self._log:
                self._tokens += extra


def minimum_wall_time(charges: list[int], *, requests_per_minute: int | None, tokens_per_minute: int | None,
                      window: float = 60.0) -> float:
    """The least time (s) before the last of ``charges`` may be sent under the quotas, in order.

    Requests are packed in order into windows; a request that does not fit beside the ones
    before it waits until the window that admitted the first of them has passed. With equal
    charges this is exact for any schedule that keeps "at most the quota in every window"
    (request j cannot start before request j - m has left the window, m per window); with
    unequal ones it is the in-order packing. A paced run's wall time can be judged against it
    (the answers' own latency comes on top).

    >>> minimum_wall_time([500] * 10, requests_per_minute=None, tokens_per_minute=1000, window=60)
    240.0
    """
    windows, used_requests, used_tokens = 0, 0, 0
    for tokens in charges:
        fits_r = requests_per_minute is None or used_requests + 1 <= requests_per_minute
        fits_t = tokens_per_minute is None or used_tokens + tokens <= tokens_per_minute
        if not (fits_r and fits_t) and used_requests:
            windows, used_requests, used_tokens = windows + 1, 0, 0
        used_requests, used_tokens = used_requests + 1, used_tokens + tokens
    return windows * window

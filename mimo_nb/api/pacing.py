"""Pacing to an account's quotas: at most N requests and T tokens in any window (a minute).

:class:`Pacer` is a sliding-window log: it admits the next request as soon as its tokens (and
one request) fit beside what the last window holds. It is written here rather than taken from
a library because the rate limiters that fit an asyncio program admit too much against a
"per minute" quota: ``aiolimiter`` is a leaky bucket (a full bucket plus a minute of refill
lets twice the quota through within one minute), and ``limits``' moving window counts hits
but cannot wait for room or weigh a request by its tokens.

When does a request count? The server counts it at some moment we cannot see: when it
arrives, or when it is answered. Both lie between our admitting it and our receiving the
answer. So a request holds its place while it is in flight, and from the moment its answer (or
its error) reaches us it holds it for one more full window. No clock has to agree with the
server's and no network delay has to be guessed: whatever moment the server counts, its
window has ended before ours. The price is one round trip per window, a few percent of a
minute. Requests are admitted in order (first come, first served).

>>> import asyncio
>>> async def one_request(pacer: Pacer) -> None:
...     ticket = await pacer.acquire(tokens=3_000)   # waits until the window has room
...     ...                                          # send the request
...     pacer.settle(ticket, tokens=3_400)           # done; count the truth if it was larger
>>> asyncio.run(one_request(Pacer(requests_per_minute=60, tokens_per_minute=100_000)))
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mimo_nb.errors import LimitError

__all__ = ["Pacer", "Ticket", "minimum_wall_time", "check_count", "check_number"]


def check_count(value: Any, name: str, minimum: int = 1, *, none_ok: bool = False) -> int | None:
    """``value`` as a whole number of at least ``minimum`` (None if ``none_ok``), else
    :class:`LimitError`. A bool, a float (even 2.0), NaN or infinity is refused.

    >>> check_count(float("nan"), "concurrency")
    Traceback (most recent call last):
    ...
    mimo_nb.errors.LimitError: concurrency must be an integer of at least 1, got nan.
    """
    if value is None and none_ok:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        also = " or None" if none_ok else ""
        raise LimitError(f"{name} must be an integer of at least {minimum}{also}, got {value!r}.")
    return value


def check_number(value: Any, name: str, *, positive: bool, unit: str = "", hint: str = "") -> float:
    """``value`` as a finite number > 0 (``positive``) or >= 0, else :class:`LimitError`.

    A bool, NaN or infinity is refused: an infinite window would wait for ever, a NaN compares
    false with everything and so disables the check it is meant for.

    >>> check_number(float("inf"), "window", positive=True, unit=" of seconds")
    Traceback (most recent call last):
    ...
    mimo_nb.errors.LimitError: window must be a finite number of seconds > 0, got inf.
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or (value <= 0 if positive else value < 0)
    ):
        bound = "> 0" if positive else ">= 0"
        raise LimitError(f"{name} must be a finite number{unit} {bound}{hint}, got {value!r}.")
    return float(value)


@dataclass(eq=False)
class Ticket:
    """One admitted request: ``done`` is when its answer came (infinite while in flight)."""

    tokens: int
    done: float = math.inf


class Pacer:
    """Admit requests so that no window of ``window`` seconds holds more than the quotas.

    Args:
        requests_per_minute: at most this many requests per window (None: no request quota).
        tokens_per_minute: at most this many tokens per window (None: no token quota).
        window: the quota's period in seconds (60 for "per minute").
        margin: seconds added to the window, for a server whose clock runs slow (default 0).
        clock: a monotonic clock (seconds); tests may pass their own.
    """

    def __init__(
        self,
        requests_per_minute: int | None = None,
        tokens_per_minute: int | None = None,
        *,
        window: float = 60.0,
        margin: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.requests_per_minute = check_count(
            requests_per_minute, "requests_per_minute", none_ok=True
        )
        self.tokens_per_minute = check_count(tokens_per_minute, "tokens_per_minute", none_ok=True)
        self.window = check_number(
            window, "window", positive=True, unit=" of seconds", hint=" (60 for per-minute quotas)"
        )
        self.margin = check_number(margin, "margin", positive=False, unit=" of seconds")
        self._clock = clock
        self._log: list[Ticket] = []
        self._lock = asyncio.Lock()
        self._settled = asyncio.Event()

    @property
    def limited(self) -> bool:
        """True when there is a quota to keep."""
        return self.requests_per_minute is not None or self.tokens_per_minute is not None

    def check(self, tokens: int) -> None:
        """Raise :class:`LimitError` if a request of ``tokens`` could never fit the token quota."""
        if self.tokens_per_minute is not None and tokens > self.tokens_per_minute:
            raise LimitError(
                f"one request needs about {tokens:,} tokens but the quota is "
                f"{self.tokens_per_minute:,} tokens per window: it could never be sent. Lower fps "
                "or max_completion_tokens, or raise tokens_per_minute."
            )

    def _fits(self, count: int, held: int, tokens: int) -> bool:
        return (self.requests_per_minute is None or count + 1 <= self.requests_per_minute) and (
            self.tokens_per_minute is None or held + tokens <= self.tokens_per_minute
        )

    def _wait_needed(self, tokens: int, now: float) -> float | None:
        """Seconds until a request of ``tokens`` fits (0: now; None: only a request in flight can
        make room)."""
        span = self.window + self.margin
        self._log = [
            t for t in self._log if t.done > now - span
        ]  # those whose window has ended leave
        count, held = len(self._log), sum(t.tokens for t in self._log)
        if self._fits(count, held, tokens):
            return 0.0
        for ticket in sorted((t for t in self._log if t.done < math.inf), key=lambda t: t.done):
            count, held = count - 1, held - ticket.tokens  # the earliest answered leave first
            if self._fits(count, held, tokens):
                return max(ticket.done + span - now, 1e-3)
        return None

    async def acquire(self, tokens: int = 0) -> Ticket:
        """Wait until one request of ``tokens`` fits both quotas; it then holds its place until
        settled."""
        self.check(tokens)
        ticket = Ticket(int(tokens))
        if not self.limited:
            return ticket
        async with self._lock:  # first come, first served
            while (wait := self._wait_needed(ticket.tokens, self._clock())) != 0.0:
                self._settled.clear()
                try:  # until the oldest leaves, or an answer comes in and changes the picture
                    await asyncio.wait_for(self._settled.wait(), timeout=wait)
                except asyncio.TimeoutError:
                    pass
            self._log.append(ticket)
        return ticket

    def settle(self, ticket: Ticket, tokens: int | None = None) -> None:
        """The request is over (answered or failed): it holds its place for one window from now.

        ``tokens`` is what it really used (its usage), counted if more than it was admitted with.
        """
        ticket.done = self._clock()
        if tokens is not None and tokens > ticket.tokens:
            ticket.tokens = int(tokens)
        self._settled.set()


def minimum_wall_time(
    charges: list[int],
    *,
    requests_per_minute: int | None,
    tokens_per_minute: int | None,
    window: float = 60.0,
) -> float:
    """The least time (s) before the last of ``charges`` may be sent under the quotas, in order.

    Requests are packed in order into windows; a request that does not fit beside the ones
    before it waits until the window that admitted the first of them has passed. With equal
    charges this is exact for any schedule that keeps "at most the quota in every window"
    (request j cannot start before request j - m has left the window, m per window); with
    unequal ones it is the in-order packing. A paced run's wall time can be judged against it
    (the answers' own latency comes on top).

    >>> minimum_wall_time([500] * 10, requests_per_minute=None, tokens_per_minute=1000)
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

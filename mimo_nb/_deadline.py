"""Deadlines on the monotonic clock, and blocking work that must end by one.

httpx's timeouts bound each network operation (connect, one read, one write), not a call: a
server that sends a keep-alive byte every few seconds keeps a call alive for ever. A
:class:`Deadline` is the point in time by which a whole call must end; :func:`call_before` runs
blocking work on a worker thread and stops waiting for it at the deadline, so the caller gets its
answer or a timeout on time, whatever the socket does. The abandoned worker stops at its next
chunk (the loops below check :meth:`Deadline.check`) or when its own per-operation timeout fires,
and whatever it produced late is handed to ``discard`` (for example to close a response).

The async client needs none of this: ``asyncio.wait_for`` cancels the awaited operation.
"""

from __future__ import annotations

import contextvars
import math
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["Deadline", "DeadlineExceeded", "call_before"]

T = TypeVar("T")


class DeadlineExceeded(Exception):
    """The deadline passed; callers turn it into the right :class:`~mimo_nb.errors.MimoError`."""


class Deadline:
    """A moment on the monotonic clock, ``seconds`` from now; ``seconds=None`` never passes.

    >>> Deadline(None).remaining() is None, Deadline(5).remaining() <= 5
    (True, True)
    """

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.at = None if seconds is None else time.monotonic() + seconds

    def remaining(self) -> float | None:
        """Seconds left (never below 0), or None without a deadline."""
        return None if self.at is None else max(0.0, self.at - time.monotonic())

    def expired(self) -> bool:
        return self.at is not None and time.monotonic() >= self.at

    def check(self) -> None:
        """Raise :class:`DeadlineExceeded` once the deadline has passed."""
        if self.expired():
            raise DeadlineExceeded

    def cap(self, seconds: float | None) -> float | None:
        """``seconds`` (None: unbounded) limited to the time left."""
        left = self.remaining()
        if left is None:
            return seconds
        return left if seconds is None else min(seconds, left)

    def earliest(self, other: Deadline) -> Deadline:
        """The deadline that passes first."""
        if other.at is None or (self.at is not None and self.at <= other.at):
            return self
        return other

    def __repr__(self) -> str:
        left = self.remaining()
        return "Deadline(none)" if left is None else f"Deadline({left:.3f} s left)"


class _Outcome(Generic[T]):
    """What a worker produced, handed over once, under a lock, to whoever comes first."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.abandoned = False
        self.result: tuple[T] | None = None
        self.error: BaseException | None = None

    def settle(self, result: tuple[T] | None = None, error: BaseException | None = None) -> bool:
        """Record the result; False when the caller has already left (the result is late)."""
        with self.lock:
            if self.abandoned:
                return False
            self.result, self.error = result, error
            self.done.set()
            return True

    def abandon(self) -> bool:
        """Give up waiting; False when the result arrived just in time (then use it)."""
        with self.lock:
            if self.done.is_set():
                return False
            self.abandoned = True
            return True


def call_before(
    deadline: Deadline,
    work: Callable[[], T],
    *,
    discard: Callable[[T], object] | None = None,
    name: str = "mimo-nb-call",
) -> T:
    """``work()``, or :class:`DeadlineExceeded` when it has not returned by ``deadline``.

    Without a deadline the work runs on the calling thread. Otherwise it runs on a daemon thread
    (in a copy of the caller's context) while the caller waits; a result that comes after the
    caller left goes to ``discard``. Exceptions raised by ``work`` are re-raised here.

    >>> call_before(Deadline(1), lambda: 42)
    42
    """
    if deadline.at is None:
        return work()
    outcome: _Outcome[T] = _Outcome()
    context = contextvars.copy_context()

    def run() -> None:
        try:
            value = context.run(work)
        except BaseException as exc:  # noqa: BLE001  (handed to the caller, who re-raises it)
            outcome.settle(error=exc)
            return
        if not outcome.settle(result=(value,)) and discard is not None:
            try:
                discard(value)
            except Exception:  # noqa: BLE001  (nobody is left to tell)
                pass

    threading.Thread(target=run, name=name, daemon=True).start()
    left = deadline.remaining()
    try:
        arrived = outcome.done.wait(left if left is not None and math.isfinite(left) else None)
    except BaseException:  # KeyboardInterrupt in a notebook: the result, now or later, is discarded
        if not outcome.abandon() and outcome.result is not None and discard is not None:
            discard(outcome.result[0])
        raise
    if not arrived and outcome.abandon():
        raise DeadlineExceeded
    if outcome.error is not None:
        raise outcome.error
    assert outcome.result is not None
    return outcome.result[0]

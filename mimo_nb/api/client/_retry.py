"""When a call tries again, and how long it waits first: tenacity's policy for one call."""

from __future__ import annotations

import logging
import random
from typing import Any

from tenacity import RetryCallState, retry_if_exception

from mimo_nb._deadline import Deadline
from mimo_nb.api.client._options import ClientOptions
from mimo_nb.errors import APIStatusError
from mimo_nb.net.http import is_retryable

MAX_RETRY_AFTER = 60.0  # we honour Retry-After, but not beyond a minute

logger = logging.getLogger("mimo_nb.api.client")


class RetryPolicy:
    """When to try again, and how long to wait, for one call with its deadline.

    The delay before each retry is chosen once (the server's Retry-After, else exponential
    backoff with jitter) and used by both ``stop`` and ``wait``, whichever tenacity asks first:
    a retry whose wait would pass the deadline is not made, and the last error is raised.
    """

    def __init__(self, options: ClientOptions, deadline: Deadline) -> None:
        self._options = options
        self._deadline = deadline
        self._delays: dict[int, float] = {}

    def delay(self, state: RetryCallState) -> float:
        if state.attempt_number not in self._delays:
            exc = state.outcome.exception() if state.outcome else None
            retry_after = exc.retry_after if isinstance(exc, APIStatusError) else None
            if retry_after is not None:
                delay = min(retry_after, MAX_RETRY_AFTER)
            else:
                options = self._options
                ceiling = min(
                    options.retry_max_delay,
                    options.retry_base_delay * 2 ** (state.attempt_number - 1),
                )
                delay = ceiling * (
                    0.5 + random.random() / 2
                )  # "equal jitter": spread the herd, keep a floor
            self._delays[state.attempt_number] = delay
        return self._delays[state.attempt_number]

    def stop(self, state: RetryCallState) -> bool:
        if state.attempt_number > self._options.max_retries:
            return True
        left = self._deadline.remaining()
        return left is not None and self.delay(state) >= left

    def before_sleep(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        logger.warning(
            "MiMo request failed (%s); retry %d of %d in %.2f s",
            type(exc).__name__,
            state.attempt_number,
            self._options.max_retries,
            self.delay(state),
        )

    def options(self) -> dict[str, Any]:
        """Keyword arguments for tenacity's ``Retrying`` / ``AsyncRetrying``."""
        return {
            "stop": self.stop,
            "wait": self.delay,
            "retry": retry_if_exception(is_retryable),
            "before_sleep": self.before_sleep,
            "reraise": True,
        }
